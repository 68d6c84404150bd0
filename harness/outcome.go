// Package harness runs WSS servers with chosen certificates and dials them with
// clients (real headless Chromium, a lax Postman-like Go client, a strict Go
// client), each declaring itself with a ClientInfo. Each dial returns an
// Observation: one shared classification (Outcome), the client's own reason,
// and the raw evidence. A failed connection is an observation, not an error.
package harness

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsslab/wsslab/chromenet"
)

// Outcome classifies what a client saw: "connected", or a named failure class
// (chromenet.Outcome, where the classes are documented).
type Outcome = chromenet.Outcome

// The outcome classes, as in chromenet.
const (
	Connected         = chromenet.Connected
	CertUntrusted     = chromenet.CertUntrusted
	CertNameMismatch  = chromenet.CertNameMismatch
	CertDateInvalid   = chromenet.CertDateInvalid
	CertInvalid       = chromenet.CertInvalid
	TLSFailed         = chromenet.TLSFailed
	HandshakeRejected = chromenet.HandshakeRejected
	HandshakeInvalid  = chromenet.HandshakeInvalid
	Blocked           = chromenet.Blocked
	Unreachable       = chromenet.Unreachable
	NoEcho            = chromenet.NoEcho
	Failed            = chromenet.Failed
)

// Observation is what one client saw when dialing one URL.
type Observation struct {
	// Client is the client's id (ClientInfo.ID).
	Client  string  `json:"client"`
	URL     string  `json:"url"`
	Outcome Outcome `json:"outcome"`
	// Reason is why it failed, exactly, in the client's own words (its
	// ClientInfo.Reasons vocabulary), and stable across runs: no ports,
	// timestamps or addresses, so the table can compare it. Chrome: the
	// net::ERR_… DevTools reports and the page never sees, or the handshake
	// error text ("Unexpected response code: 403"). Go clients: GoReason.
	// Empty when the client connected.
	Reason string `json:"reason,omitempty"`
	// Error is the whole message: Chrome's console line, a Go client's
	// error text.
	Error string `json:"error,omitempty"`
	// Err is a Go client's error as it was returned, for errors.As
	// (x509.HostnameError, …); nil for the browser.
	Err error `json:"-"`
	// CloseCode is the WebSocket close code the page saw (1006 when the
	// browser hides the reason), 0 when the socket never reached JavaScript.
	CloseCode   int    `json:"close_code,omitempty"`
	Echo        string `json:"echo,omitempty"`
	Subprotocol string `json:"subprotocol,omitempty"`
	// Evidence holds raw lines: DevTools events, the console line, Go's
	// error chain, the HTTP status.
	Evidence []string      `json:"evidence,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// disturbed: the dial was upset by the machine, not the server (see
	// Browser.DialAll); disturbedBy says how.
	disturbed   bool
	disturbedBy string
	// Screenshot is a PNG of the page after the dial, when the browser was
	// started with BrowserConfig.Screenshots; nil otherwise.
	Screenshot []byte `json:"-"`
}

// ClassifyGo classifies an error from a Go WebSocket dial by its type, the way
// crypto/x509's own tests check verification errors. resp is the HTTP
// response gorilla returns with ErrBadHandshake.
//
// Where text is matched, honestly: crypto/tls reports a TLS alert the server
// sent as a *net.OpError whose Op is "remote error" (the alert's own type is
// unexported; tls.AlertError is only used with QUIC), so the Op field is
// compared; and when crypto/tls aborts a handshake itself (e.g. a server
// choosing a version the client disabled) it returns a plain fmt.Errorf
// error, recognized by its "tls: " prefix — no wsslab scenario produces one.
func ClassifyGo(err error, resp *http.Response) Outcome {
	if err == nil {
		return Connected
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		insecure x509.InsecureAlgorithmError
		system   x509.SystemRootsError
		recHdr   tls.RecordHeaderError
		opErr    *net.OpError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &system):
		return CertUntrusted
	case errors.As(err, &hostname):
		return CertNameMismatch
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return CertDateInvalid
		}
		return CertInvalid
	case errors.As(err, &insecure):
		return CertInvalid
	case errors.Is(err, websocket.ErrBadHandshake):
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return HandshakeRejected
		}
		return HandshakeInvalid
	case remoteAlert(err) != nil, errors.As(err, &recHdr):
		return TLSFailed
	case tlsLocalFailure(err) != "":
		return TLSFailed
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return Unreachable
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Unreachable
	}
	return Failed
}

// remoteAlert returns the *net.OpError crypto/tls wraps a received TLS alert
// in (Op "remote error", Err the alert), or nil.
func remoteAlert(err error) *net.OpError {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "remote error" {
		return opErr
	}
	return nil
}

// tlsLocalFailure returns the message of an error crypto/tls raised itself
// without a type of its own ("tls: server selected unsupported protocol
// version 301"), or "". Text, because there is nothing else to go by.
func tlsLocalFailure(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, wraps := e.(interface{ Unwrap() error }); wraps {
			continue
		}
		if s := e.Error(); strings.HasPrefix(s, "tls: ") {
			return s
		}
	}
	return ""
}

// x509Reasons names x509.InvalidReason values as the constants are spelled.
var x509Reasons = map[x509.InvalidReason]string{
	x509.NotAuthorizedToSign:           "NotAuthorizedToSign",
	x509.Expired:                       "Expired",
	x509.CANotAuthorizedForThisName:    "CANotAuthorizedForThisName",
	x509.TooManyIntermediates:          "TooManyIntermediates",
	x509.IncompatibleUsage:             "IncompatibleUsage",
	x509.NameMismatch:                  "NameMismatch",
	x509.NameConstraintsWithoutSANs:    "NameConstraintsWithoutSANs",
	x509.UnconstrainedName:             "UnconstrainedName",
	x509.TooManyConstraints:            "TooManyConstraints",
	x509.CANotAuthorizedForExtKeyUsage: "CANotAuthorizedForExtKeyUsage",
	x509.NoValidChains:                 "NoValidChains",
}

// GoReason is a Go dial error described by its type, stable across runs (an
// error's text carries times, addresses and ports; these do not):
// "x509.UnknownAuthorityError", "x509.CertificateInvalidError: Expired",
// "HTTP 403", "remote error: tls: protocol version not supported", ….
func GoReason(err error, resp *http.Response) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		insecure x509.InsecureAlgorithmError
		system   x509.SystemRootsError
		recHdr   tls.RecordHeaderError
		opErr    *net.OpError
		reasonEr *ReasonError
		ne       net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &reasonEr):
		return reasonEr.Reason
	case errors.As(err, &unknown):
		return "x509.UnknownAuthorityError"
	case errors.As(err, &system):
		return "x509.SystemRootsError"
	case errors.As(err, &hostname):
		return "x509.HostnameError"
	case errors.As(err, &invalid):
		return "x509.CertificateInvalidError: " + x509Reasons[invalid.Reason]
	case errors.As(err, &insecure):
		return "x509.InsecureAlgorithmError: " + x509.SignatureAlgorithm(insecure).String()
	case errors.Is(err, websocket.ErrBadHandshake):
		if resp != nil {
			return fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return "websocket: bad handshake"
	case remoteAlert(err) != nil:
		// "remote error: tls: <the alert's description>".
		return remoteAlert(err).Error()
	case errors.As(err, &recHdr):
		return "tls.RecordHeaderError"
	case tlsLocalFailure(err) != "":
		return tlsLocalFailure(err)
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Err != nil:
		return "dial: " + opErr.Err.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return fmt.Sprintf("%T", err)
}

// ReasonError is a failure a Go client detects itself (no library error
// exists for it): Reason is what GoReason reports.
type ReasonError struct {
	Reason string
	Err    error
}

func (e *ReasonError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *ReasonError) Unwrap() error { return e.Err }

// ClassifyNetError classifies what Chrome reported for a WebSocket: see
// chromenet.ClassifyNetError.
func ClassifyNetError(text string) Outcome { return chromenet.ClassifyNetError(text) }

// NetErrorCode extracts "net::ERR_..." from a DevTools message, or "".
func NetErrorCode(text string) string { return chromenet.NetErrorCode(text) }

// BrowserReason is the part of a DevTools WebSocket error message worth
// showing: see chromenet.BrowserReason.
func BrowserReason(text string) string { return chromenet.BrowserReason(text) }
