package scenarios

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
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
// is shared by every run of the lab (each batch gets its own browser
// context).
type Lab struct {
	PKI *certs.PKI
	// Backend runs the scenario servers; nil means harness.InProcess.
	Backend harness.Backend
	// TempDir is where the browser's throwaway HOME and profile go
	// ("" = os.TempDir()).
	TempDir string
	// Screenshots makes the browser capture each socket's panel of the page
	// after a dial (for reports).
	Screenshots bool
	Lax         *harness.GoClient
	Strict      *harness.GoClient
	// owned are the clients in other runtimes (scriptclients.go).
	owned ownedClients

	mu         sync.Mutex
	browser    *harness.Browser
	browserErr error
	// firefoxMu guards firefox: Firefox starts beside Chromium, not after it.
	firefoxMu  sync.Mutex
	firefox    *harness.Firefox
	firefoxErr error
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
		Roots:       []*x509.Certificate{l.PKI.Root.Cert},
		PageHost:    PageHost,
		PageCert:    page.TLSCertificate(),
		TempDir:     l.TempDir,
		Screenshots: l.Screenshots,
	})
	return l.browser, l.browserErr
}

// Close stops the browsers, if they started, and the lab's other clients.
func (l *Lab) Close() {
	l.owned.closeAll()
	// What killed runs left that could not be swept at start yet (a dir
	// whose creation was cut short is swept only once it is old enough).
	defer harness.SweepStale(l.TempDir)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.firefoxMu.Lock()
	defer l.firefoxMu.Unlock()
	// The browsers stop at once (each waits for its processes to exit).
	var wg sync.WaitGroup
	if l.browser != nil {
		wg.Go(l.browser.Close)
	}
	if l.firefox != nil {
		wg.Go(l.firefox.Close)
	}
	wg.Wait()
}

// Instance is a running scenario server.
type Instance struct {
	Scenario Scenario
	Leaf     *certs.Leaf
	Endpoint *harness.Endpoint
	// URL is what clients dial (scenario host, server port, query).
	URL string
	// OCSP is the leaf's OCSP responder when the row has a Revocation.
	OCSP *harness.OCSPResponder
}

// Start mints the scenario's certificate and starts its server with the
// lab's backend. listen may be "" for 127.0.0.1:0 (in-process only).
func (l *Lab) Start(ctx context.Context, sc Scenario, listen string) (*Instance, error) {
	return l.StartWith(ctx, l.Backend, sc, listen)
}

// StartWith is Start on another backend (nil: in-process), e.g. a container
// scenario's nginx topology.
func (l *Lab) StartWith(ctx context.Context, backend harness.Backend, sc Scenario, listen string) (*Instance, error) {
	req := sc.Cert
	var responder *harness.OCSPResponder
	if sc.Revocation != "" {
		r, err := harness.NewOCSPResponder(OCSPHost, l.PKI.Intermediate.Cert, l.PKI.Intermediate.Key, sc.Revocation)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
		}
		responder = r
		req.OCSPServer = []string{r.URL}
	}
	started := false
	defer func() {
		if responder != nil && !started {
			responder.Close()
		}
	}()
	leaf, err := l.PKI.Mint(req)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	if backend == nil {
		backend = harness.InProcess{}
	}
	ep, err := backend.Start(ctx, harness.ServerSpec{ID: sc.ID, Host: sc.Host, Leaf: leaf, Options: sc.Server, Listen: listen, Topology: sc.Topology, LoginPath: sc.LoginPath})
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	started = true
	return &Instance{Scenario: sc, Leaf: leaf, Endpoint: ep, URL: ep.URL + sc.Query, OCSP: responder}, nil
}

// OCSPHost is the host of a scenario's OCSP responder (Scenario.Revocation).
const OCSPHost = "ocsp.wsslab.test"

// Close stops the server (and its OCSP responder).
func (in *Instance) Close() {
	if in.Endpoint != nil {
		in.Endpoint.Close()
	}
	if in.OCSP != nil {
		in.OCSP.Close()
	}
}

// Evidence is what the server saw, or the zero value when the backend
// cannot observe it.
func (in *Instance) Evidence() harness.Evidence {
	if in.Endpoint == nil || in.Endpoint.Evidence == nil {
		return harness.Evidence{}
	}
	return in.Endpoint.Evidence()
}

// Target is what every client dials for this instance.
func (in *Instance) Target() harness.Target {
	return harness.Target{
		Login:        in.loginURL(),
		URL:          in.URL,
		Addr:         in.Endpoint.Addr,
		Subprotocols: in.Scenario.Subprotocols,
		Message:      Message,
		Header:       in.Scenario.Header,
	}
}

// loginURL is the scenario's LoginPath on its own server, over HTTPS for a
// wss:// server and plain HTTP for a ws:// one; "" without a LoginPath.
func (in *Instance) loginURL() string {
	if in.Scenario.LoginPath == "" {
		return ""
	}
	u, err := url.Parse(in.Endpoint.URL)
	if err != nil {
		return ""
	}
	u.Scheme = map[string]string{"wss": "https", "ws": "http"}[u.Scheme]
	u.Path, u.RawQuery = in.Scenario.LoginPath, ""
	return u.String()
}

// Result is one client's observation of one scenario, against expectation.
type Result struct {
	Scenario string `json:"scenario"`
	harness.Observation
	Expected Expect `json:"expected"`
	Matched  bool   `json:"matched"`
	// Skip says why the client did not run ("--no-browser", a missing
	// runtime); Outcome is then Skipped.
	Skip string `json:"skipped,omitempty"`
	// Ungraded says why Expected does not apply (a user's server running a
	// row measured against wsslab's echo server): the result is reported,
	// Matched says whether it is what the echo server got, and it never
	// counts as a mismatch.
	Ungraded string `json:"ungraded,omitempty"`
}

// Graded reports whether the result ran and is compared with expectation.
func (r Result) Graded() bool { return r.Skip == "" && r.Ungraded == "" }

// Dial has one client dial the instance, alone, and compares with the
// row's expectation for it (a Result whose Expected is zero and Skip says
// why when the row has none).
func (in *Instance) Dial(ctx context.Context, c harness.Client) Result {
	if _, err := in.Scenario.Expect(c.Info()); err != nil {
		return Result{Scenario: in.Scenario.ID, Observation: harness.Observation{Client: c.Info().ID, URL: in.URL, Outcome: Skipped}, Skip: err.Error()}
	}
	return in.result(c.Info(), harness.Dial(ctx, c, in.Target()))
}

// Skipped is the outcome of a client that did not run. It is reported,
// never dropped: a matrix without its browser column must say so.
const Skipped harness.Outcome = "skipped"
