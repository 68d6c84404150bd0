package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"github.com/wsslab/wsslab/chromenet"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
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
	// Timeout bounds the whole examination (default 5s): every dial,
	// handshake, fetch and read ends when it is used up.
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
	// Schema is the JSON layout's version: ReportSchema.
	Schema  int    `json:"schema"`
	URL     string `json:"url"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Address string `json:"address"`
	SNI     string `json:"sni,omitempty"`
	// Prediction is what doctor's model says Chrome will do.
	Prediction Prediction     `json:"prediction"`
	TLS        *TLSInfo       `json:"tls,omitempty"`
	Chain      *ChainResult   `json:"chain,omitempty"`
	WebSocket  *WebSocketInfo `json:"websocket,omitempty"`
	Findings   []Finding      `json:"findings"`
	// OpenSSL is what the article's openssl s_client check says; nil for
	// ws:// (no TLS to check).
	OpenSSL *OpenSSLCheck `json:"openssl,omitempty"`
	// Observed is what real Chromium did, when it was asked
	// (BrowserCheck.Dial); nil otherwise.
	Observed *ChromeResult `json:"observed,omitempty"`
}

// ReportSchema is Report's JSON version: 2 renamed "browser" (the
// prediction) to "prediction" and "chrome" (the real run) to "observed",
// and added "schema" and "openssl".
const ReportSchema = 2

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
// URL, nothing listening, a timeout, an interrupt. Its message is one line;
// Err is the cause, when there is one (context.Canceled for an interrupt).
type ExamineError struct {
	Msg string
	Err error
}

func (e *ExamineError) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *ExamineError) Unwrap() error { return e.Err }

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
	// Measured: these two come without the usual prefix.
	if text == chromenet.HTTPAuthFailed || text == errClosedNoResponse {
		return fails(text, text)
	}
	return fails(text, "Error during WebSocket handshake: "+text)
}

var connects = Prediction{Verdict: "connects", Outcome: harness.Connected}

// Examine connects to the endpoint, runs every check and predicts Chrome's
// result. An *ExamineError means it could not examine the endpoint.
// cfg.Timeout bounds the whole examination: every step runs within what is
// left of it, and optional steps (the TLS version sweep, AIA fetches) get a
// share only, so the steps the prediction needs keep time. Cancelling ctx
// (an interrupt) ends every dial and read at once.
func Examine(ctx context.Context, cfg Config) (*Report, error) {
	t, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, &ExamineError{Msg: err.Error(), Err: err}
	}
	if err := checkHeaders(cfg); err != nil {
		return nil, err
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
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	r, err := examine(ctx, t, cfg)
	if err != nil && ctx.Err() == context.Canceled {
		return nil, &ExamineError{Msg: "interrupted", Err: context.Canceled}
	}
	return r, err
}

// checkHeaders refuses header values that would smuggle extra headers into
// the upgrade request.
func checkHeaders(cfg Config) error {
	if !ValidHeaderValue(cfg.Origin) {
		return examineErr("the Origin %q contains a control character (CR/LF would start another header)", clip(cfg.Origin))
	}
	if !ValidHeaderValue(cfg.Cookie) {
		return examineErr("the cookie %q contains a control character (CR/LF would start another header)", clip(cfg.Cookie))
	}
	for _, p := range cfg.Subprotocols {
		if !ValidSubprotocol(p) {
			return examineErr("the subprotocol %q is not a token; new WebSocket() throws a SyntaxError for it", clip(p))
		}
	}
	return nil
}

// share is a context for an optional step: at most frac of the time left.
func share(ctx context.Context, frac float64) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Duration(float64(time.Until(d))*frac))
}

func examine(ctx context.Context, t Target, cfg Config) (*Report, error) {
	r := &Report{Schema: ReportSchema, URL: t.URL, Host: t.Host, Port: t.Port, Address: DialAddr(t, cfg.Resolve)}
	var f findings
	p := prober{addr: r.Address}
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
	finish := func() (*Report, error) {
		if pred == nil {
			set(connects)
		}
		r.Prediction, r.Findings = *pred, f
		if r.OpenSSL != nil {
			name := NameMatch{OK: true}
			if r.Chain != nil {
				name = r.Chain.Name
			}
			r.OpenSSL.explain(r.Prediction, name, t.Host)
		}
		switch {
		case t.Scheme == "https":
			r.Prediction.Console = ""
		case r.Prediction.Console != "" && r.Prediction.Outcome != harness.Blocked:
			// The line Chrome's console shows (Log.entryAdded).
			r.Prediction.Console = "WebSocket connection to '" + t.URL + "' failed: " + r.Prediction.Console
		}
		return r, nil
	}
	if chromenet.RestrictedPort(t.Port) {
		set(certFails("net::ERR_UNSAFE_PORT"))
		f.add(Error, "unsafe-port", fmt.Sprintf("Chrome refuses to connect to port %d at all (it is on its list of ports of other protocols, net::ERR_UNSAFE_PORT)", t.Port), "Serve the WebSocket on 443 (or another port such as 8443), e.g. behind nginx.")
	}
	if !t.TLS() {
		if err := examinePlain(ctx, t, cfg, r, &f, set, pred != nil); err != nil {
			return nil, err
		}
		return finish()
	}

	// 1. A handshake as Chrome offers it.
	chrome := p.try(ctx, chromeConfig(), true)
	if chrome.conn != nil {
		defer chrome.conn.Close()
	}
	badSig := chrome.kind == "bad-signature" && len(chrome.raw) > 0
	// Go's client gave up on a certificate it cannot parse, before doctor
	// saw the chain: read the Certificate message from the wire instead
	// (Chrome's parser accepts more than Go's).
	unparsed := false
	switch {
	case chrome.kind == "cert-parse":
		if raw := p.captureCertificates(ctx, wideConfig(tls.VersionTLS10, tls.VersionTLS12)); len(raw) > 0 {
			chrome.raw, unparsed = raw, true
		}
	case chrome.kind == "tls" && chrome.alert < 0 && len(chrome.raw) == 0:
		// Go's client refused something after the server answered (a key
		// or a signature Go will not use, a message it will not parse):
		// if the server sends its Certificate to Chrome's offer, version
		// and suite were agreed and Chrome judges that certificate.
		if raw := p.captureCertificates(ctx, chrome12Config()); len(raw) > 0 {
			chrome.raw, unparsed = raw, true
			f.add(Info, "go-handshake", "Go's TLS client could not finish the handshake ("+clip(chrome.err.Error())+"); doctor read the certificates from the server's Certificate message instead", "")
		}
	}
	if chrome.err != nil && !badSig && !unparsed {
		if err := unexaminable(r.Address, chrome); err != nil {
			if pred != nil {
				// Chrome stops before connecting; what is behind the
				// port does not change that.
				f.add(Info, "tcp", err.Error(), "")
				return finish()
			}
			return nil, err
		}
		if x, ok := notTLS(ctx, t, p, chrome, &f); ok {
			set(x)
			return finish()
		}
	}
	// 2. Which versions the server accepts at all: optional, in parallel,
	// within a third of the time left.
	r.TLS = &TLSInfo{Versions: map[string]bool{}, ChromeCompatible: chrome.err == nil || badSig || unparsed}
	var wide handshake
	versions := []uint16{tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10}
	results := make([]handshake, len(versions))
	sweep, cancelSweep := share(ctx, 1.0/3)
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = p.try(sweep, wideConfig(v, v), false)
		}()
	}
	wg.Wait()
	cancelSweep()
	var unanswered []string
	for i, v := range versions {
		h := results[i]
		if h.kind == "timeout" || h.kind == "stalled" {
			unanswered = append(unanswered, versionNames[v])
		}
		r.TLS.Versions[versionNames[v]] = h.err == nil || h.kind == "bad-signature" || h.kind == "cert-parse"
		if h.err == nil && wide.raw == nil {
			wide = h
		}
	}
	if len(unanswered) > 0 && ctx.Err() == nil {
		f.add(Info, "tls-versions", "no answer in the time given to the version check for "+strings.Join(unanswered, ", ")+" (a server that answers only some connections?); reported as not accepted", "")
	}
	hs := chrome
	if chrome.err != nil && !badSig && !unparsed {
		// Chrome names the alert its ClientHello got; a refusal without
		// one, where other handshakes work, is a version or suite mismatch.
		netErr := "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"
		if chrome.alert >= 0 {
			netErr = alertNetError(chrome.alert)
		}
		if wide.raw == nil && chrome.alert < 0 {
			// The server answers in TLS records but no handshake works:
			// Chrome still names what it got.
			set(certFails(brokenTLS(chrome, &f)))
			return finish()
		}
		set(certFails(netErr))
		switch {
		case netErr != "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH" || wide.raw == nil:
			describeAlert(chrome.alert, t, &f)
		case rsaTooSmallToSign(wide.raw) > 0:
			// Not the suites: the key cannot make the signature.
			f.add(Error, "weak-key", fmt.Sprintf("the server's certificate has a %d-bit RSA key, too small for the RSA-PSS signatures TLS 1.3 requires (528 bits at least for SHA-256): the server cannot sign Chrome's handshake", rsaTooSmallToSign(wide.raw)),
				"Re-issue with an ECDSA P-256 or RSA 2048+ key.")
		default:
			describeTLSMismatch(r.TLS, &f)
		}
		if wide.raw == nil {
			return finish()
		}
		hs = wide
	}
	st := hs.state
	r.TLS.Version, r.TLS.CipherSuite, r.TLS.ALPN = versionNames[st.Version], tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol
	if r.TLS.Versions["TLS 1.0"] || r.TLS.Versions["TLS 1.1"] {
		f.add(Warn, "tls-versions", "the server still accepts "+legacyList(r.TLS.Versions)+"; Chrome refuses both, and they are deprecated (RFC 8996)", "Allow only TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3;).")
	}
	if r.TLS.Versions["TLS 1.2"] && !r.TLS.Versions["TLS 1.3"] && chrome.err == nil {
		f.add(Info, "tls-versions", "the server does not offer TLS 1.3; Chrome is fine with TLS 1.2", "Enable TLS 1.3 when the server supports it.")
	}

	// 3. The certificate chain (AIA fetches: half the time left at most).
	system := cfg.System
	if system == nil && !cfg.NoSystemRoots {
		system = SystemRoots()
	}
	if cfg.NoSystemRoots {
		system = nil
	}
	aiaCtx, cancelAIA := share(ctx, 0.5)
	chain := AnalyzeChain(ChainInput{
		Host: t.Host, Served: hs.raw, Trust: NewTrust(system, cfg.Private), Now: cfg.Now,
		FetchAIA: aiaFetcher(aiaCtx, cfg), WarnDays: cfg.WarnDays,
	})
	cancelAIA()
	r.Chain = chain
	connect := net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	if r.Address != connect && len(cfg.Resolve) > 0 {
		connect = r.Address
	}
	r.OpenSSL = modelOpenSSL(opensslInput{host: t.Host, connect: connect, served: hs.raw, trust: NewTrust(system, cfg.Private),
		privateRoots: len(cfg.Private) > 0, now: cfg.Now, handshake: r.TLS.Versions["TLS 1.2"] || r.TLS.Versions["TLS 1.3"]})
	var afterCert []Prediction // failures Chrome meets only once the certificate verified
	if leaf := chain.Leaf(); leaf != nil && chrome.err == nil {
		// When each check runs, measured with Chromium 156 against Go
		// servers: in TLS 1.3 the server picks its signature algorithm
		// before it answers, and BoringSSL checks the leaf's key usage as
		// the Certificate arrives, before verifying it; in TLS 1.2 the
		// Certificate arrives in the clear first: BoringSSL refuses an EC
		// key on a curve Chrome does not offer then (before verifying), but
		// checks key usage, and meets a server that cannot sign, only after
		// the certificate verified.
		tls13 := st.Version == tls.VersionTLS13
		if alg := leafSignatureUnsupported(leaf); alg != "" {
			_, ec := leaf.PublicKey.(*ecdsa.PublicKey)
			switch {
			case tls13:
				set(certFails("net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"))
			case ec:
				set(certFails("net::ERR_SSL_PROTOCOL_ERROR"))
			default:
				afterCert = append(afterCert, certFails("net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"))
			}
			msg := "the server's certificate has an " + alg + " key; Chrome offers no TLS signature algorithm for it, so the handshake fails"
			if ec && !tls13 {
				msg = "the server's certificate has an " + alg + " key; Chrome accepts ECDSA keys only on the curves it offers (P-256, P-384) and ends the TLS 1.2 handshake when the certificate arrives"
			}
			f.add(Error, "key-unsupported", msg, "Use an ECDSA P-256/P-384 or RSA 2048+ key.")
		}
		if need := keyUsageIncompatible(leaf, st); need != "" {
			if tls13 {
				set(certFails("net::ERR_SSL_KEY_USAGE_INCOMPATIBLE"))
			} else {
				afterCert = append(afterCert, certFails("net::ERR_SSL_KEY_USAGE_INCOMPATIBLE"))
			}
			f.add(Error, "key-usage", "the server's certificate has a keyUsage extension without "+need, "Re-issue with keyUsage=digitalSignature (plus keyEncipherment for RSA keys), or without a keyUsage extension.")
		}
	}
	if chain.NetError != "" {
		set(certFails(chain.NetError))
	}
	for _, x := range afterCert {
		set(x)
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
		} else if unparsed {
			f.add(Info, "ws-upgrade-unchecked", "the WebSocket upgrade was not checked: Go's TLS client cannot complete a handshake with a certificate it cannot parse (Chrome's parser is more lenient)", "")
		} else if !badSig {
			if h := p.try(ctx, wideConfig(tls.VersionTLS10, tls.VersionTLS13), true); h.conn != nil {
				conn = h.conn
				defer conn.Close()
			}
		}
		if conn != nil {
			with := upgrade(ctx, conn, t, cfg.Origin, cfg.Subprotocols, cfg.Cookie, true)
			r.WebSocket.WithOrigin = &with
			if with.Err != "" && pred == nil {
				return nil, examineErr("%s completed TLS but did not answer the WebSocket upgrade request: %s", r.Address, with.Err)
			}
			if h := p.try(ctx, wideConfig(tls.VersionTLS10, tls.VersionTLS13), true); h.conn != nil {
				without := upgrade(ctx, h.conn, t, "", cfg.Subprotocols, cfg.Cookie, true)
				h.conn.Close()
				r.WebSocket.WithoutOrigin = &without
			}
			describeUpgrade(r.WebSocket, t, cfg, &f, set)
		}
	}
	return finish()
}

// notTLS predicts Chrome's error when the port answered a TLS ClientHello
// with something that is not TLS, or closed: Chrome's TLS client fails with
// net::ERR_SSL_PROTOCOL_ERROR (measured against a plain ws:// server, plain
// HTTP, an SSH banner and garbage), or with the connection's own error
// when it closed before answering (measured: ERR_CONNECTION_CLOSED, and
// ERR_CONNECTION_RESET when the reset came first; which one depends on
// timing, so doctor says what it saw itself).
func notTLS(ctx context.Context, t Target, p prober, h handshake, f *findings) (Prediction, bool) {
	switch h.kind {
	case "closed":
		f.add(Error, "tls-closed", "the server closed the connection without answering the TLS handshake (a TLS server that refuses this name or client, or not a TLS server)", "Check the server's TLS configuration and its logs; check the port is the TLS one.")
		return certFails("net::ERR_CONNECTION_CLOSED"), true
	case "reset":
		f.add(Error, "tls-closed", "the server reset the connection without answering the TLS handshake (a TLS server that refuses this name or client, or not a TLS server)", "Check the server's TLS configuration and its logs; check the port is the TLS one.")
		return certFails("net::ERR_CONNECTION_RESET"), true
	case "not-tls":
	default:
		return Prediction{}, false
	}
	what := describeNonTLS(h.firstBytes)
	// Is it the WebSocket server itself, without TLS? Ask it over plain
	// TCP, as ws:// would.
	plain := t
	plain.Scheme = "ws"
	// Half the time left at most: the prediction does not depend on it.
	pctx, cancel := share(ctx, 0.5)
	defer cancel()
	if conn, err := p.dial(pctx); err == nil {
		hs := upgrade(pctx, conn, plain, "", nil, "", false)
		conn.Close()
		if hs.Err == "" && hs.ChromeError == "" {
			what = "plain WebSocket (ws://), accepting the upgrade without TLS"
		} else if hs.Status != 0 {
			what = fmt.Sprintf("plain HTTP (it answered an HTTP request with %d)", hs.Status)
		}
	}
	f.add(Error, "not-tls", "the port does not speak TLS: it is "+what+"; a wss:// URL makes Chrome start a TLS handshake there, which fails",
		"Serve TLS on this port, or dial ws:// (only from http:// pages or to localhost). Python websockets: ssl_context.load_cert_chain() returns None, so websockets.serve(..., ssl=ctx.load_cert_chain(...)) passes ssl=None and serves plain ws://: build the context first (ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain('fullchain.pem', 'privkey.pem')), then pass ssl=ctx. Behind a proxy: terminate TLS there (nginx listen 443 ssl).")
	return certFails("net::ERR_SSL_PROTOCOL_ERROR"), true
}

// brokenTLS explains a server that answers in TLS records with no
// handshake any client completes, and returns Chrome's error: a ServerHello
// for a version below TLS 1.0 (SSL 3.0) is a version mismatch, anything
// else a protocol error.
func brokenTLS(h handshake, f *findings) string {
	b := h.first
	if len(b) >= 11 && b[0] == 22 && b[5] == 2 && b[9] == 3 && b[10] == 0 {
		f.add(Error, "tls-versions", "the server answers with SSL 3.0 (ServerHello version 3.0), which no current client speaks; Chrome speaks only TLS 1.2 and 1.3", "Enable TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3;); upgrade the TLS library if it cannot.")
		return "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"
	}
	f.add(Error, "tls-broken", fmt.Sprintf("the server answers the TLS ClientHello with TLS records, but not with a handshake any version completes (Go: %s; it sent %q)", clip(h.err.Error()), clip(h.firstBytes)),
		"Check the TLS library and configuration of the server (or of the proxy in front of it); test with openssl s_client -connect HOST:PORT -servername HOST.")
	return "net::ERR_SSL_PROTOCOL_ERROR"
}

func describeNonTLS(first string) string {
	switch {
	case strings.HasPrefix(first, "HTTP/"):
		return "plain HTTP"
	case strings.HasPrefix(first, "SSH-"):
		return "an SSH server (" + clip(strings.TrimRight(first, ".")) + ")"
	}
	return fmt.Sprintf("an unknown protocol (it sent %q)", clip(first))
}

// chromeStall is what Chrome does with a server that accepts and never
// answers (measured with Chromium 156: "WebSocket opening handshake timed
// out" after 30 s when the TLS handshake stalls, after 240 s when the HTTP
// response never comes). An outcome that far off is not predicted: doctor
// says it got no answer (exit 2), as for an unreachable server.
const chromeStall = "Chrome would give up with \"WebSocket opening handshake timed out\" (after 30 s in TLS, 240 s waiting for HTTP)"

// unexaminable turns a failed Chrome-like handshake into an ExamineError
// when the endpoint cannot be examined at all.
func unexaminable(addr string, h handshake) error {
	switch h.kind {
	case "dial":
		return &ExamineError{Msg: describeDialErr(addr, h.err), Err: h.err}
	case "interrupted":
		return &ExamineError{Msg: "interrupted", Err: h.err}
	case "timeout":
		return &ExamineError{Msg: fmt.Sprintf("%s accepted the connection but sent nothing back within the time limit (no TLS ServerHello): a stuck server, or one that waits for the client to speak something else; %s", addr, chromeStall), Err: h.err}
	case "stalled":
		return &ExamineError{Msg: fmt.Sprintf("%s started a TLS handshake but stalled: timed out; %s", addr, chromeStall), Err: h.err}
	case "cert-parse":
		return &ExamineError{Msg: fmt.Sprintf("%s sent a certificate that cannot be parsed: %s", addr, clip(h.err.Error())), Err: h.err}
	}
	return nil
}

// describeAlert explains a TLS alert the server answered Chrome's
// ClientHello with.
func describeAlert(desc int, t Target, f *findings) {
	msg := fmt.Sprintf("the server answers the TLS ClientHello with the alert %s, for every TLS version", alertName(desc))
	fix := "Check the server's TLS configuration and its error log for this name and port."
	switch alertNetError(desc) {
	case "net::ERR_SSL_UNRECOGNIZED_NAME_ALERT":
		msg = fmt.Sprintf("the server has no certificate for the name %q (TLS alert unrecognized_name): the name does not match any of its sites", t.Host)
		fix = "Add a site (nginx server_name " + t.Host + ") with a certificate for this name; nginx sends this alert from a default server with ssl_reject_handshake on."
	case "net::ERR_BAD_SSL_CLIENT_AUTH_CERT":
		msg += ": it wants a client certificate, which a page's WebSocket cannot present unless the browser has one installed"
		fix = "Do not require client certificates (mutual TLS) on a port pages connect to, or install the client certificate in every browser."
	case "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH":
		fix = "Enable TLS 1.2 and 1.3 with a modern cipher configuration (Mozilla's \"intermediate\" profile, ssl-config.mozilla.org)."
	}
	f.add(Error, "tls-alert", msg, fix)
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
	useWSS := ""
	if with.TLSPort {
		useWSS = fmt.Sprintf("the port speaks TLS: the URL should be wss://%s%s", t.HostHeader(), t.Path)
	}
	if with.Status == 0 {
		describeNotHTTP(with, useWSS, f)
		return
	}
	noOriginOK := without != nil && without.ChromeError == ""
	switch {
	case useWSS != "":
		f.add(Error, "ws-plain-to-tls", fmt.Sprintf("the client sent plain HTTP to an HTTPS (TLS) server: ws:// speaks HTTP without TLS, the port expects a TLS handshake, and the TLS server answered the unreadable request with HTTP %d (Go: \"Client sent an HTTP request to an HTTPS server\", nginx: \"The plain HTTP request was sent to HTTPS port\"); %s", with.Status, useWSS), "Use wss:// for a TLS port.")
	case noOriginOK && with.Status != without.Status:
		f.add(Error, "origin-check", fmt.Sprintf("the server rejects the upgrade from a page at %s (HTTP %d) but accepts it without an Origin header, as Postman sends it: it checks Origin", with.Origin, with.Status),
			"Allow your front end's origin on the server (e.g. CheckOrigin / allowed_origins / verifyClient), and re-check with your front end's origin.")
		f.recheck(RecheckOrigin)
	case with.Status == http.StatusUnauthorized || with.Status == http.StatusProxyAuthRequired:
		f.add(Error, "auth-header-required", fmt.Sprintf("the server requires authentication (HTTP %d); a page cannot set an Authorization header on new WebSocket()", with.Status),
			"Authenticate with a cookie, a token in the URL (?token=...) or a subprotocol (new WebSocket(url, ['bearer.TOKEN'])), or a ticket from an authenticated HTTP call.")
	case strings.Contains(with.ChromeError, "Sec-WebSocket-Protocol") && len(cfg.Subprotocols) > 0:
		// The page offered some, and the server chose another (or none
		// when it must answer one): RFC 6455 §4.1.
		f.add(Error, "subprotocol-not-offered", with.ChromeError, "The server must answer with one of the subprotocols the page offers ("+strings.Join(cfg.Subprotocols, ", ")+"): list them on the server and let it pick; never set Sec-WebSocket-Protocol by hand.")
	case strings.Contains(with.ChromeError, "Sec-WebSocket-Protocol"):
		f.add(Error, "subprotocol-unrequested", with.ChromeError, "The server must echo exactly one of the subprotocols the page offers, and none when it offers none. Offer it in the page: new WebSocket(url, ['proto']), and re-check offering it.")
		f.recheck(RecheckSubprotocol)
	case with.Status != http.StatusSwitchingProtocols:
		fix := "Check the server's route and its upgrade conditions; the body of the response often says why."
		rc := Recheck("")
		if with.Status == http.StatusBadRequest && len(cfg.Subprotocols) == 0 {
			fix = "A 400 often means the server requires a subprotocol or a query parameter; re-check offering the subprotocol the page offers."
			rc = RecheckSubprotocol
		}
		if with.Status >= 300 && with.Status < 400 {
			fix = "Browsers do not follow redirects on a WebSocket upgrade: use the final URL."
		}
		f.add(Error, "ws-handshake", fmt.Sprintf("the server answered the upgrade with HTTP %d instead of 101 Switching Protocols", with.Status), fix)
		f.recheck(rc)
	default:
		f.add(Error, "ws-handshake", "the server's upgrade response breaks RFC 6455: "+with.ChromeError, "Use a maintained WebSocket library on the server; check any proxy in front of it forwards Upgrade and Connection headers.")
	}
}

// describeNotHTTP explains an answer to the upgrade request that Chrome's
// HTTP parser rejects.
func describeNotHTTP(h *Handshake, useWSS string, f *findings) {
	fix := "Point the URL at the WebSocket server's port; check what listens there (ss -ltnp) and any proxy in front of it."
	if useWSS != "" {
		fix = "Use wss:// for a TLS port."
	}
	sent := fmt.Sprintf("it sent %d bytes starting %q", h.Received, clip(h.First))
	var msg string
	switch h.ChromeError {
	case errInvalidHTTP:
		what := "not HTTP"
		if strings.HasPrefix(h.First, "SSH-") {
			what = "an SSH server's banner"
		}
		msg = "the answer to the upgrade request is " + what + " (" + sent + "); Chrome would read it as HTTP/0.9, which it refuses"
	case errTooBig:
		msg = fmt.Sprintf("the response headers go on past %d KiB, Chrome's limit, without ending", maxResponseHeaders>>10)
		fix = "Check what the server (or a proxy in front of it) sends: a response with that many headers is a bug or a loop."
	case errClosedMidHeaders, errTruncated:
		msg = "the server closed the connection in the middle of its response headers (" + sent + ")"
		fix = "Check the server's logs for a crash or a limit; check any proxy in front of it."
	case errClosedNoResponse:
		msg = "the server closed the connection without answering the upgrade request"
		fix = "Check the server's logs; check that this path serves WebSockets and that a proxy forwards Upgrade and Connection headers."
	case errReset:
		msg = "the server reset the connection while Chrome waited for the upgrade response"
		fix = "Check the server's logs; check any proxy or firewall in front of it."
	default:
		msg = "the server's answer to the upgrade request fails in Chrome: " + h.ChromeError
	}
	if useWSS != "" {
		msg += "; " + useWSS
	}
	f.add(Error, "ws-not-http", msg, fix)
}

// examinePlain handles ws://: mixed content first, then the upgrade over
// plain TCP, judged as Chrome's HTTP parser and handshake checks would.
// decided: Chrome fails before connecting whatever the server does.
func examinePlain(ctx context.Context, t Target, cfg Config, r *Report, f *findings, set func(Prediction), decided bool) error {
	if !potentiallyTrustworthy(t) {
		console := fmt.Sprintf("Mixed Content: The page at '%s/' was loaded over HTTPS, but attempted to connect to the insecure WebSocket endpoint '%s'. This request has been blocked; this endpoint must be available over WSS.", cfg.Origin, t.URL)
		set(Prediction{Verdict: "fails", Outcome: harness.Blocked, Console: console})
		decided = true
		f.add(Error, "mixed-content", "a page served over https:// cannot open ws://"+t.HostHeader()+": Chrome blocks it before connecting (Mixed Content), with no error event and no close code",
			"Serve the socket over TLS and use wss://"+t.HostHeader()+t.Path+" (e.g. nginx terminating TLS and proxying to ws://127.0.0.1:PORT).")
	} else {
		f.add(Info, "mixed-content", "Chrome lets https:// pages open ws:// to localhost and loopback addresses only; the same page will be blocked against any other host", "Use wss:// in production.")
	}
	p := prober{addr: r.Address}
	conn, err := p.dial(ctx)
	if err != nil {
		if ctx.Err() == context.Canceled {
			return &ExamineError{Msg: "interrupted", Err: err}
		}
		if decided {
			f.add(Info, "tcp", describeDialErr(r.Address, err), "")
			return nil
		}
		return &ExamineError{Msg: describeDialErr(r.Address, err), Err: err}
	}
	r.WebSocket = &WebSocketInfo{}
	with := upgrade(ctx, conn, t, cfg.Origin, cfg.Subprotocols, cfg.Cookie, false)
	conn.Close()
	r.WebSocket.WithOrigin = &with
	if with.Err != "" {
		if decided {
			return nil
		}
		if ctx.Err() == context.Canceled {
			return &ExamineError{Msg: "interrupted", Err: context.Canceled}
		}
		return examineErr("%s accepted the connection but did not answer the WebSocket upgrade request: %s; %s", r.Address, with.Err, chromeStall)
	}
	if c2, err := p.dial(ctx); err == nil {
		without := upgrade(ctx, c2, t, "", cfg.Subprotocols, cfg.Cookie, false)
		r.WebSocket.WithoutOrigin = &without
		c2.Close()
	}
	if with.ChromeError != "" {
		// Is the port a TLS one? Chrome never finds out, but it is the
		// usual reason an HTTP request gets a strange answer.
		tctx, cancel := share(ctx, 0.5)
		h := prober{addr: r.Address, sni: r.SNI}.try(tctx, wideConfig(tls.VersionTLS10, tls.VersionTLS13), false)
		cancel()
		with.TLSPort = h.err == nil || h.kind == "tls" || h.kind == "bad-signature" || h.kind == "cert-parse"
	}
	describeUpgrade(r.WebSocket, t, cfg, f, set)
	return nil
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
func aiaFetcher(ctx context.Context, cfg Config) func(string) ([]byte, error) {
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			for _, o := range cfg.Resolve {
				if h, _, err := CanonicalHost(host); err == nil && h == o.Host && port == fmt.Sprint(o.Port) {
					addr = net.JoinHostPort(o.Addr, port)
				}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(u string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
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
