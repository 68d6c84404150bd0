package harness

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
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
		{fmt.Errorf("dial: %w", tls.AlertError(70)), nil, TLSFailed},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, nil, Unreachable},
		{errors.New("odd"), nil, Failed},
	}
	for _, tc := range cases {
		if got := ClassifyGo(tc.err, tc.resp); got != tc.want {
			t.Errorf("ClassifyGo(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
