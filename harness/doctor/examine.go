package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// Config is what Examine needs.
type Config struct {
	// URL is the endpoint, as the user typed it.
	URL string
	// Resolve overrides where HOST:PORT connects (curl --resolve).
	Resolve []Resolve
	// Private roots (--ca), trusted in addition to System.
	Private []*x509.Certificate
	// System roots; nil loads the system's (SystemRoots). NoSystemRoots
	// trusts only Private, as a browser with an empty root store would.
	System        []*x509.Certificate
	NoSystemRoots bool
	// Timeout bounds each network step (default 5s).
	Timeout time.Duration
	// WarnDays: warn when the certificate expires sooner (default WarnDays).
	WarnDays int
	// Origin is the Origin header of the page that opens the socket
	// (default DefaultOrigin).
	Origin string
	// Subprotocols the page offers (new WebSocket(url, protocols)).
	Subprotocols []string
	// Cookie is the Cookie header the browser would send with the
	// handshake (its cookies for this host, e.g. a session), like curl -b.
	Cookie string
	// Now is the time certificates are checked at (default time.Now()).
	Now time.Time
}

// DefaultOrigin is the page origin doctor assumes: a front end on another
// origin than the WebSocket server, as a deployed app usually is.
const DefaultOrigin = "https://app.example.com"

// Prediction is what Chrome will do, in the words DevTools uses.
type Prediction struct {
	// Verdict is "connects" or "fails".
	Verdict string `json:"verdict"`
	// NetError is the reason exactly as DevTools reports it:
	// "net::ERR_CERT_AUTHORITY_INVALID", or the handshake error text
	// ("Unexpected response code: 403"); "" when it connects or when the
	// page is blocked before any connection (mixed content).
	NetError string `json:"net_error"`
	// Outcome is wsslab's class (harness.Outcome) of that result.
	Outcome harness.Outcome `json:"outcome"`
	// Console is the line Chrome's console shows.
	Console string `json:"console,omitempty"`
}

// Connects reports whether the prediction is a working socket.
func (p Prediction) Connects() bool { return p.Verdict == "connects" }

