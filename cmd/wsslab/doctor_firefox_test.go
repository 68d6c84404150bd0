package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/doctor"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// needFirefox skips (fails under CI=true) without Firefox or certutil.
func needFirefox(t *testing.T) {
	t.Helper()
	testenv.Need(t, "firefox", harness.CheckFirefoxTools())
}

// withoutFirefoxNote drops the Note --browser prints when Firefox is not
// installed, for tests of Chrome's side.
func withoutFirefoxNote(stderr string) string {
	var keep []string
	for _, line := range strings.SplitAfter(stderr, "\n") {
		if !strings.HasPrefix(line, "Note: --browser: Firefox not installed (") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

// plainWSPort serves plain ws:// (no TLS) on a loopback port: the
// article's server with ssl=None.
func plainWSPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: harness.EchoHandler(harness.ServerOptions{}, &harness.Recorder{}), ErrorLog: log.New(io.Discard, "", 0)}
	t.Cleanup(func() { srv.Close() })
	go srv.Serve(ln)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// doctorReport is the part of --json's report the Firefox tests read.
type doctorReport struct {
	Schema     int `json:"schema"`
	Prediction struct {
		Verdict  string `json:"verdict"`
		NetError string `json:"net_error"`
	} `json:"prediction"`
	Observed *struct {
		Version  string `json:"version"`
		Verdict  string `json:"verdict"`
		NetError string `json:"net_error"`
		Agrees   bool   `json:"agrees"`
	} `json:"observed"`
	ObservedFirefox *struct {
		Version     string   `json:"version"`
		Verdict     string   `json:"verdict"`
		Outcome     string   `json:"outcome"`
		Reason      string   `json:"reason"`
		Origin      string   `json:"origin"`
		SameVerdict *bool    `json:"same_verdict_as_prediction"`
		Skipped     string   `json:"skipped"`
		Evidence    []string `json:"evidence"`
	} `json:"observed_firefox"`
}

// TestDoctorBrowserFirefox: --browser dials with real Chromium and real
// Firefox and prints one line for each. Every expected Firefox reason is
// what Firefox ESR 153.8 really did (its NSS code from BiDi's
// network.fetchError); exit codes follow Chrome.
func TestDoctorBrowserFirefox(t *testing.T) {
	needBrowser(t)
	needFirefox(t)
	l := newDoctorLab(t)
	valid := certs.Request{DNSNames: []string{"ok.wsslab.test"}}
	cases := []struct {
		name string
		args func(t *testing.T) []string
		code int
		// chrome and firefox are the text lines wanted.
		chrome, firefox string
	}{
		{"valid", func(t *testing.T) []string {
			return l.serve(t, "ok.wsslab.test", valid, harness.ServerOptions{})
		}, exitOK, "  chrome     connects (agrees with the prediction)", "  firefox    connects (same verdict as Chrome's prediction)"},
		{"self-signed", func(t *testing.T) []string {
			return l.serve(t, "ok.wsslab.test", certs.Request{DNSNames: []string{"ok.wsslab.test"}, Defects: []certs.Defect{certs.SelfSigned}}, harness.ServerOptions{})
		}, exitMismatch, "  chrome     fails: net::ERR_CERT_AUTHORITY_INVALID (agrees with the prediction)",
			"  firefox    fails: MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT (same verdict as Chrome's prediction)"},
		// A CA-issued chain whose root neither browser trusts (no --ca).
		{"root-not-trusted", func(t *testing.T) []string {
			return l.serve(t, "ok.wsslab.test", valid, harness.ServerOptions{})[2:]
		}, exitMismatch, "  chrome     fails: net::ERR_CERT_AUTHORITY_INVALID (agrees with the prediction)",
			"  firefox    fails: SEC_ERROR_UNKNOWN_ISSUER (same verdict as Chrome's prediction)"},
		// The article's server: ssl=None serves ws:// where the page dials wss://.
		{"plain-ws-behind-wss", func(t *testing.T) []string {
			return []string{"--timeout", "3s", "wss://127.0.0.1:" + plainWSPort(t) + "/"}
		}, exitMismatch, "  chrome     fails: net::ERR_SSL_PROTOCOL_ERROR (agrees with the prediction)",
			"  firefox    fails: SSL_ERROR_RX_RECORD_TOO_LONG (same verdict as Chrome's prediction)"},
		// ws:// to a TLS port, from doctor's https page (loopback is no
		// mixed content for either browser).
		{"tls-behind-ws", func(t *testing.T) []string {
			args := l.serve(t, "ok.wsslab.test", valid, harness.ServerOptions{})
			u := args[len(args)-1]
			return []string{"--timeout", "3s", "ws://127.0.0.1:" + u[strings.LastIndex(u, ":")+1:]}
		}, exitMismatch, "  chrome     fails: Unexpected response code: 400 (agrees with the prediction)",
			"  firefox    fails: HTTP 400 (same verdict as Chrome's prediction)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := doctorRun(t, append([]string{"--browser"}, c.args(t)...)...)
			if code != c.code || !strings.Contains(out, c.chrome+"\n") || !strings.Contains(out, c.firefox+"\n") || errOut != "" {
				t.Errorf("exit %d (want %d), want lines %q and %q, no stderr:\n%s%s", code, c.code, c.chrome, c.firefox, out, errOut)
			}
			if !strings.Contains(out, "Real browsers (Chrome/") || !strings.Contains(out, ", Firefox/") {
				t.Errorf("no versions line:\n%s", out)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "  chrome ") || strings.HasPrefix(line, "  firefox ") || strings.HasPrefix(line, "Real browsers") {
					if len(line) >= 120 {
						t.Errorf("line of %d columns: %q", len(line), line)
					}
				}
			}
		})
	}
}

