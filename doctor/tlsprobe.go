package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// chromeSuites are the TLS 1.2 cipher suites Chromium 156 offers (read
// from its ClientHello), in its order; TLS 1.3 suites are not
// configurable in Go and match Chrome's.
var chromeSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

// chromeCurves: Chrome offers X25519MLKEM768, X25519, P-256 and P-384 (no
// P-521).
var chromeCurves = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}

func allSuites() []uint16 {
	var ids []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, cs.ID)
	}
	return ids
}

// handshake is one TLS attempt's result.
type handshake struct {
	state tls.ConnectionState
	raw   [][]byte
	conn  *tls.Conn
	err   error
	// kind classifies a failure: "dial", "timeout", "stalled", "not-tls",
	// "closed", "reset" (before any answer), "tls" (a TLS-level refusal),
	// "cert-parse", "bad-signature", "interrupted".
	kind string
	// firstBytes is what a non-TLS server answered; first the same bytes
	// as sent (up to 64).
	firstBytes string
	first      []byte
	// alert is the TLS alert the server answered with before any
	// handshake message (read from the wire), or -1.
	alert int
}

// prober connects to one address. Every dial, handshake and read ends at
// the deadline of the context it is given (the examination's), or at once
// when that context is cancelled.
type prober struct {
	addr string
	sni  string
}

func (p prober) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", p.addr)
}

// try runs one TLS handshake with cfg; keep leaves the connection open.
func (p prober) try(ctx context.Context, cfg *tls.Config, keep bool) handshake {
	h := handshake{alert: -1}
	cfg = cfg.Clone()
	cfg.ServerName = p.sni
	// Verification is doctor's own (the Chrome model); the raw chain is
	// captured here exactly as sent.
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		h.raw = raw
		return nil
	}
	raw, err := p.dial(ctx)
	if err != nil {
		h.err, h.kind = err, "dial"
		return h
	}
	rec := &recorder{Conn: raw}
	if d, ok := ctx.Deadline(); ok {
		raw.SetDeadline(d)
	}
	c := tls.Client(rec, cfg)
	err = c.HandshakeContext(ctx)
	// The examination's deadline stays on the connection: later reads
	// (the upgrade) are bound to it too.
	if err != nil {
		h.err = err
		h.kind = classifyTLSErr(err, rec)
		h.firstBytes = rec.first()
		h.first = append([]byte(nil), rec.buf...)
		h.alert = rec.alert()
		raw.Close()
		return h
	}
	h.state = c.ConnectionState()
	if keep {
		h.conn = c
	} else {
		c.Close()
	}
	return h
}

func classifyTLSErr(err error, rec *recorder) string {
	var ne net.Error
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh):
		return "not-tls"
	case errors.As(err, &ne) && ne.Timeout():
		if rec.n == 0 {
			return "timeout"
		}
		return "stalled"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if rec.n == 0 {
			return "closed"
		}
		return "tls"
	case errors.Is(err, syscall.ECONNRESET):
		if rec.n == 0 {
			return "reset"
		}
		return "tls"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case strings.Contains(err.Error(), "failed to parse certificate"):
		return "cert-parse"
	case strings.Contains(err.Error(), "invalid signature by the server certificate"):
		// The chain was captured (verification runs first); the key the
		// server signs with is not its first certificate's.
		return "bad-signature"
	}
	return "tls"
}

// recorder keeps the first bytes a server sends, to tell a plain HTTP or
// SSH server from a TLS one.
type recorder struct {
	net.Conn
	buf []byte
	n   int
	// keepAll keeps everything read (up to maxRecorded) in all.
	keepAll bool
	all     []byte
}

// maxRecorded bounds what a recorder keeps: a Certificate message of
// maxServed large certificates fits.
const maxRecorded = 1 << 20

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if len(r.buf) < 64 {
		r.buf = append(r.buf, p[:min(n, 64-len(r.buf))]...)
	}
	if r.keepAll && len(r.all) < maxRecorded {
		r.all = append(r.all, p[:min(n, maxRecorded-len(r.all))]...)
	}
	r.n += n
	return n, err
}

func (r *recorder) first() string { return printable(r.buf) }

// alert is the description of a plaintext alert record that is the first
// thing the server sent (content type 21, then version, length 2, level,
// description), or -1.
func (r *recorder) alert() int {
	if len(r.buf) >= 7 && r.buf[0] == 21 && r.buf[3] == 0 && r.buf[4] == 2 {
		return int(r.buf[6])
	}
	return -1
}

