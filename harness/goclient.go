package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
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

// Client dials a Target and reports what happened.
type Client interface {
	Name() string
	Dial(ctx context.Context, t Target) Observation
}

// Client names, as used in tables, JSON and -run filters.
const (
	BrowserClient = "browser"
	LaxClient     = "lax"
	StrictClient  = "strict"
)

// GoClient is a gorilla/websocket client. Lax and Strict build the two
// configurations wsslab compares against the browser.
type GoClient struct {
	name string
	tls  *tls.Config
	// sendHeaders: Postman lets a user set headers; Go code can too. Both Go
	// clients send Target.Header; neither sends an Origin (no browser does
	// that for them).
	timeout time.Duration
}

// Lax models Postman's default: certificate verification off, no Origin
// header, TLS 1.2 minimum (Postman's Node.js default, like Go's).
func Lax() *GoClient {
	return &GoClient{name: LaxClient, tls: &tls.Config{InsecureSkipVerify: true}, timeout: 10 * time.Second}
}

// Strict verifies like a correctly configured non-browser client, trusting
// only roots.
func Strict(roots *x509.CertPool) *GoClient {
	return &GoClient{name: StrictClient, tls: &tls.Config{RootCAs: roots}, timeout: 10 * time.Second}
}

// Name implements Client.
func (c *GoClient) Name() string { return c.name }

// Dial implements Client: handshake, send Message, read the echo.
func (c *GoClient) Dial(ctx context.Context, t Target) Observation {
	start := time.Now()
	obs := Observation{Client: c.name, URL: t.URL}
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
		obs.Outcome = ClassifyGo(err, resp)
		obs.Err = err.Error()
		obs.Evidence = append(obs.Evidence, fmt.Sprintf("%T: %v", err, err))
		return obs
	}
	defer conn.Close()
	obs.Subprotocol = conn.Subprotocol()
	if len(t.Subprotocols) == 0 && obs.Subprotocol != "" {
		// RFC 6455 4.1: a client that offered none must fail the connection
		// when the server selects one. gorilla does not check; browsers do.
		obs.Outcome, obs.Err = HandshakeInvalid, fmt.Sprintf("server selected subprotocol %q that was not offered", obs.Subprotocol)
		return obs
	}
	conn.SetReadDeadline(time.Now().Add(c.timeout))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(t.Message)); err != nil {
		obs.Outcome, obs.Err = NoEcho, err.Error()
		return obs
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		obs.Outcome, obs.Err = NoEcho, err.Error()
		return obs
	}
	obs.Echo = string(msg)
	if obs.Echo != t.Message {
		obs.Outcome, obs.Err = NoEcho, fmt.Sprintf("echo %q, sent %q", obs.Echo, t.Message)
		return obs
	}
	conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	obs.Outcome = Connected
	return obs
}
