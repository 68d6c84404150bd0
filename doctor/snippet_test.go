package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// python is Debian's interpreter, which has python3-websockets.
const python = "/usr/bin/python3"

// startSnippet runs testdata/snippet_server.py in mode with the given
// certificate file and returns its port.
func startSnippet(t *testing.T, mode, certFile, keyFile string) int {
	t.Helper()
	cmd := exec.Command(python, "testdata/snippet_server.py", mode, certFile, keyFile)
	p := testenv.StartReady(t, cmd, "READY ")
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("snippet server (%s) printed port %q", mode, p)
	}
	return n
}

func needPythonWebsockets(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import websockets").Run(); err != nil {
		msg := "needs Debian's python3 with websockets: apt-get install -y python3-websockets (" + err.Error() + ")"
		testenv.Missing(t, "python", errors.New(msg))
	}
}

// TestArticleSnippet runs the article's Python server as printed (plus
// `import ssl`) and as it should be written, with cert.pem and with
// fullchain.pem. doctor must predict what Chrome does and name the cause;
// with a browser, real Chromium (doctor --browser's check) must agree.
func TestArticleSnippet(t *testing.T) {
	needPythonWebsockets(t)
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	const host = "ws.wsslab.test"
	leaf, err := pki.Mint(certs.Request{DNSNames: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := certs.WriteCertbot(dir, leaf); err != nil {
		t.Fatal(err)
	}
	file := func(n string) string { return filepath.Join(dir, n) }
	cases := []struct {
		name, mode, cert string
		chrome           string // measured with Chromium 156
		defect, fixText  string
	}{
		{"article-as-printed", "article", file(certs.Files.FullChain), "net::ERR_SSL_PROTOCOL_ERROR", "not-tls", "load_cert_chain() returns None"},
		{"fixed-cert-pem", "fixed", file(certs.Files.Cert), "net::ERR_CERT_AUTHORITY_INVALID", "missing-intermediate", "fullchain.pem"},
		{"fixed-fullchain-pem", "fixed", file(certs.Files.FullChain), "connects", "", ""},
	}
	// With a browser every server starts first: Chromium's --resolve rules
	// are fixed when it starts.
	ports := make([]int, len(cases))
	var bc *BrowserCheck
	if !testing.Short() {
		if err := harness.CheckBrowserTools(); err == nil || harness.RequireBrowser() {
			for i, c := range cases {
				ports[i] = startSnippet(t, c.mode, c.cert, file(certs.Files.PrivKey))
			}
			var res []Resolve
			for _, p := range ports {
				res = append(res, Resolve{Host: host, Port: p, Addr: "127.0.0.1"})
			}
			bc, err = StartBrowserCheck(context.Background(), []*x509.Certificate{pki.Root.Cert}, res, 15*time.Second, "")
			if err != nil {
				if !errors.Is(err, harness.ErrNoBrowser) || harness.RequireBrowser() {
					t.Fatal(err)
				}
				t.Logf("no browser: %v (checking the prediction only)", err)
			} else {
				t.Cleanup(bc.Close)
			}
		}
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := ports[i]
			if port == 0 {
				port = startSnippet(t, c.mode, c.cert, file(certs.Files.PrivKey))
			}
			url := "wss://" + host + ":" + strconv.Itoa(port) + "/"
			origin := DefaultOrigin
			if bc != nil {
				origin = bc.Origin()
			}
			rep, err := Examine(context.Background(), Config{URL: url, Resolve: []Resolve{{Host: host, Port: port, Addr: "127.0.0.1"}},
				Private: []*x509.Certificate{pki.Root.Cert}, NoSystemRoots: true, Timeout: 10 * time.Second, Origin: origin})
			if err != nil {
				t.Fatalf("doctor could not examine: %v", err)
			}
			if got := said(rep.Prediction); got != c.chrome {
				t.Errorf("doctor predicts %q, want %q\nfindings: %+v", got, c.chrome, rep.Findings)
			}
			if c.defect != "" {
				found := false
				for _, f := range rep.Findings {
					found = found || (f.Severity == Error && f.Check == c.defect && strings.Contains(f.Message+f.Fix, c.fixText))
				}
				if !found {
					t.Errorf("no ERROR [%s] finding mentioning %q: %+v", c.defect, c.fixText, rep.Findings)
				}
			}
			if bc != nil {
				res := bc.Dial(context.Background(), rep, nil)
				t.Logf("chrome %s %q (%v)", res.Verdict, res.NetError, res.Evidence)
				if !res.Agrees {
					t.Errorf("real Chrome %s %q, doctor predicts %s %q", res.Verdict, res.NetError, rep.Prediction.Verdict, rep.Prediction.NetError)
				}
			}
		})
	}
}