// TLSInfo is the TLS side of the report.
type TLSInfo struct {
	Version     string `json:"version,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
	ALPN        string `json:"alpn,omitempty"`
	// Versions maps "TLS 1.0".."TLS 1.3" to whether the server accepts it.
	Versions map[string]bool `json:"versions"`
	// ChromeCompatible: a handshake with Chrome's versions, suites and
	// groups succeeded.
	ChromeCompatible bool `json:"chrome_compatible"`
}

// WebSocketInfo holds the upgrade attempts.
type WebSocketInfo struct {
	WithOrigin    *Handshake `json:"with_origin,omitempty"`
	WithoutOrigin *Handshake `json:"without_origin,omitempty"`
}

// Report is doctor's answer.
type Report struct {
	URL       string         `json:"url"`
	Host      string         `json:"host"`
	Port      int            `json:"port"`
	Address   string         `json:"address"`
	SNI       string         `json:"sni,omitempty"`
	Browser   Prediction     `json:"browser"`
	TLS       *TLSInfo       `json:"tls,omitempty"`
	Chain     *ChainResult   `json:"chain,omitempty"`
	WebSocket *WebSocketInfo `json:"websocket,omitempty"`
	Findings  []Finding      `json:"findings"`
	// Chrome is real Chromium's result, when it was asked (--browser).
	Chrome *ChromeResult `json:"chrome,omitempty"`
}

// ChromeResult is what real Chromium did.
type ChromeResult struct {
	Version  string          `json:"version"`
	Verdict  string          `json:"verdict"`
	NetError string          `json:"net_error"`
	Outcome  harness.Outcome `json:"outcome"`
	Agrees   bool            `json:"agrees"`
	Evidence []string        `json:"evidence,omitempty"`
}

// ExamineError means doctor could not examine the endpoint at all: a bad
// URL, nothing listening, a timeout, not TLS. Its message is one line.
type ExamineError struct{ Msg string }

func (e *ExamineError) Error() string { return e.Msg }

func examineErr(format string, a ...any) error {
	return &ExamineError{Msg: fmt.Sprintf(format, a...)}
}

func fails(netErr, console string) Prediction {
	text := console
	if text == "" {
		text = netErr
	}
	return Prediction{Verdict: "fails", NetError: harness.BrowserReason(text), Outcome: harness.ClassifyNetError(text), Console: console}
}

func certFails(netErr string) Prediction {
	return fails(netErr, "Error in connection establishment: "+netErr)
}

func handshakeFails(text string) Prediction {
	if text == "HTTP Authentication failed; no valid credentials available" {
		return fails(text, text)
	}
	return fails(text, "Error during WebSocket handshake: "+text)
}

var connects = Prediction{Verdict: "connects", Outcome: harness.Connected}

// Examine connects to the endpoint, runs every check and predicts Chrome's
// result. An *ExamineError means it could not examine the endpoint.
func Examine(ctx context.Context, cfg Config) (*Report, error) {
	t, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, &ExamineError{Msg: err.Error()}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Origin == "" {
		cfg.Origin = DefaultOrigin
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	r := &Report{URL: t.URL, Host: t.Host, Port: t.Port, Address: DialAddr(t, cfg.Resolve)}
	var f findings
	p := prober{addr: r.Address, timeout: cfg.Timeout}
	if t.IP == nil {
		p.sni = t.Host
		r.SNI = t.Host
	}
	var pred *Prediction
	set := func(x Prediction) {
		if pred == nil {
			pred = &x
		}
	}
	if restrictedPorts[t.Port] {
		set(certFails("net::ERR_UNSAFE_PORT"))
		f.add(Error, "unsafe-port", fmt.Sprintf("Chrome refuses to connect to port %d at all (it is on its list of ports of other protocols, net::ERR_UNSAFE_PORT)", t.Port), "Serve the WebSocket on 443 (or another port such as 8443), e.g. behind nginx.")
	}
	if !t.TLS() {
		examinePlain(ctx, t, cfg, r, &f, set)
		if pred == nil {
			set(connects)
		}
		r.Browser, r.Findings = *pred, f
		return r, nil
	}

	// 1. A handshake as Chrome offers it.
	chrome := p.try(ctx, chromeConfig(), true)
	if chrome.conn != nil {
		defer chrome.conn.Close()
	}
	badSig := chrome.kind == "bad-signature" && len(chrome.raw) > 0
	if chrome.err != nil && !badSig {
		if err := unexaminable(r.Address, chrome); err != nil {
			return nil, err
		}
	}
	// 2. Which versions the server accepts at all.
	r.TLS = &TLSInfo{Versions: map[string]bool{}, ChromeCompatible: chrome.err == nil || badSig}
	var wide handshake
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10} {
		h := p.try(ctx, wideConfig(v, v), false)
		r.TLS.Versions[versionNames[v]] = h.err == nil || h.kind == "bad-signature"
		if h.err == nil && wide.raw == nil {
			wide = h
		}
	}
	hs := chrome
	if chrome.err != nil && !badSig {
		if wide.raw == nil {
			return nil, examineErr("TLS handshake with %s failed for every TLS version: %s", r.Address, clip(chrome.err.Error()))
		}
		hs = wide
		set(certFails("net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"))
		describeTLSMismatch(r.TLS, &f)
	}
	st := hs.state
	r.TLS.Version, r.TLS.CipherSuite, r.TLS.ALPN = versionNames[st.Version], tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol
	if r.TLS.Versions["TLS 1.0"] || r.TLS.Versions["TLS 1.1"] {
		f.add(Warn, "tls-versions", "the server still accepts "+legacyList(r.TLS.Versions)+"; Chrome refuses both, and they are deprecated (RFC 8996)", "Allow only TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3;).")
	}
	if r.TLS.Versions["TLS 1.2"] && !r.TLS.Versions["TLS 1.3"] && chrome.err == nil {
		f.add(Info, "tls-versions", "the server does not offer TLS 1.3; Chrome is fine with TLS 1.2", "Enable TLS 1.3 when the server supports it.")
	}

	// 3. The certificate chain.
	system := cfg.System
	if system == nil && !cfg.NoSystemRoots {
		system = SystemRoots()
	}
	if cfg.NoSystemRoots {
		system = nil
	}
	chain := AnalyzeChain(ChainInput{
		Host: t.Host, Served: hs.raw, Trust: NewTrust(system, cfg.Private), Now: cfg.Now,
		FetchAIA: aiaFetcher(cfg), WarnDays: cfg.WarnDays,
	})
	r.Chain = chain
	if leaf := chain.Leaf(); leaf != nil && chrome.err == nil {
		if alg := leafSignatureUnsupported(leaf); alg != "" {
			set(certFails("net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"))
			f.add(Error, "key", "the server's certificate has an "+alg+" key; Chrome offers no TLS signature algorithm for it, so the handshake fails", "Use an ECDSA P-256/P-384 or RSA 2048+ key.")
		}
		if need := keyUsageIncompatible(leaf, st); need != "" {
			set(certFails("net::ERR_SSL_KEY_USAGE_INCOMPATIBLE"))
			f.add(Error, "key-usage", "the server's certificate has a keyUsage extension without "+need, "Re-issue with keyUsage=digitalSignature (plus keyEncipherment for RSA keys), or without a keyUsage extension.")
		}
	}
	if chain.NetError != "" {
		set(certFails(chain.NetError))
	}
	if badSig {
		// Chrome verifies the certificate before the handshake signature,
		// so a certificate error above wins; otherwise BoringSSL's
		// bad-signature error (not measured; Chrome's generic mapping).
		set(certFails("net::ERR_SSL_PROTOCOL_ERROR"))
		f.add(Error, "key-mismatch", "the server signs the handshake with a key that does not belong to the first certificate it sends: the certificate file and the key file do not match, or the chain file is in the wrong order (leaf must come first)", "Put the server's own certificate first in the chain file (fullchain.pem order) and pair it with its own privkey.pem.")
	}
	f = append(f, chain.Findings...)

	// 4. The WebSocket upgrade, as the page would send it and as Postman
	// would (no Origin).
	if t.Scheme == "wss" {
		r.WebSocket = &WebSocketInfo{}
		conn := net.Conn(nil)
		if hs.conn != nil {
			conn = hs.conn
		} else if !badSig {
			if h := p.try(ctx, wideConfig(tls.VersionTLS10, tls.VersionTLS13), true); h.conn != nil {
				conn = h.conn
				defer conn.Close()
			}
		}
		if conn != nil {
			with := upgrade(conn, t, cfg.Origin, cfg.Subprotocols, cfg.Cookie, cfg.Timeout)
			r.WebSocket.WithOrigin = &with
			var without Handshake
			if h := p.try(ctx, wideConfig(tls.VersionTLS10, tls.VersionTLS13), true); h.conn != nil {
				without = upgrade(h.conn, t, "", cfg.Subprotocols, cfg.Cookie, cfg.Timeout)
				h.conn.Close()
				r.WebSocket.WithoutOrigin = &without
			}
			if with.Err != "" && pred == nil {
				return nil, examineErr("%s completed TLS but the WebSocket upgrade failed: %s", r.Address, with.Err)
			}
			describeUpgrade(r.WebSocket, t, cfg, &f, set)
		}
	}
	if pred == nil {
		set(connects)
	}
	r.Browser, r.Findings = *pred, f
	switch {
	case t.Scheme == "https":
		r.Browser.Console = ""
	case r.Browser.Console != "":
		// The line Chrome's console shows (Log.entryAdded).
		r.Browser.Console = "WebSocket connection to '" + t.URL + "' failed: " + r.Browser.Console
	}
	return r, nil
}

// unexaminable turns a failed Chrome-like handshake into an ExamineError
// when the endpoint cannot be examined at all.
func unexaminable(addr string, h handshake) error {
	switch h.kind {
	case "dial":
		return &ExamineError{Msg: describeDialErr(addr, h.err)}
	case "timeout":
		return examineErr("%s accepted the connection but sent nothing back (no TLS ServerHello): not a TLS server, or a stuck one", addr)
	case "stalled":
		return examineErr("%s started a TLS handshake but stalled: timed out", addr)
	case "not-tls":
		what := "something that is not TLS"
		if strings.HasPrefix(h.firstBytes, "HTTP/") {
			what = "plain HTTP"
		} else if strings.HasPrefix(h.firstBytes, "SSH-") {
			what = "SSH"
		}
		return examineErr("%s does not speak TLS: it answered with %s (%q); is it a ws:// or http:// port?", addr, what, clip(h.firstBytes))
	case "closed":
		return examineErr("%s closed the connection without answering the TLS handshake", addr)
	case "cert-parse":
		return examineErr("%s sent a certificate that cannot be parsed: %s", addr, clip(h.err.Error()))
	}
	return nil
}

func describeTLSMismatch(ti *TLSInfo, f *findings) {
	if !ti.Versions["TLS 1.2"] && !ti.Versions["TLS 1.3"] {
		f.add(Error, "tls-versions", "the server accepts only "+legacyList(ti.Versions)+"; Chrome speaks only TLS 1.2 and 1.3", "Enable TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3;); upgrade the TLS library if it cannot.")
		return
	}
	f.add(Error, "tls-ciphers", "the server accepts TLS 1.2/1.3 but none of the cipher suites or key-exchange groups Chrome offers (ECDHE with AES-GCM/ChaCha20, ECDHE-RSA with AES-CBC, X25519/P-256/P-384)", "Use a modern cipher configuration (Mozilla's \"intermediate\" profile, ssl-config.mozilla.org).")
}

func legacyList(v map[string]bool) string {
	var out []string
	for _, n := range []string{"TLS 1.0", "TLS 1.1"} {
		if v[n] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "old TLS versions"
	}
	return strings.Join(out, " and ")
}

func describeUpgrade(ws *WebSocketInfo, t Target, cfg Config, f *findings, set func(Prediction)) {
	with, without := ws.WithOrigin, ws.WithoutOrigin
	if with == nil || with.Err != "" {
		return
	}
	if with.ChromeError == "" {
		if len(cfg.Subprotocols) > 0 {
			f.add(Info, "ws-subprotocol", fmt.Sprintf("the server selected the subprotocol %q", with.Subprotocol), "")
		}
		return
	}
	set(handshakeFails(with.ChromeError))
	noOriginOK := without != nil && without.ChromeError == ""
	switch {
	case noOriginOK && with.Status != without.Status:
		f.add(Error, "ws-origin", fmt.Sprintf("the server rejects the upgrade from a page at %s (HTTP %d) but accepts it without an Origin header, as Postman sends it: it checks Origin", with.Origin, with.Status),
			"Allow your front end's origin on the server (e.g. CheckOrigin / allowed_origins / verifyClient), and re-check with --origin https://your.app.")
	case with.Status == http.StatusUnauthorized || with.Status == http.StatusProxyAuthRequired:
		f.add(Error, "ws-auth", fmt.Sprintf("the server requires authentication (HTTP %d); a page cannot set an Authorization header on new WebSocket()", with.Status),
			"Authenticate with a cookie, a token in the URL (?token=...) or a subprotocol (new WebSocket(url, ['bearer.TOKEN'])), or a ticket from an authenticated HTTP call.")
	case strings.Contains(with.ChromeError, "Sec-WebSocket-Protocol"):
		f.add(Error, "ws-subprotocol", with.ChromeError, "The server must echo exactly one of the subprotocols the page offers, and none when it offers none. Offer it in the page: new WebSocket(url, ['proto']); check with --subprotocol proto.")
	case with.Status != 0 && with.Status != http.StatusSwitchingProtocols:
		fix := "Check the server's route and its upgrade conditions; the body of the response often says why."
		if with.Status == http.StatusBadRequest && len(cfg.Subprotocols) == 0 {
			fix = "A 400 often means the server requires a subprotocol or a query parameter; check with --subprotocol NAME."
		}
		if with.Status >= 300 && with.Status < 400 {
			fix = "Browsers do not follow redirects on a WebSocket upgrade: use the final URL."
		}
		f.add(Error, "ws-handshake", fmt.Sprintf("the server answered the upgrade with HTTP %d instead of 101 Switching Protocols", with.Status), fix)
	default:
		f.add(Error, "ws-handshake", "the server's upgrade response breaks RFC 6455: "+with.ChromeError, "Use a maintained WebSocket library on the server; check any proxy in front of it forwards Upgrade and Connection headers.")
	}
}

// examinePlain handles ws://: mixed content first, then the upgrade.
func examinePlain(ctx context.Context, t Target, cfg Config, r *Report, f *findings, set func(Prediction)) {
	if !potentiallyTrustworthy(t) {
		console := fmt.Sprintf("Mixed Content: The page at '%s/' was loaded over HTTPS, but attempted to connect to the insecure WebSocket endpoint '%s'. This request has been blocked; this endpoint must be available over WSS.", cfg.Origin, t.URL)
		set(Prediction{Verdict: "fails", Outcome: harness.Blocked, Console: console})
		f.add(Error, "mixed-content", "a page served over https:// cannot open ws://"+t.HostHeader()+": Chrome blocks it before connecting (Mixed Content), with no error event and no close code",
			"Serve the socket over TLS and use wss://"+t.HostHeader()+t.Path+" (e.g. nginx terminating TLS and proxying to ws://127.0.0.1:PORT).")
	} else {
		f.add(Info, "mixed-content", "Chrome lets https:// pages open ws:// to localhost and loopback addresses only; the same page will be blocked against any other host", "Use wss:// in production.")
	}
	p := prober{addr: r.Address, timeout: cfg.Timeout}
	conn, err := p.dial(ctx)
	if err != nil {
		if r.Browser.Verdict == "" {
			f.add(Info, "tcp", describeDialErr(r.Address, err), "")
		}
		return
	}
	defer conn.Close()
	r.WebSocket = &WebSocketInfo{}
	with := upgrade(conn, t, cfg.Origin, cfg.Subprotocols, cfg.Cookie, cfg.Timeout)
	r.WebSocket.WithOrigin = &with
	if c2, err := p.dial(ctx); err == nil {
		without := upgrade(c2, t, "", cfg.Subprotocols, cfg.Cookie, cfg.Timeout)
		r.WebSocket.WithoutOrigin = &without
		c2.Close()
	}
	describeUpgrade(r.WebSocket, t, cfg, f, set)
}

// potentiallyTrustworthy: hosts Chrome lets an https page reach over ws://.
func potentiallyTrustworthy(t Target) bool {
	if t.IP != nil {
		return t.IP.IsLoopback()
	}
	return t.Host == "localhost" || strings.HasSuffix(t.Host, ".localhost")
}

// aiaFetcher fetches caIssuers URLs over plain HTTP, with the same
// --resolve overrides and timeout.
func aiaFetcher(cfg Config) func(string) ([]byte, error) {
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			for _, o := range cfg.Resolve {
				if h, _, err := CanonicalHost(host); err == nil && h == o.Host && port == fmt.Sprint(o.Port) {
					addr = net.JoinHostPort(o.Addr, port)
				}
			}
			d := net.Dialer{Timeout: cfg.Timeout}
			return d.DialContext(ctx, network, addr)
		},
	}
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(u string) ([]byte, error) {
		resp, err := client.Get(u)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return nil, err
		}
		if certs, err := ParseCerts(data); err == nil && len(certs) > 0 {
			return certs[0].Raw, nil
		}
		return data, nil
	}
}
