package harness

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wsslab/wsslab/certs"
)

// Chrome's messages as DevTools reports them, including ones wsslab's table
// does not produce: the classification must follow Chrome's error names, not
// the table.
var netErrorCases = []struct {
	text string
	code string
	want Outcome
}{
	{"Error in connection establishment: net::ERR_CERT_AUTHORITY_INVALID", "net::ERR_CERT_AUTHORITY_INVALID", CertUntrusted},
	{"Error in connection establishment: net::ERR_CERT_COMMON_NAME_INVALID", "net::ERR_CERT_COMMON_NAME_INVALID", CertNameMismatch},
	{"Error in connection establishment: net::ERR_CERT_DATE_INVALID", "net::ERR_CERT_DATE_INVALID", CertDateInvalid},
	{"Error in connection establishment: net::ERR_CERT_WEAK_KEY", "net::ERR_CERT_WEAK_KEY", CertInvalid},
	{"Error in connection establishment: net::ERR_CERT_REVOKED", "net::ERR_CERT_REVOKED", CertInvalid},
	{"Error in connection establishment: net::ERR_CERT_VALIDITY_TOO_LONG", "net::ERR_CERT_VALIDITY_TOO_LONG", CertInvalid},
	{"Error in connection establishment: net::ERR_CERT_NAME_CONSTRAINT_VIOLATION", "net::ERR_CERT_NAME_CONSTRAINT_VIOLATION", CertInvalid},
	{"Error in connection establishment: net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", TLSFailed},
	{"Error in connection establishment: net::ERR_SSL_PROTOCOL_ERROR", "net::ERR_SSL_PROTOCOL_ERROR", TLSFailed},
	{"Error in connection establishment: net::ERR_CONNECTION_REFUSED", "net::ERR_CONNECTION_REFUSED", Unreachable},
	{"Error in connection establishment: net::ERR_NAME_NOT_RESOLVED", "net::ERR_NAME_NOT_RESOLVED", Unreachable},
	{"Error in connection establishment: net::ERR_UNSAFE_PORT", "net::ERR_UNSAFE_PORT", Blocked},
	{"Error in connection establishment: net::ERR_SOMETHING_NEW", "net::ERR_SOMETHING_NEW", Failed},
	{"Error during WebSocket handshake: Unexpected response code: 403", "", HandshakeRejected},
	{"Error during WebSocket handshake: Unexpected response code: 502", "", HandshakeRejected},
	{"HTTP Authentication failed; no valid credentials available", "", HandshakeRejected},
	{"Error during WebSocket handshake: 'Upgrade' header is missing", "", HandshakeInvalid},
	{"Error during WebSocket handshake: Sent non-empty 'Sec-WebSocket-Protocol' header but no response was received", "", HandshakeInvalid},
	{"Connection closed before receiving a handshake response", "", Unreachable},
	{"Mixed Content: The page at 'https://a/' was loaded over HTTPS, but attempted to connect to the insecure WebSocket endpoint 'ws://b/'.", "", Blocked},
	{"something else entirely", "", Failed},
}

func TestClassifyNetError(t *testing.T) {
	for _, tc := range netErrorCases {
		if got := ClassifyNetError(tc.text); got != tc.want {
			t.Errorf("ClassifyNetError(%q) = %s, want %s", tc.text, got, tc.want)
		}
		if got := NetErrorCode(tc.text); got != tc.code {
			t.Errorf("NetErrorCode(%q) = %q, want %q", tc.text, got, tc.code)
		}
	}
}

func TestBrowserReason(t *testing.T) {
	for in, want := range map[string]string{
		"Error in connection establishment: net::ERR_CERT_DATE_INVALID":   "net::ERR_CERT_DATE_INVALID",
		"Error during WebSocket handshake: Unexpected response code: 403": "Unexpected response code: 403",
		"HTTP Authentication failed; no valid credentials available":      "HTTP Authentication failed; no valid credentials available",
	} {
		if got := BrowserReason(in); got != want {
			t.Errorf("BrowserReason(%q) = %q, want %q", in, got, want)
		}
	}
}