// TestDoctorBrowserFirefoxJSON: --json has observed_firefox beside
// observed (schema stays 2: a field was added), with Firefox's reason and
// whether its verdict is the one predicted for Chrome.
func TestDoctorBrowserFirefoxJSON(t *testing.T) {
	needBrowser(t)
	needFirefox(t)
	l := newDoctorLab(t)
	args := l.serve(t, "ok.wsslab.test", certs.Request{DNSNames: []string{"ok.wsslab.test"}, Defects: []certs.Defect{certs.SelfSigned}}, harness.ServerOptions{})
	code, out, errOut := doctorRun(t, append([]string{"--browser", "--json"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s%s", code, err, out, errOut)
	}
	f := rep.ObservedFirefox
	if code != exitMismatch || rep.Schema != 2 || rep.Observed == nil || !rep.Observed.Agrees || f == nil {
		t.Fatalf("exit %d, schema %d, observed %+v, observed_firefox %+v\n%s", code, rep.Schema, rep.Observed, f, errOut)
	}
	if !strings.HasPrefix(f.Version, "Firefox/") || f.Verdict != "fails" || f.Outcome != string(harness.CertUntrusted) ||
		f.Reason != "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT" || f.SameVerdict == nil || !*f.SameVerdict || f.Skipped != "" ||
		f.Origin != doctor.DefaultOrigin || !slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.Contains(e, "network.fetchError") }) {
		t.Errorf("observed_firefox = %+v", f)
	}
	// The keys, in order: observed_firefox right after observed.
	if i, j := strings.Index(out, `"observed":`), strings.Index(out, `"observed_firefox":`); i < 0 || j < i {
		t.Errorf("observed_firefox does not follow observed:\n%s", out)
	}
}

