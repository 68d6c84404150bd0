package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Target is what a client dials.
type Target struct {
	URL string
	// Subprotocols the client offers (the page passes them to new WebSocket).
	Subprotocols []string
	// Message is sent once open; the echo must match it.
	Message string
	// Header is sent by clients that can set headers (Postman can; a browser
	// page cannot). The lax client sends it, as a Postman user would.
	Header http.Header
	// Login, if set, is a URL the page fetches (with credentials) before it
	// opens the socket, so the server can set a cookie, as a web app's login
	// does. The Go clients skip it: their credentials go in Header.
	Login string
	// Addr, when set, is the TCP address connected to instead of resolving
	// the URL's host, like curl --resolve: SNI and name checks still use the
	// URL's host. The browser gets the same effect from its resolver rules.
	Addr string
}

// GoClient is a gorilla/websocket client. Lax and Strict build the two
// configurations wsslab compares against the browser. Both send
// Target.Header (Postman lets a user set headers; Go code can too); neither
// sends an Origin (no browser does that for them).
type GoClient struct {
	info    ClientInfo
	tls     *tls.Config
	timeout time.Duration
	// parallel bounds how many targets DialAll dials at once.
	parallel int
}

// Lax models Postman's default: certificate verification off, no Origin
// header, TLS 1.2 minimum (Postman's Node.js default, like Go's).
func Lax() *GoClient {
	return &GoClient{
		info:    ClientInfo{ID: LaxID, Name: "Lax client (Postman's defaults)", Class: LaxClass, Reasons: GoReasons, Version: runtime.Version()},
		tls:     &tls.Config{InsecureSkipVerify: true},
		timeout: 10 * time.Second, parallel: 4,
	}
}

// Strict verifies like a correctly configured non-browser client, trusting
// only roots.
func Strict(roots *x509.CertPool) *GoClient {
	return &GoClient{
		info:    ClientInfo{ID: StrictID, Name: "Strict Go client (verifies)", Class: VerifyingClass, Reasons: GoReasons, Version: runtime.Version()},
		tls:     &tls.Config{RootCAs: roots},
		timeout: 10 * time.Second, parallel: 4,
	}
}

// Info implements Client.
func (c *GoClient) Info() ClientInfo { return c.info }

// DialAll implements Client: a few dials at once (each needs a few
// milliseconds of CPU), results in target order.
func (c *GoClient) DialAll(ctx context.Context, targets []Target) []Observation {
	return DialEach(ctx, c.parallel, targets, c.Dial)
}

// DialEach is DialAll for a client that dials one target at a time: dial
// for every target, at most parallel at once, results in target order.
func DialEach(ctx context.Context, parallel int, targets []Target, dial func(context.Context, Target) Observation) []Observation {
	out := make([]Observation, len(targets))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = dial(ctx, t)
		})
	}
	wg.Wait()
	return out
}

// Dial implements Client: handshake, send Message, read the echo.
func (c *GoClient) Dial(ctx context.Context, t Target) Observation {
	start := time.Now()
	obs := Observation{Client: c.info.ID, URL: t.URL}
	defer func() { obs.Duration = time.Since(start) }()
	d := websocket.Dialer{
		TLSClientConfig:  c.tls,
		HandshakeTimeout: c.timeout,
		Subprotocols:     t.Subprotocols,
		Proxy:            nil, // loopback only: never a proxy from the environment
	}
	if t.Addr != "" {
		var nd net.Dialer
		d.NetDialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return nd.DialContext(ctx, network, t.Addr)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, resp, err := d.DialContext(ctx, t.URL, t.Header)
	if resp != nil {
		obs.Evidence = append(obs.Evidence, "HTTP "+resp.Status)
		if resp.Body != nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		obs.Evidence = append(obs.Evidence, fmt.Sprintf("%T: %v", err, err))
		obs.fail(ClassifyGo(err, resp), err, resp)
		return obs
	}
	defer conn.Close()
	obs.Subprotocol = conn.Subprotocol()
	if len(t.Subprotocols) == 0 && obs.Subprotocol != "" {
		// RFC 6455 4.1: a client that offered none must fail the connection
		// when the server selects one. gorilla does not check; browsers do.
		obs.fail(HandshakeInvalid, &ReasonError{Reason: "subprotocol not offered: " + obs.Subprotocol}, nil)
		return obs
	}
	conn.SetReadDeadline(time.Now().Add(c.timeout))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(t.Message)); err != nil {
		obs.fail(NoEcho, &ReasonError{Reason: "no echo: send failed", Err: err}, nil)
		return obs
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		obs.fail(NoEcho, &ReasonError{Reason: "no echo: read failed", Err: err}, nil)
		return obs
	}
	obs.Echo = string(msg)
	if obs.Echo != t.Message {
		obs.fail(NoEcho, &ReasonError{Reason: "no echo: a different message came back", Err: fmt.Errorf("echo %q, sent %q", obs.Echo, t.Message)}, nil)
		return obs
	}
	conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	obs.Outcome = Connected
	return obs
}

// fail records a Go client's failure: the class, the typed error and its
// stable description.
func (o *Observation) fail(out Outcome, err error, resp *http.Response) {
	o.Outcome, o.Err, o.Error, o.Reason = out, err, err.Error(), GoReason(err, resp)
}
