package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ServerOptions shape the echo server's WebSocket behaviour and TLS settings.
// The zero value is a permissive echo server over TLS 1.2+, which is what most
// servers in the wild are.
type ServerOptions struct {
	// SameOrigin keeps gorilla/websocket's default CheckOrigin, which rejects
	// (403) a browser whose Origin host differs from the request's Host.
	SameOrigin bool
	// Subprotocols the server supports, in preference order.
	Subprotocols []string
	// RequireSubprotocol rejects (400) a client that offers none of
	// Subprotocols.
	RequireSubprotocol bool
	// ForceSubprotocol is returned in Sec-WebSocket-Protocol whatever the
	// client asked for (a misbehaving server).
	ForceSubprotocol string
	// RequireAuth rejects (401) a client without credentials. Accepted
	// credentials: "Authorization: Bearer <AuthToken>", a cookie
	// "token=<AuthToken>", "?token=<AuthToken>" in the URL, or the subprotocol
	// "bearer.<AuthToken>" (echoed back, as the browser requires). GET
	// /login sets the cookie (Secure, HttpOnly, SameSite=Lax), as an app's
	// login endpoint would.
	RequireAuth bool
	AuthToken   string
	// MinTLS and MaxTLS bound the TLS versions (tls.VersionTLS10, ...).
	MinTLS, MaxTLS uint16
	// Plain serves ws:// without TLS.
	Plain bool
}

// Evidence is what the server saw. Chrome's TLS alert is always "unknown
// certificate" whatever the defect, which is why the client's diagnosis is the
// one to show; the server side is corroboration.
type Evidence struct {
	TLSHandshakes int      `json:"tls_handshakes"`
	TLSErrors     []string `json:"tls_errors,omitempty"`
	ServerNames   []string `json:"server_names,omitempty"`
	Upgrades      int      `json:"upgrades"`
	Rejected      []string `json:"rejected,omitempty"`
	Echoed        int      `json:"echoed"`
}

// Recorder collects Evidence; safe for concurrent use.
type Recorder struct {
	mu sync.Mutex
	ev Evidence
}

// Snapshot returns a copy of what was recorded so far.
func (r *Recorder) Snapshot() Evidence {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.ev
	ev.TLSErrors = append([]string(nil), ev.TLSErrors...)
	ev.ServerNames = append([]string(nil), ev.ServerNames...)
	ev.Rejected = append([]string(nil), ev.Rejected...)
	return ev
}

func (r *Recorder) update(f func(*Evidence)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.ev)
}

// Write receives net/http's error log: "http: TLS handshake error from
// 127.0.0.1:5555: remote error: tls: unknown certificate".
func (r *Recorder) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if _, after, ok := strings.Cut(line, "TLS handshake error from "); ok {
		if _, msg, ok := strings.Cut(after, ": "); ok {
			line = msg
		}
		r.update(func(e *Evidence) { e.TLSErrors = append(e.TLSErrors, line) })
	}
	return len(p), nil
}

