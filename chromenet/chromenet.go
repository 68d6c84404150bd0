// Package chromenet is what wsslab knows about Chrome's network errors: the
// outcome class of each net error name (net/base/net_error_list.h), the order
// in which Chrome picks one error for several certificate problems, the
// HTTP-authentication message a WebSocket gets for a 401, and the ports Chrome
// refuses to connect to. It imports only the standard library, so the harness,
// the doctor and the CLI share one copy.
package chromenet

import "strings"

// Outcome classifies what a client saw: "connected", or a named failure class.
// The classes are shared by every client, so the browser's and Go's views of
// one server can be compared directly.
type Outcome string

const (
	Connected Outcome = "connected"
	// CertUntrusted: no path to a trusted root (self-signed, missing
	// intermediate, private root). Chrome: net::ERR_CERT_AUTHORITY_INVALID.
	CertUntrusted Outcome = "cert-untrusted"
	// CertNameMismatch: the URL's host is not in the certificate's SAN.
	// Chrome: net::ERR_CERT_COMMON_NAME_INVALID.
	CertNameMismatch Outcome = "cert-name-mismatch"
	// CertDateInvalid: expired or not yet valid. Chrome: net::ERR_CERT_DATE_INVALID.
	CertDateInvalid Outcome = "cert-date-invalid"
	// CertInvalid: any other certificate rejection (weak signature or key,
	// wrong key usage, malformed, validity too long for a public CA, ...).
	CertInvalid Outcome = "cert-invalid"
	// TLSFailed: the TLS handshake failed for a reason other than the
	// certificate (no common version or cipher, protocol error).
	TLSFailed Outcome = "tls-failed"
	// HandshakeRejected: TLS worked, the server answered the HTTP upgrade with
	// a status other than 101 (an Origin check's 403, a 401 for auth, ...).
	HandshakeRejected Outcome = "handshake-rejected"
	// HandshakeInvalid: the server answered 101 but the client rejected the
	// answer (a subprotocol it did not ask for, a missing accept header, ...).
	HandshakeInvalid Outcome = "handshake-invalid"
	// Blocked: the client refused to even try (mixed content, unsafe port).
	Blocked Outcome = "blocked"
	// Unreachable: no connection (refused, timeout, name not resolved).
	Unreachable Outcome = "unreachable"
	// NoEcho: the socket opened but the echo never came back.
	NoEcho Outcome = "no-echo"
	// Failed: a failure no class above describes; see the evidence.
	Failed Outcome = "failed"
)

// HTTPAuthFailed is the whole message Chrome reports (without the usual
// "Error during WebSocket handshake: " prefix) when a WebSocket handshake is
// answered 401: Chrome tries HTTP authentication and has no credentials.
const HTTPAuthFailed = "HTTP Authentication failed; no valid credentials available"

// ClassifyNetError classifies what Chrome reported for a WebSocket, from the
// text DevTools gives (Network.webSocketFrameError / Log.entryAdded), using
// Chrome's own error names (net/base/net_error_list.h), so an error that is
// not in wsslab's table still lands in the right class.
func ClassifyNetError(text string) Outcome {
	code := NetErrorCode(text)
	switch {
	case code == "":
	case code == "net::ERR_CERT_AUTHORITY_INVALID":
		return CertUntrusted
	case code == "net::ERR_CERT_COMMON_NAME_INVALID":
		return CertNameMismatch
	case code == "net::ERR_CERT_DATE_INVALID":
		return CertDateInvalid
	case strings.HasPrefix(code, "net::ERR_CERT_"), code == "net::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
		code == "net::ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN", code == "net::ERR_SSL_WEAK_SERVER_EPHEMERAL_DH_KEY",
		code == "net::ERR_BAD_SSL_CLIENT_AUTH_CERT", code == "net::ERR_SSL_SERVER_CERT_BAD_FORMAT":
		return CertInvalid
	case strings.HasPrefix(code, "net::ERR_SSL_"), code == "net::ERR_TLS13_DOWNGRADE_DETECTED",
		code == "net::ERR_ECH_NOT_NEGOTIATED", code == "net::ERR_ECH_FALLBACK_CERTIFICATE_INVALID":
		return TLSFailed
	case code == "net::ERR_UNSAFE_PORT", code == "net::ERR_BLOCKED_BY_CLIENT", code == "net::ERR_BLOCKED_BY_RESPONSE",
		code == "net::ERR_BLOCKED_BY_ADMINISTRATOR":
		return Blocked
	case code == "net::ERR_CONNECTION_REFUSED", code == "net::ERR_CONNECTION_TIMED_OUT",
		code == "net::ERR_NAME_NOT_RESOLVED", code == "net::ERR_ADDRESS_UNREACHABLE",
		code == "net::ERR_CONNECTION_RESET", code == "net::ERR_CONNECTION_CLOSED",
		code == "net::ERR_TIMED_OUT", code == "net::ERR_EMPTY_RESPONSE", code == "net::ERR_ADDRESS_INVALID":
		return Unreachable
	default:
		return Failed
	}
	// No net error code: a WebSocket handshake error (Chromium's
	// net/websockets messages), or mixed content.
	switch {
	case strings.Contains(text, "Unexpected response code:"),
		// A 401/407 answer: Chrome tries HTTP auth and has nothing to send.
		strings.Contains(text, HTTPAuthFailed),
		strings.Contains(text, "Proxy authentication failed"):
		return HandshakeRejected
	case strings.Contains(text, "Error during WebSocket handshake"):
		return HandshakeInvalid
	case strings.Contains(text, "Connection closed before receiving a handshake response"),
		strings.Contains(text, "WebSocket opening handshake timed out"):
		return Unreachable
	case strings.Contains(text, "Mixed Content"):
		return Blocked
	}
	return Failed
}

// NetErrorCode extracts "net::ERR_..." from a DevTools message, or "".
func NetErrorCode(text string) string {
	i := strings.Index(text, "net::ERR_")
	if i < 0 {
		return ""
	}
	j := i + len("net::")
	for j < len(text) && (text[j] == '_' || text[j] >= 'A' && text[j] <= 'Z' || text[j] >= '0' && text[j] <= '9') {
		j++
	}
	return text[i:j]
}

// BrowserReason is the part of a DevTools WebSocket error message worth
// showing: the net error code, or the handshake error after "Error during
// WebSocket handshake: ".
func BrowserReason(text string) string {
	if code := NetErrorCode(text); code != "" {
		return code
	}
	if _, after, ok := strings.Cut(text, "Error during WebSocket handshake: "); ok {
		return after
	}
	return text
}