// TestDoctorBrowserFirefoxSkips: when Firefox cannot dial as Chrome does,
// one Note says why and Chrome still runs: --resolve to another address
// than 127.0.0.1, and no Firefox installed. An --origin on the endpoint's
// own port is served to Firefox at doctor's page host, with a Note.
func TestDoctorBrowserFirefoxSkips(t *testing.T) {
	needBrowser(t)
	needFirefox(t)
	l := newDoctorLab(t)
	leaf, err := l.pki.Mint(certs.Request{DNSNames: []string{"ok.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("resolve-127.0.0.2", func(t *testing.T) {
		s, err := harness.NewServer(harness.ServerConfig{Host: "ok.wsslab.test", Listen: "127.0.0.2:0", Certificate: leaf.TLSCertificate()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		code, out, errOut := doctorRun(t, "--browser", "--ca", l.root, "--no-system-roots", "--timeout", "3s",
			"--resolve", fmt.Sprintf("ok.wsslab.test:%d:127.0.0.2", s.Port()), fmt.Sprintf("wss://ok.wsslab.test:%d/", s.Port()))
		note := fmt.Sprintf("Note: --browser: Firefox skipped: --resolve ok.wsslab.test:%d:127.0.0.2 maps to 127.0.0.2, and wsslab's Firefox can send names only to 127.0.0.1", s.Port())
		if code != exitOK || !strings.Contains(out, "  chrome     connects (agrees with the prediction)\n") ||
			!strings.Contains(out, "  firefox    skipped (see the Note on stderr)\n") || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, note) {
			t.Errorf("exit %d, want 0, Chrome connecting, one note %q:\n%s%s", code, note, out, errOut)
		}
	})
	t.Run("not-installed", func(t *testing.T) {
		t.Setenv("WSSLAB_FIREFOX", "/nonexistent/firefox-esr")
		args := l.serveCert(t, "ok.wsslab.test", leaf.TLSCertificate(), harness.ServerOptions{})
		code, out, errOut := doctorRun(t, append([]string{"--browser"}, args...)...)
		if code != exitOK || !strings.Contains(out, "  chrome     connects (agrees with the prediction)\n") ||
			strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "Note: --browser: Firefox not installed (") ||
			!strings.Contains(errOut, "apt-get install -y --no-install-recommends firefox-esr") {
			t.Errorf("exit %d, want 0, Chrome connecting, one not-installed note:\n%s%s", code, out, errOut)
		}
	})
	// The server accepts the front end's origin on any port, and records
	// which Origin Firefox sent.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	echo := harness.EchoHandler(harness.ServerOptions{}, &harness.Recorder{})
	var mu sync.Mutex
	var firefoxOrigins []string
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := r.Header.Get("Origin")
		if strings.Contains(r.UserAgent(), "Firefox/") {
			mu.Lock()
			firefoxOrigins = append(firefoxOrigins, o)
			mu.Unlock()
		}
		if !strings.HasPrefix(o, "https://front.wsslab.test") {
			http.Error(w, "origin "+o+" not allowed", http.StatusForbidden)
			return
		}
		echo.ServeHTTP(w, r)
	})}
	go srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}))
	t.Cleanup(func() { srv.Close() })
	originArgs := []string{"--ca", l.root, "--no-system-roots", "--timeout", "3s",
		"--resolve", fmt.Sprintf("ok.wsslab.test:%d:127.0.0.1", port), fmt.Sprintf("wss://ok.wsslab.test:%d/", port)}
	t.Run("origin", func(t *testing.T) {
		// Firefox's page is at https://front.wsslab.test (port 443 moved to
		// the page server), so Firefox sends exactly that Origin.
		code, out, errOut := doctorRun(t, append([]string{"--browser", "--origin", "https://front.wsslab.test"}, originArgs...)...)
		mu.Lock()
		got := slices.Clone(firefoxOrigins)
		firefoxOrigins = nil
		mu.Unlock()
		if code != exitOK || !strings.Contains(out, "  chrome     connects (agrees with the prediction)\n") ||
			!strings.Contains(out, "  firefox    connects (same verdict as Chrome's prediction)\n") || errOut != "" ||
			!slices.Equal(got, []string{"https://front.wsslab.test"}) {
			t.Errorf("exit %d, want 0, both connecting, no note, Firefox's Origin https://front.wsslab.test (got %q):\n%s%s", code, got, out, errOut)
		}
	})
	t.Run("origin-on-endpoint-port", func(t *testing.T) {
		origin := fmt.Sprintf("https://front.wsslab.test:%d", port)
		code, out, errOut := doctorRun(t, append([]string{"--browser", "--origin", origin}, originArgs...)...)
		note := fmt.Sprintf("Note: --browser: Firefox sends a different Origin, https://%s:", doctor.PageHost)
		if code != exitOK || !strings.Contains(out, "  chrome     connects (agrees with the prediction)\n") ||
			!strings.Contains(out, "  firefox    fails: HTTP 403 (differs from Chrome's prediction)\n") ||
			strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, note) || !strings.Contains(errOut, origin) {
			t.Errorf("exit %d, want 0, Chrome connecting, Firefox refused, one note %q:\n%s%s", code, note, out, errOut)
		}
	})
}