// EchoHandler is the scenario server's WebSocket endpoint: it upgrades per
// opts and echoes every message. The container server binary uses it too.
func EchoHandler(opts ServerOptions, rec *Recorder) http.Handler {
	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     opts.Subprotocols,
		// Most servers accept any Origin; SameOrigin keeps gorilla's default.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	if opts.SameOrigin {
		up.CheckOrigin = nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reject := func(code int, why string) {
			rec.update(func(e *Evidence) { e.Rejected = append(e.Rejected, why) })
			http.Error(w, why, code)
		}
		if !websocket.IsWebSocketUpgrade(r) {
			if opts.RequireAuth && r.URL.Path == "/login" {
				// SameSite=Lax: sent on the WebSocket handshake from a
				// same-site page (app.wsslab.test and this host share
				// wsslab.test), never from another site.
				http.SetCookie(w, &http.Cookie{Name: "token", Value: opts.AuthToken, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
				w.WriteHeader(http.StatusNoContent)
				return
			}
			fmt.Fprintln(w, "wsslab echo server: connect with a WebSocket client")
			return
		}
		if opts.SameOrigin && !sameOrigin(r) {
			reject(http.StatusForbidden, "origin "+r.Header.Get("Origin")+" not allowed")
			return
		}
		offered := websocket.Subprotocols(r)
		hdr := http.Header{}
		if opts.RequireAuth {
			ok, proto := authorized(r, offered, opts.AuthToken)
			if !ok {
				reject(http.StatusUnauthorized, "missing or wrong credentials")
				return
			}
			if proto != "" {
				hdr.Set("Sec-WebSocket-Protocol", proto)
			}
		}
		if opts.RequireSubprotocol && !anyIn(offered, opts.Subprotocols) {
			reject(http.StatusBadRequest, fmt.Sprintf("subprotocol required, one of %q; got %q", opts.Subprotocols, offered))
			return
		}
		if opts.ForceSubprotocol != "" {
			hdr.Set("Sec-WebSocket-Protocol", opts.ForceSubprotocol)
		}
		conn, err := up.Upgrade(w, r, hdr)
		if err != nil {
			rec.update(func(e *Evidence) { e.Rejected = append(e.Rejected, err.Error()) })
			return
		}
		defer conn.Close()
		// Close the socket when the server stops (BaseContext) or the
		// handler returns: hijacked connections outlive http.Server.Close.
		stop := context.AfterFunc(r.Context(), func() { conn.Close() })
		defer stop()
		rec.update(func(e *Evidence) { e.Upgrades++ })
		for {
			mt, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			// Counted before the write, so a client that got its echo
			// always finds it counted.
			rec.update(func(e *Evidence) { e.Echoed++ })
			if err := conn.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
}

func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // gorilla's rule: no Origin (a non-browser client) passes
	}
	_, host, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(host, r.Host)
}

func authorized(r *http.Request, offered []string, token string) (ok bool, proto string) {
	if r.Header.Get("Authorization") == "Bearer "+token {
		return true, ""
	}
	if c, err := r.Cookie("token"); err == nil && c.Value == token {
		return true, ""
	}
	if r.URL.Query().Get("token") == token {
		return true, ""
	}
	for _, p := range offered {
		if p == "bearer."+token {
			return true, p
		}
	}
	return false, ""
}

func anyIn(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// Server is a WSS echo server on a loopback port, shaped like
// httptest.Server: URL, Close.
type Server struct {
	// URL is wss://HOST:PORT/ (ws:// when Plain), with the host the scenario
	// dials, which may be a name mapped to 127.0.0.1.
	URL string
	// Addr is the listening address, 127.0.0.1:PORT.
	Addr   string
	rec    *Recorder
	srv    *http.Server
	done   chan struct{}
	cancel context.CancelFunc
}

// ServerConfig is what NewServer needs.
type ServerConfig struct {
	// Host is the host name put in URL (e.g. "valid.wsslab.test" or
	// "127.0.0.1"); the server always listens on 127.0.0.1.
	Host string
	// Listen overrides the listening address (default "127.0.0.1:0").
	Listen      string
	Certificate tls.Certificate
	Options     ServerOptions
}

// NewServer starts a server. It returns a clear error for a port in use.
func NewServer(cfg ServerConfig) (*Server, error) {
	addr := cfg.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("harness: listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{rec: &Recorder{}, done: make(chan struct{}), cancel: cancel}
	s.Addr = ln.Addr().String()
	s.srv = &http.Server{
		BaseContext:       func(net.Listener) context.Context { return ctx },
		Handler:           EchoHandler(cfg.Options, s.rec),
		ErrorLog:          log.New(s.rec, "", 0),
		ReadHeaderTimeout: 10 * time.Second,
	}
	scheme := "ws"
	if !cfg.Options.Plain {
		scheme = "wss"
		ln = tls.NewListener(ln, TLSConfig(cfg.Certificate, cfg.Options, s.rec))
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	s.URL = scheme + "://" + net.JoinHostPort(host, port) + "/"
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.rec.update(func(e *Evidence) { e.TLSErrors = append(e.TLSErrors, "serve: "+err.Error()) })
		}
	}()
	return s, nil
}

// TLSConfig is the server's TLS configuration for a scenario: exactly the
// given chain, the given versions, HTTP/1.1 only (WebSocket needs it), and
// recording of SNI and completed handshakes.
func TLSConfig(cert tls.Certificate, opts ServerOptions, rec *Recorder) *tls.Config {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   opts.MinTLS,
		MaxVersion:   opts.MaxTLS,
		NextProtos:   []string{"http/1.1"},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			rec.update(func(e *Evidence) { e.ServerNames = append(e.ServerNames, hello.ServerName) })
			return nil, nil
		},
		VerifyConnection: func(tls.ConnectionState) error {
			rec.update(func(e *Evidence) { e.TLSHandshakes++ })
			return nil
		},
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		// Old versions need the CBC suites Go no longer enables by default.
		for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			cfg.CipherSuites = append(cfg.CipherSuites, cs.ID)
		}
	}
	return cfg
}

// Port returns the server's TCP port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Evidence returns what the server saw so far.
func (s *Server) Evidence() Evidence { return s.rec.Snapshot() }

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.cancel()
	s.srv.Close()
	<-s.done
}
