package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// freePorts finds a base port with n free consecutive loopback ports after
// an index port (base-1). serve's ports are fixed by design, so tests
// cannot use :0.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.IntN(40000)
		var lns []net.Listener
		ok := true
		for p := base - 1; p < base+n; p++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func refused(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return true
}

// get fetches url from the index, which is served on 127.0.0.1 for the name
// app.wsslab.test with a certificate from roots (nil: the subprocess's
// unknown root; then the check is only that the index answers over TLS).
func get(t *testing.T, url string, roots *x509.CertPool) string {
	t.Helper()
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, InsecureSkipVerify: roots == nil},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

// TestServeAnswersAndStops: every scenario answers on base+index as its
// table row says the lax client sees it, the index lists them all and
// serves the root, and Close frees every port and removes the temp dir.
func TestServeAnswersAndStops(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	base := freePorts(t, len(scenarios.Table))
	s, err := startServe(t.Context(), serveConfig{BasePort: base})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	if len(s.Instances) != len(scenarios.Table) {
		t.Fatalf("%d servers, want %d", len(s.Instances), len(scenarios.Table))
	}
	lax := harness.Lax()
	for i, in := range s.Instances {
		if want := base + i; s.Ports[i] != want || !strings.HasSuffix(in.Endpoint.Addr, ":"+strconv.Itoa(want)) {
			t.Errorf("%s on %s, want port %d", in.Scenario.ID, in.Endpoint.Addr, want)
		}
		if r := in.Dial(t.Context(), lax); !r.Matched {
			t.Errorf("%s: lax got %s, want %s", in.Scenario.ID, r.Outcome, r.Expected)
		}
	}
	if s.IndexURL != fmt.Sprintf("https://%s:%d/", scenarios.PageHost, base-1) {
		t.Errorf("index at %s", s.IndexURL)
	}
	roots := s.lab.PKI.RootPool()
	index := get(t, s.IndexURL, roots)
	for _, in := range s.Instances {
		if !strings.Contains(index, in.Scenario.ID) || !strings.Contains(index, in.URL) {
			t.Errorf("index does not list %s at %s", in.Scenario.ID, in.URL)
		}
	}
	block, _ := pem.Decode([]byte(get(t, s.IndexURL+"root.pem", roots)))
	if block == nil {
		t.Fatal("root.pem from the index is not PEM")
	}
	if root, err := x509.ParseCertificate(block.Bytes); err != nil || !root.Equal(s.lab.PKI.Root.Cert) {
		t.Errorf("root.pem from the index is not the lab's root (%v)", err)
	}
	if _, err := os.Stat(s.RootFile); err != nil {
		t.Errorf("root file: %v", err)
	}

	s.Close()
	closed = true
	for _, p := range append([]int{base - 1}, s.Ports...) {
		if !refused(p) {
			t.Errorf("port %d still answers after Close", p)
		}
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s left behind (%v)", s.Dir, err)
	}
}

// TestServePortInUse: a taken port is one clear line, exit 2, and nothing
// started is left running.
func TestServePortInUse(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	base := freePorts(t, len(scenarios.Table))
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+1)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out, errb bytes.Buffer
	code := serveMain(t.Context(), []string{"--base-port", strconv.Itoa(base)}, &out, &errb)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	oneErrorLine(t, errb.String(), fmt.Sprintf("port %d (%s) is in use", base+1, scenarios.Table[1].ID))
	if !refused(base) {
		t.Errorf("port %d still answers after a failed start", base)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestServeBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--base-port", "80"}, "--base-port 80: want 0 (any free ports) or a port in 1024-"},
		{[]string{"--base-port", "65530"}, "--base-port 65530: want 0 (any free ports) or a port in 1024-"},
		{[]string{"--base-port", "20000", "--index-port", "20001"}, "outside the scenario ports"},
		{[]string{"--scenario", "nope"}, `unknown scenario "nope"`},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--base-port", "x"}, "invalid value"},
	} {
		var out, errb bytes.Buffer
		if code := serveMain(t.Context(), tc.args, &out, &errb); code != exitUsage {
			t.Errorf("serve %q: exit %d", tc.args, code)
		}
		oneErrorLine(t, errb.String(), tc.want)
	}
}