// TestDoctorBrowserInterruptFirefox: SIGINT while Firefox starts, and once
// it listens for BiDi (doctor waits on a server that never answers), ends
// doctor with 130 and leaves nothing: no temp dir, no Chromium or Firefox
// process in its TMPDIR.
func TestDoctorBrowserInterruptFirefox(t *testing.T) {
	needBrowser(t)
	needFirefox(t)
	for _, c := range []struct {
		name string
		// marker is the file in Firefox's temp dir that must exist first.
		marker string
	}{
		{"starting", ".wsslab-procs"},
		{"started", filepath.Join("profile", "WebDriverBiDiServer.json")},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp, err := os.MkdirTemp("", "interrupttest-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			port := listen(t, func(net.Conn) { <-release })
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := wsslab(ctx, "doctor", "--browser", "--timeout", "60s", "wss://127.0.0.1:"+port+"/")
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			// Both browsers have recorded their process groups.
			running := func() bool {
				ff, _ := filepath.Glob(filepath.Join(tmp, "wsslab-firefox-*", c.marker))
				all, _ := filepath.Glob(filepath.Join(tmp, "wsslab-*", ".wsslab-procs"))
				return len(ff) == 1 && len(all) == 2
			}
			deadline := time.Now().Add(time.Minute)
			for !running() && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !running() {
				es, _ := os.ReadDir(tmp)
				t.Fatalf("Chromium and Firefox did not both start within a minute: %v\n%s", es, errb.String())
			}
			cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("doctor still running 30 s after SIGINT")
			}
			if got := cmd.ProcessState.ExitCode(); got != exitInterrupted {
				t.Errorf("exit %d, want %d; stderr %q", got, exitInterrupted, errb.String())
			}
			oneErrorLine(t, errb.String(), "interrupted")
			if es, _ := os.ReadDir(tmp); len(es) > 0 {
				var names []string
				for _, e := range es {
					names = append(names, e.Name())
				}
				t.Errorf("left in TMPDIR after SIGINT: %v", names)
			}
			if using := harness.ProcessesUsing(tmp); len(using) > 0 {
				t.Errorf("processes left using %s: %v", tmp, using)
			}
		})
	}
}

// TestBrowserLineWidth: a browser's line stays under 120 columns; a comment
// that does not fit goes on the next line.
func TestBrowserLineWidth(t *testing.T) {
	var b bytes.Buffer
	browserLine(&b, "chrome", "fails: net::ERR_CERT_COMMON_NAME_INVALID", "DISAGREES with the prediction: doctor's model is wrong here, please report it")
	browserLine(&b, "firefox", "fails: SEC_ERROR_UNKNOWN_ISSUER", "same verdict as Chrome's prediction")
	want := "  chrome     fails: net::ERR_CERT_COMMON_NAME_INVALID\n" +
		"             (DISAGREES with the prediction: doctor's model is wrong here, please report it)\n" +
		"  firefox    fails: SEC_ERROR_UNKNOWN_ISSUER (same verdict as Chrome's prediction)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