// alertNetError is the net error Chrome reports when the server answers its
// ClientHello with alert desc, measured with Chromium 156 for every alert
// listed (and internal_error, access_denied, decode_error, illegal_parameter,
// close_notify, which give the default).
func alertNetError(desc int) string {
	switch desc {
	case 112: // unrecognized_name
		return "net::ERR_SSL_UNRECOGNIZED_NAME_ALERT"
	case 40, 70, 71: // handshake_failure, protocol_version, insufficient_security
		return "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"
	case 42, 43, 44, 45, 46, 48, 116: // bad/unsupported/revoked/expired/unknown certificate, unknown_ca, certificate_required
		return "net::ERR_BAD_SSL_CLIENT_AUTH_CERT"
	}
	return "net::ERR_SSL_PROTOCOL_ERROR"
}

var alertNames = map[int]string{0: "close_notify", 10: "unexpected_message", 40: "handshake_failure", 42: "bad_certificate",
	43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error", 112: "unrecognized_name", 116: "certificate_required"}

func alertName(desc int) string {
	if n, ok := alertNames[desc]; ok {
		return n
	}
	return fmt.Sprintf("alert %d", desc)
}

func chromeConfig() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		MaxVersion:       tls.VersionTLS13,
		CipherSuites:     chromeSuites,
		CurvePreferences: chromeCurves,
		NextProtos:       []string{"http/1.1"},
	}
}

// chrome12Config is Chrome's offer capped at TLS 1.2, whose Certificate
// message travels in the clear.
func chrome12Config() *tls.Config {
	c := chromeConfig()
	c.MaxVersion = tls.VersionTLS12
	return c
}

func wideConfig(minV, maxV uint16) *tls.Config {
	return &tls.Config{
		MinVersion:   minV,
		MaxVersion:   maxV,
		CipherSuites: allSuites(),
		NextProtos:   []string{"http/1.1"},
	}
}

var versionNames = map[uint16]string{tls.VersionTLS10: "TLS 1.0", tls.VersionTLS11: "TLS 1.1", tls.VersionTLS12: "TLS 1.2", tls.VersionTLS13: "TLS 1.3"}

// leafSignatureUnsupported: Chrome offers no TLS signature algorithm for
// Ed25519 or P-521 keys, so a server with such a leaf cannot complete a
// handshake with it (measured: ERR_SSL_VERSION_OR_CIPHER_MISMATCH).
func leafSignatureUnsupported(leaf *x509.Certificate) string {
	switch k := leaf.PublicKey.(type) {
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P521() {
			return "ECDSA P-521"
		}
	}
	return ""
}

// rsaTooSmallToSign is the bit size of the first served certificate's RSA
// key when it is too small for RSA-PSS with SHA-256 (RFC 8017: at least
// 2*32+2 bytes), which TLS 1.3 requires and Chrome offers first; else 0.
func rsaTooSmallToSign(raw [][]byte) int {
	if len(raw) == 0 {
		return 0
	}
	c, err := parseCertificate(raw[0])
	if err != nil {
		return 0
	}
	if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.Size() < 2*32+2 {
		return k.N.BitLen()
	}
	return 0
}

// keyUsageIncompatible: BoringSSL checks the leaf's keyUsage against how
// the key is used in the handshake before Chrome verifies the certificate
// (measured: ERR_SSL_KEY_USAGE_INCOMPATIBLE wins over every certificate
// error).
func keyUsageIncompatible(leaf *x509.Certificate, st tls.ConnectionState) string {
	if leaf.KeyUsage == 0 {
		return ""
	}
	rsaKX := false
	for _, id := range []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA} {
		rsaKX = rsaKX || st.CipherSuite == id
	}
	if rsaKX {
		if leaf.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
			return "keyEncipherment (the handshake uses RSA key exchange)"
		}
		return ""
	}
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return "digitalSignature (the server signs the handshake with this key)"
	}
	return ""
}

func describeDialErr(addr string, err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("cannot connect to %s: timed out (firewall, security group, or nothing listening)", addr)
	case strings.Contains(err.Error(), "refused"):
		return fmt.Sprintf("cannot connect to %s: connection refused (nothing listening on that port)", addr)
	case strings.Contains(err.Error(), "no such host"):
		return fmt.Sprintf("cannot resolve %s: no such host (check the DNS record, or give the address to connect to)", addr)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return fmt.Sprintf("cannot connect to %s: %v", addr, oe.Err)
	}
	return fmt.Sprintf("cannot connect to %s: %v", addr, err)
}
