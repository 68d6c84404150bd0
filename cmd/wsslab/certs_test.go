package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
	"github.com/wsslab/wsslab/scenarios"
)

// TestCertsOpenSSL writes every scenario's files and runs every openssl
// command `wsslab certs` prints: each must exit and print as announced. The
// s_client command runs against the scenario's server, started as `wsslab
// serve` starts it but on a free port.
func TestCertsOpenSSL(t *testing.T) {
	needTool(t, "openssl", "openssl")
	lab, err := scenarios.NewLab()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	labRoot := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(labRoot, certs.PEM(lab.PKI.Root.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
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
			printed := sClientCheck(sc, defaultBasePort+tableIndex(sc.ID), serveRootFile)
			if !strings.Contains(out.String(), printed.Command()+" </dev/null\n") || !strings.Contains(out.String(), printed.Look) {
				t.Errorf("s_client command or its result not printed: %s", printed.Command())
			}
			in, err := lab.Start(t.Context(), sc, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			_, port, err := net.SplitHostPort(in.Endpoint.Addr)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := strconv.Atoi(port)
			for _, c := range articleChecklist(sc, dir, in.Endpoint.Addr, labRoot) {
				printed := articleChecklist(sc, dir, net.JoinHostPort("127.0.0.1", strconv.Itoa(defaultBasePort+tableIndex(sc.ID))), serveRootFile)
				if !slices.ContainsFunc(printed, func(p articleCheck) bool { return strings.Contains(out.String(), "\n  "+p.Shell()+"\n") }) {
					t.Errorf("the article's checks are not printed")
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang guard only
				got, err := exec.CommandContext(ctx, "sh", "-c", c.Shell()).CombinedOutput()
				cancel()
				if failed := err != nil; failed != c.Fails {
					t.Errorf("%s\nfailed=%v, want %v:\n%s", c.Shell(), failed, c.Fails, got)
				}
				if !strings.Contains(string(got), c.Look) {
					t.Errorf("%s\nwant output containing %q, got:\n%s", c.Shell(), c.Look, got)
				}
				if c.Args[0] == "s_client" {
					// The article's reading: OK is the last verify line saying 0 (ok).
					if ok := strings.Contains(string(got), "Verify return code: 0 (ok)"); ok != c.OK {
						t.Errorf("%s\nreader's OK=%v, model says %v:\n%s", c.Shell(), ok, c.OK, got)
					}
				}
			}
			for _, c := range append(opensslChecks(sc, dir), sClientCheck(sc, n, labRoot)) {
				if c.Args[0] != "s_client" && !strings.Contains(out.String(), c.Command()) {
					t.Errorf("command not printed: %s", c.Command())
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)                // a hang guard only
				got, err := exec.CommandContext(ctx, "openssl", c.Args...).CombinedOutput() // stdin: /dev/null
				cancel()
				if failed := err != nil; failed != c.Fails {
					t.Errorf("%s\nfailed=%v, want %v:\n%s", c.Command(), failed, c.Fails, got)
				}
				if !strings.Contains(string(got), c.Look) {
					t.Errorf("%s\nwant output containing %q, got:\n%s", c.Command(), c.Look, got)
				}
				// "OK" is openssl verify's verdict line, FILE: OK, and nothing else.
				if verified := strings.Contains(string(got), c.Args[len(c.Args)-1]+": OK\n"); c.Args[0] == "verify" && verified != (c.Look == "OK") {
					t.Errorf("%s\nverified=%v, want %v:\n%s", c.Command(), verified, c.Look == "OK", got)
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
		fails, _ := verifyExpectation(sc)
		strict := sc.Want.Verifying
		certVerdict := strict == harness.Connected || strings.HasPrefix(string(strict), "cert-")
		if !certVerdict {
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
		{[]string{"expired", t.TempDir(), "extra"}, "got 3 argument(s)"},
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

// certbotLive makes certbot's live/ layout, privkey.pem a symlink into
// archive/, and returns live/ and the archived key.
func certbotLive(t *testing.T) (live, archived string) {
	t.Helper()
	root := t.TempDir()
	live, archived = filepath.Join(root, "le"), filepath.Join(root, "archive", "privkey1.pem")
	for _, d := range []string{live, filepath.Dir(archived)} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(archived, []byte("the user's real key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../archive/privkey1.pem", filepath.Join(live, "privkey.pem")); err != nil {
		t.Fatal(err)
	}
	return live, archived
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// The issue's repro: `ln -s ../archive/privkey1.pem le/privkey.pem; wsslab
// certs valid-fullchain le` replaced the archived key. Now it refuses, in one
// line naming the file and --force; with --force it replaces the link itself.
func TestCertsRefusesOverwrite(t *testing.T) {
	live, archived := certbotLive(t)
	unchanged := func() {
		t.Helper()
		if got, err := os.ReadFile(archived); err != nil || string(got) != "the user's real key\n" {
			t.Fatalf("archived key now %q (%v)", got, err)
		}
	}
	var out, errb bytes.Buffer
	if code := certsMain([]string{"valid-fullchain", live}, &out, &errb); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	oneErrorLine(t, errb.String(), filepath.Join(live, "privkey.pem"))
	oneErrorLine(t, errb.String(), "--force")
	unchanged()
	if got := dirNames(t, live); len(got) != 1 {
		t.Errorf("le/ holds %q after the refusal, want only the symlink", got)
	}

	// --force after the arguments, as one adds it to the line just run.
	out.Reset()
	errb.Reset()
	if code := certsMain([]string{"valid-fullchain", live, "--force"}, &out, &errb); code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, errb.String())
	}
	unchanged()
	fi, err := os.Lstat(filepath.Join(live, "privkey.pem"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("privkey.pem after --force: %v %v, want a regular file, mode 0600", fi.Mode(), err)
	}
	if got := dirNames(t, live); len(got) != 7 {
		t.Errorf("le/ = %q, want the 7 files and nothing else", got)
	}

	// Now every file exists: refused again without --force, the first named.
	errb.Reset()
	if code := certsMain([]string{"valid-fullchain", live}, &out, &errb); code != exitUsage {
		t.Errorf("second run: exit %d", code)
	}
	oneErrorLine(t, errb.String(), filepath.Join(live, "cert.pem"))
	if code := certsMain([]string{"--force", "expired", live}, &out, &errb); code != exitOK {
		t.Errorf("--force first: exit %d", code)
	}
	// Through the real binary: exit code and one line.
	_, stderr, code := runWsslab(t, "certs", "valid-fullchain", live)
	if code != exitUsage {
		t.Errorf("wsslab certs over existing files: exit %d", code)
	}
	oneErrorLine(t, stderr, "--force")
}

// A full disk is one ERROR line and leaves no 0-byte file (before the fix:
// the first files written, the rest 0 bytes). The tmpfs is mounted in a
// mount namespace of its own (a child run of this test), so a killed test
// leaves no mount behind.
func TestCertsFullDisk(t *testing.T) {
	const marker = "WSSLAB_TEST_MOUNT_NAMESPACE"
	if os.Getenv(marker) != "1" {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang guard only
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), marker+"=1")
		// Go makes the new namespace's mounts private before exec.
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err != nil && !errors.As(err, &exit):
			testenv.Missing(t, "root", fmt.Errorf("new mount namespace: %v: needs root (certs' TestWriteFilesFailingWrite covers the logic)", err))
		case err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()):
			t.Errorf("in its own mount namespace: %v\n%s", err, out)
		}
		return
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8k"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	var out, errb bytes.Buffer
	if code := certsMain([]string{"valid-fullchain", dir}, &out, &errb); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	oneErrorLine(t, errb.String(), "no space left on device")
	if strings.Contains(errb.String(), ".tmp-") || !strings.Contains(errb.String(), dir+"/") {
		t.Errorf("the error should name the file asked for, not a temporary one: %q", errb.String())
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("a full disk left %q", got)
	}
}