// Go errors are classified by type, wrapped as crypto/tls and gorilla wrap
// them.
func TestClassifyGo(t *testing.T) {
	wrap := func(err error) error { return &tls.CertificateVerificationError{Err: err} }
	cases := []struct {
		err  error
		resp *http.Response
		want Outcome
	}{
		{nil, nil, Connected},
		{wrap(x509.UnknownAuthorityError{}), nil, CertUntrusted},
		{wrap(x509.HostnameError{Host: "a"}), nil, CertNameMismatch},
		{wrap(x509.CertificateInvalidError{Reason: x509.Expired}), nil, CertDateInvalid},
		{wrap(x509.CertificateInvalidError{Reason: x509.IncompatibleUsage}), nil, CertInvalid},
		{wrap(x509.InsecureAlgorithmError(x509.SHA1WithRSA)), nil, CertInvalid},
		{websocket.ErrBadHandshake, &http.Response{StatusCode: 403}, HandshakeRejected},
		{websocket.ErrBadHandshake, &http.Response{StatusCode: 101}, HandshakeInvalid},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, nil, Unreachable},
		{errors.New("odd"), nil, Failed},
	}
	for _, tc := range cases {
		if got := ClassifyGo(tc.err, tc.resp); got != tc.want {
			t.Errorf("ClassifyGo(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// textless hides an error's text and keeps its chain: what is classified
// by type still is.
type textless struct{ err error }

func (e textless) Error() string { return "(text hidden)" }
func (e textless) Unwrap() error { return e.err }

// TLS failures come from real handshakes with servers that refuse in the
// ways real ones do: crypto/tls reports a received alert as a *net.OpError
// (never as tls.AlertError, which is QUIC's), and a server that does not
// speak TLS as a tls.RecordHeaderError. Both are classified by type: with
// their text hidden they still are.
func TestClassifyGoRealTLSFailures(t *testing.T) {
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Mint(certs.Request{DNSNames: []string{"tls.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	cert := leaf.TLSCertificate()
	for _, tc := range []struct {
		name   string
		server *tls.Config // nil: a plain HTTP server
		reason string
	}{
		{"versions", &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS11}, "remote error: tls: protocol version not supported"},
		// RSA key exchange only, which Go's client no longer offers (and an
		// ECDSA certificate could not use): no cipher in common.
		{"suites", &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}, "remote error: tls: handshake failure"},
		// A server whose certificate callback fails sends an alert.
		{"alert", &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, errors.New("no certificate") }}, "remote error: tls: internal error"},
		{"not-tls", nil, "tls.RecordHeaderError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						if tc.server == nil {
							c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
							return
						}
						tls.Server(c, tc.server).Handshake()
					}()
				}
			}()
			obs := Lax().Dial(t.Context(), Target{URL: "wss://tls.wsslab.test/", Addr: ln.Addr().String(), Message: "hi"})
			if obs.Outcome != TLSFailed || obs.Reason != tc.reason {
				t.Errorf("got %s %q, want %s %q (%v)", obs.Outcome, obs.Reason, TLSFailed, tc.reason, obs.Err)
			}
			var alert tls.AlertError
			if errors.As(obs.Err, &alert) {
				t.Errorf("a TCP dial produced a tls.AlertError: %v", obs.Err)
			}
			if got := ClassifyGo(textless{obs.Err}, nil); got != TLSFailed {
				t.Errorf("with its text hidden, %T classified as %s, want %s", obs.Err, got, TLSFailed)
			}
		})
	}
}

// GoReason describes errors by type, with no times or addresses in it.
func TestGoReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		resp *http.Response
		want string
	}{
		{&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time 2026-01-01 is after 2025-01-01"}}, nil, "x509.CertificateInvalidError: Expired"},
		{&tls.CertificateVerificationError{Err: x509.HostnameError{Host: "a.example"}}, nil, "x509.HostnameError"},
		{websocket.ErrBadHandshake, &http.Response{StatusCode: 403}, "HTTP 403"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, nil, "dial: connect: connection refused"},
		{&ReasonError{Reason: "subprotocol not offered: chat.v1"}, nil, "subprotocol not offered: chat.v1"},
	} {
		if got := GoReason(tc.err, tc.resp); got != tc.want {
			t.Errorf("GoReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