// TestServeStopsOnSignal runs the real command and stops it with SIGINT, as
// Ctrl-C does: exit 0, every port freed, the temp dir gone.
func TestServeStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			base := freePorts(t, len(scenarios.Table))
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := wsslab(ctx, "serve", "--base-port", strconv.Itoa(base))
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			var out strings.Builder
			for lines.Scan() {
				out.WriteString(lines.Text() + "\n")
				if strings.HasPrefix(lines.Text(), "Press Ctrl-C") {
					break
				}
			}
			if !strings.Contains(out.String(), "Press Ctrl-C") {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("serve did not come up:\n%s\n%s", out.String(), stderr.String())
			}
			get(t, fmt.Sprintf("https://%s:%d/", scenarios.PageHost, base-1), nil)
			if refused(base) {
				t.Errorf("port %d does not answer", base)
			}
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(stdout)
			if err := cmd.Wait(); err != nil {
				t.Errorf("serve after %v: %v\n%s", sig, err, stderr.String())
			}
			if !strings.Contains(string(rest), "Stopped") {
				t.Errorf("no stop message: %q", rest)
			}
			for p := base - 1; p < base+len(scenarios.Table); p++ {
				if !refused(p) {
					t.Errorf("port %d still answers", p)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// TestServeInBrowser follows serve's own instructions: a throwaway NSS
// database trusting root.pem, the resolver rules, the index page. Every Try
// button must end as the table says Chrome does.
func TestServeInBrowser(t *testing.T) {
	needBrowser(t)
	base := freePorts(t, len(scenarios.Table))
	s, err := startServe(t.Context(), serveConfig{BasePort: base, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	home, err := harness.NewTrustHome(harness.MkdirTempFor(t, "test"), []*x509.Certificate{s.lab.PKI.Root.Cert})
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := harness.FindChromium()
	dir := harness.MkdirTempFor(t, "test")
	profile := filepath.Join(dir, "profile")
	opts := append(harness.AllocatorOptions(exe, profile),
		chromedp.Env("HOME="+home),
		chromedp.Flag("host-resolver-rules", "MAP *.wsslab.test 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc(); harness.RemoveSingletonDir(profile) })
	ctx, cancelT := context.WithTimeout(ctx, time.Minute)
	defer cancelT()
	// The console says why a Try failed; shown when the test fails.
	var consoleMu sync.Mutex
	var console []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && e.Entry != nil {
			consoleMu.Lock()
			console = append(console, e.Entry.Text)
			consoleMu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := harness.TrackBrowser(ctx, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			consoleMu.Lock()
			defer consoleMu.Unlock()
			t.Logf("console:\n  %s", strings.Join(console, "\n  "))
		}
	})
	if err := harness.Navigate(ctx, s.IndexURL); err != nil {
		t.Fatal(err)
	}
	clickAll := func(which []int) []string {
		t.Helper()
		js, _ := json.Marshal(which)
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const bs = [...document.querySelectorAll("button[data-endpoint]")];
			for (const i of %s) { bs[i].nextElementSibling.textContent = ""; bs[i].click(); }
		})()`, js))); err != nil {
			t.Fatal(err)
		}
		results, err := chromedp.Run(ctx, chromedp.Poll[[]string](`(() => {
			const r = [...document.querySelectorAll(".res")].map(e => e.textContent);
			return r.every(x => x && x !== "connecting...") ? r : null;
		})()`, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		return results
	}
	want := make([]string, len(s.Instances))
	all := make([]int, len(s.Instances))
	for i, in := range s.Instances {
		all[i] = i
		want[i] = "error, close code 1006"
		switch in.Scenario.Want.Browser {
		case harness.Connected:
			want[i] = "connected, echo"
		case harness.Blocked:
			want[i] = "threw SecurityError"
		}
	}
	results := clickAll(all)
	// Chrome aborts HTTP requests in flight (the cookie row's login) with
	// net::ERR_NETWORK_CHANGED when the host's interfaces change, e.g. while
	// a parallel test package starts containers: that is the machine, so
	// those rows are tried once more.
	consoleMu.Lock()
	changed := strings.Contains(strings.Join(console, "\n"), "ERR_NETWORK_CHANGED")
	consoleMu.Unlock()
	if changed {
		var again []int
		for i := range s.Instances {
			if !strings.HasPrefix(results[i], want[i]) {
				again = append(again, i)
			}
		}
		if len(again) > 0 {
			t.Logf("the host's network changed during the clicks; trying %v again", again)
			results = clickAll(again)
		}
	}
	for i, in := range s.Instances {
		if !strings.HasPrefix(results[i], want[i]) {
			t.Errorf("%s: page shows %q, want %q", in.Scenario.ID, results[i], want[i])
		}
	}
}
