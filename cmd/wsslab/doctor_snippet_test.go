package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/internal/testenv"
)

// startArticleServer runs doctor/testdata/snippet_server.py (the article's
// Python server, as printed with its import fixed, or corrected) on
// Debian's python3-websockets and returns its port.
func startArticleServer(t *testing.T, mode, certFile, keyFile string) string {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import websockets").Run(); err != nil {
		testenv.Missing(t, "python", errors.New("needs Debian's python3 with websockets: apt-get install -y python3-websockets ("+err.Error()+")"))
	}
	cmd := exec.Command(python, filepath.Join("..", "..", "doctor", "testdata", "snippet_server.py"), mode, certFile, keyFile)
	return testenv.StartReady(t, cmd, "READY ")
}

// TestDoctorArticleSnippet: wsslab doctor --browser --json on the article's
// server as printed (ssl=None: plain ws:// on the wss:// port), corrected
// with cert.pem, corrected with fullchain.pem. The prediction is Chrome's
// exact result, real Chrome agrees, the exit status follows, and the
// ERROR finding names the cause.
func TestDoctorArticleSnippet(t *testing.T) {
	needBrowser(t)
	l := newDoctorLab(t)
	const host = "ws.wsslab.test"
	leaf, err := l.pki.Mint(certs.Request{DNSNames: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := certs.WriteCertbot(dir, leaf); err != nil {
		t.Fatal(err)
	}
	file := func(n string) string { return filepath.Join(dir, n) }
	for _, c := range []struct {
		name, mode, cert, netErr, finding, cause string
		code                                     int
	}{
		{"as-printed", "article", file(certs.Files.FullChain), "net::ERR_SSL_PROTOCOL_ERROR", "not-tls", "load_cert_chain() returns None", exitMismatch},
		{"cert-pem", "fixed", file(certs.Files.Cert), "net::ERR_CERT_AUTHORITY_INVALID", "missing-intermediate", "fullchain.pem", exitMismatch},
		{"fullchain-pem", "fixed", file(certs.Files.FullChain), "", "", "", exitOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			port := startArticleServer(t, c.mode, c.cert, file(certs.Files.PrivKey))
			code, out, errOut := doctorRun(t, "--browser", "--json", "--ca", l.root, "--no-system-roots", "--timeout", "5s",
				"--resolve", fmt.Sprintf("%s:%s:127.0.0.1", host, port), fmt.Sprintf("wss://%s:%s/", host, port))
			var rep struct {
				Prediction struct {
					Verdict  string `json:"verdict"`
					NetError string `json:"net_error"`
				} `json:"prediction"`
				Observed *struct {
					NetError string `json:"net_error"`
					Agrees   bool   `json:"agrees"`
				} `json:"observed"`
				Findings []struct{ Severity, Check, Message, Fix string } `json:"findings"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("exit %d, not JSON: %v\n%s%s", code, err, out, errOut)
			}
			if code != c.code || rep.Prediction.NetError != c.netErr || rep.Observed == nil || !rep.Observed.Agrees {
				t.Errorf("exit %d (want %d), prediction %+v (want %q), observed %+v\n%s", code, c.code, rep.Prediction, c.netErr, rep.Observed, errOut)
			}
			found := c.finding == ""
			for _, f := range rep.Findings {
				found = found || (f.Severity == "ERROR" && f.Check == c.finding && strings.Contains(f.Message+f.Fix, c.cause))
			}
			if !found {
				t.Errorf("no ERROR [%s] mentioning %q: %+v", c.finding, c.cause, rep.Findings)
			}
		})
	}
}
