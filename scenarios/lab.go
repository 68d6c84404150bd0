package scenarios

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// PageHost is the host the browser loads its page from. Its Origin is what
// the browser sends; it differs from every scenario host, as a deployed front
// end's origin differs from its API's.
const PageHost = "app.wsslab.test"

// Message is what every client sends and expects echoed.
const Message = "hello from wsslab"

// Lab holds one run's PKI and clients. The browser starts on first use and
// is shared by every scenario (each dial gets its own browser context).
type Lab struct {
	PKI    *certs.PKI
	Lax    *harness.GoClient
	Strict *harness.GoClient

	mu         sync.Mutex
	browser    *harness.Browser
	browserErr error
}

// NewLab mints this run's PKI.
func NewLab() (*Lab, error) {
	pki, err := certs.NewPKI()
	if err != nil {
		return nil, err
	}
	return &Lab{PKI: pki, Lax: harness.Lax(), Strict: harness.Strict(pki.RootPool())}, nil
}

// Browser starts Chromium once, trusting only this run's root.
func (l *Lab) Browser(ctx context.Context) (*harness.Browser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.browser != nil || l.browserErr != nil {
		return l.browser, l.browserErr
	}
	page, err := l.PKI.Mint(certs.Request{DNSNames: []string{PageHost}})
	if err != nil {
		l.browserErr = err
		return nil, err
	}
	l.browser, l.browserErr = harness.StartBrowser(ctx, harness.BrowserConfig{
		Roots:    []*x509.Certificate{l.PKI.Root.Cert},
		PageHost: PageHost,
		PageCert: page.TLSCertificate(),
	})
	return l.browser, l.browserErr
}

// Close stops the browser, if it started.
func (l *Lab) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.browser != nil {
		l.browser.Close()
	}
}

// Instance is a running scenario server.
type Instance struct {
	Scenario Scenario
	Leaf     *certs.Leaf
	Server   *harness.Server
	// URL is what clients dial (scenario host, server port, query).
	URL string
}

// Start mints the scenario's certificate and starts its server on a loopback
// port. listen may be "" for 127.0.0.1:0.
func (l *Lab) Start(sc Scenario, listen string) (*Instance, error) {
	leaf, err := l.PKI.Mint(sc.Cert)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	srv, err := harness.NewServer(harness.ServerConfig{
		Host:        sc.Host,
		Listen:      listen,
		Certificate: leaf.TLSCertificate(),
		Options:     sc.Server,
	})
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	return &Instance{Scenario: sc, Leaf: leaf, Server: srv, URL: srv.URL + sc.Query}, nil
}

// Close stops the server.
func (in *Instance) Close() { in.Server.Close() }

// Target is what every client dials for this instance.
func (in *Instance) Target() harness.Target {
	return harness.Target{
		URL:          in.URL,
		Addr:         in.Server.Addr,
		Subprotocols: in.Scenario.Subprotocols,
		Message:      Message,
		Header:       in.Scenario.Header,
	}
}

// Result is one client's observation of one scenario, against expectation.
type Result struct {
	Scenario string `json:"scenario"`
	harness.Observation
	Expected Expect `json:"expected"`
	Matched  bool   `json:"matched"`
}

// Dial runs one client against the instance and compares with Want.
func (in *Instance) Dial(ctx context.Context, c harness.Client) Result {
	obs := c.Dial(ctx, in.Target())
	want := in.Scenario.Want.For(c.Name())
	return Result{Scenario: in.Scenario.ID, Observation: obs, Expected: want, Matched: want.Match(obs)}
}

// hostIsIP reports whether the URL host is an IP literal.
func hostIsIP(h string) bool { return net.ParseIP(strings.Trim(h, "[]")) != nil }
