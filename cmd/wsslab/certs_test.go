package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// TestCertsOpenSSL writes every scenario's files and runs every openssl
// command `wsslab certs` prints: each must exit and print as announced.
func TestCertsOpenSSL(t *testing.T) {
	needTool(t, "openssl", "openssl")
	for _, sc := range scenarios.Table {
		if sc.Server.Plain {
			continue // no certificate; certs refuses it (TestCertsPlain)
		}
		t.Run(sc.ID, func(t *testing.T) {
			dir := t.TempDir()
			var out, errb bytes.Buffer
			if code := certsMain([]string{sc.ID, dir}, &out, &errb); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			for _, name := range []string{"cert.pem", "chain.pem", "fullchain.pem", "privkey.pem", "root.pem", servedFile, trustedRootFile} {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("missing %s: %v", name, err)
				}
			}
			for _, c := range opensslChecks(sc, dir) {
				if !strings.Contains(out.String(), c.Command()) {
					t.Errorf("command not printed: %s", c.Command())
				}
				got, err := exec.Command("openssl", c.Args...).CombinedOutput()
				if c.Unsure {
					continue
				}
				if failed := err != nil; failed != c.Fails {
					t.Errorf("%s\nfailed=%v, want %v:\n%s", c.Command(), failed, c.Fails, got)
				}
				if !strings.Contains(string(got), c.Look) {
					t.Errorf("%s\nwant output containing %q, got:\n%s", c.Command(), c.Look, got)
				}
			}
		})
	}
}

// TestCertsOpenSSLAgreesWithStrict: where the strict Go client's verdict is
// about the certificate, openssl verify on the served chain agrees with it.
func TestCertsOpenSSLAgreesWithStrict(t *testing.T) {
	for _, sc := range scenarios.Table {
		if sc.Server.Plain || sc.Cert.Has(certs.NoSAN) && net.ParseIP(sc.Host) == nil {
			// No certificate; or a DNS name only in the CN, where OpenSSL
			// falls back to the CN and Go (like browsers) does not.
			continue
		}
		fails, _, unsure := verifyExpectation(sc)
		strict := sc.Want.Verifying
		certVerdict := strict == harness.Connected || strings.HasPrefix(string(strict), "cert-")
		if unsure || !certVerdict {
			continue
		}
		if fails != (strict != harness.Connected) {
			t.Errorf("%s: openssl verify fails=%v, strict client %s", sc.ID, fails, strict)
		}
	}
}

// TestCertsFiles checks the brief's promises directly: each PEM parses, the
// valid chain verifies, cert.pem of missing-intermediate fails without
// chain.pem, and the expired leaf fails with "certificate has expired".
func TestCertsFiles(t *testing.T) {
	needTool(t, "openssl", "openssl")
	write := func(id string) string {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		if code := certsMain([]string{id, dir}, &out, &errb); code != exitOK {
			t.Fatalf("certs %s: exit %d: %s", id, code, errb.String())
		}
		return dir
	}
	openssl := func(args ...string) (string, bool) {
		out, err := exec.Command("openssl", args...).CombinedOutput()
		return string(out), err == nil
	}
	valid := write("valid-fullchain")
	for _, name := range []string{"cert.pem", "chain.pem", "fullchain.pem", "root.pem", trustedRootFile} {
		if out, ok := openssl("x509", "-in", filepath.Join(valid, name), "-noout", "-subject"); !ok {
			t.Errorf("openssl x509 %s: %s", name, out)
		}
	}
	if out, ok := openssl("pkey", "-in", filepath.Join(valid, "privkey.pem"), "-noout"); !ok {
		t.Errorf("openssl pkey privkey.pem: %s", out)
	}
	if out, ok := openssl("verify", "-CAfile", filepath.Join(valid, trustedRootFile), "-untrusted", filepath.Join(valid, "chain.pem"), filepath.Join(valid, "cert.pem")); !ok {
		t.Errorf("valid chain does not verify: %s", out)
	}
	mi := write("missing-intermediate")
	if out, ok := openssl("verify", "-CAfile", filepath.Join(mi, trustedRootFile), filepath.Join(mi, "cert.pem")); ok || !strings.Contains(out, "unable to get local issuer certificate") {
		t.Errorf("missing-intermediate cert.pem alone: ok=%v %s", ok, out)
	}
	if out, ok := openssl("verify", "-CAfile", filepath.Join(mi, trustedRootFile), "-untrusted", filepath.Join(mi, "chain.pem"), filepath.Join(mi, "cert.pem")); !ok {
		t.Errorf("missing-intermediate with chain.pem: %s", out)
	}
	exp := write("expired")
	if out, ok := openssl("verify", "-CAfile", filepath.Join(exp, trustedRootFile), "-untrusted", filepath.Join(exp, "chain.pem"), filepath.Join(exp, "cert.pem")); ok || !strings.Contains(out, "certificate has expired") {
		t.Errorf("expired: ok=%v %s", ok, out)
	}
}

func TestCertsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"no-such-scenario", t.TempDir()}, `unknown scenario "no-such-scenario"`},
		{[]string{"expired"}, "want SCENARIO DIR"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"expired", "/proc/wsslab-cannot-write"}, "certs:"},
	} {
		var out, errb bytes.Buffer
		if code := certsMain(tc.args, &out, &errb); code != exitUsage {
			t.Errorf("certs %q: exit %d, want %d", tc.args, code, exitUsage)
		}
		oneErrorLine(t, errb.String(), tc.want)
	}
	// Through the real binary too: exit code and one line.
	_, stderr, code := runWsslab(t, "certs", "nope", t.TempDir())
	if code != exitUsage {
		t.Errorf("wsslab certs nope: exit %d", code)
	}
	oneErrorLine(t, stderr, "unknown scenario")
}

func TestCertsPlain(t *testing.T) {
	var out, errb bytes.Buffer
	if code := certsMain([]string{"mixed-content", t.TempDir()}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "plain ws://") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
