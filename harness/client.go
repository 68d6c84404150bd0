package harness

import (
	"context"
	"errors"
)

// Class is what kind of client a column is. Expectations default per class
// (scenarios.Want), so a new client of an existing class needs only its own
// reasons and the rows where it behaves unlike its class.
type Class string

const (
	// BrowserClass: a real browser. It verifies against its trust store,
	// always sends an Origin, cannot set request headers, and hides the
	// reason from the page (it comes from the browser's debugging protocol).
	BrowserClass Class = "browser"
	// VerifyingClass: a non-browser client that verifies the certificate
	// against the run's root (a correctly configured backend, bot or test).
	VerifyingClass Class = "verifying"
	// LaxClass: verification off, no Origin: Postman's defaults.
	LaxClass Class = "lax"
)

// Classes in the order reports show them.
var Classes = []Class{BrowserClass, VerifyingClass, LaxClass}

// Vocabulary names the words a client's Observation.Reason is in. Clients
// that share one (the two Go clients) share the table's reasons.
type Vocabulary string

const (
	// ChromeReasons: net::ERR_… from DevTools, or Chromium's WebSocket
	// handshake error text ("Unexpected response code: 403").
	ChromeReasons Vocabulary = "chrome"
	// GoReasons: a stable description of a Go error by its type (see
	// GoReason): "x509.HostnameError", "HTTP 403", ….
	GoReasons Vocabulary = "go"
	// FirefoxReasons: the NSS / mozilla::pkix error name Firefox reports
	// over WebDriver BiDi ("SEC_ERROR_UNKNOWN_ISSUER"), "HTTP 403" for a
	// rejected upgrade, or the exception the page's constructor threw.
	FirefoxReasons Vocabulary = "firefox"
)

// ClientInfo is what a client declares about itself.
type ClientInfo struct {
	// ID is stable: JSON, subtests (TestScenarios/<scenario>/<id>) and
	// `wsslab run --clients` use it. Never rename one.
	ID string `json:"id"`
	// Name is for people: "Chrome (headless Chromium)".
	Name  string `json:"name"`
	Class Class  `json:"class"`
	// Reasons is the vocabulary of Observation.Reason.
	Reasons Vocabulary `json:"reasons"`
	// Version is the client's version once it runs ("Chrome/156.0…",
	// "go1.26.8"), "" before.
	Version string `json:"version,omitempty"`
}

// Client dials targets and reports what happened: one Observation per
// target, in order. A client dials a whole batch at once (the browser: one
// page, many sockets; a client in another runtime: one process per batch).
type Client interface {
	Info() ClientInfo
	DialAll(ctx context.Context, targets []Target) []Observation
}

// Dial is one target dialed by c, as a batch of one.
func Dial(ctx context.Context, c Client, t Target) Observation {
	return c.DialAll(ctx, []Target{t})[0]
}

// Client ids of the clients wsslab has today.
const (
	ChromeID  = "chrome"
	FirefoxID = "firefox"
	LaxID     = "lax"
	StrictID  = "strict"
)

// ErrNotInstalled is wrapped by a client's start error when its runtime is
// missing here (the browser's is ErrNoBrowser). The message names the
// command that installs it.
var ErrNotInstalled = errors.New("not installed")

// IsNotInstalled reports whether err means a client's runtime is missing.
func IsNotInstalled(err error) bool {
	return errors.Is(err, ErrNotInstalled) || errors.Is(err, ErrNoBrowser)
}
