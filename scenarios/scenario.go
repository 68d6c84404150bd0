// Package scenarios is wsslab's table: each row a WSS server deliberately set
// up the way real deployments get it wrong (or right, for the controls), with
// what each client (Clients: real Chrome, a Postman-like lax client, a strict
// Go client) was measured to do against it. The table is plain data; one
// runner (Lab.Run) drives it for the Go tests, the benchmarks and
// `wsslab run`; `wsslab serve` starts its servers with Lab.Start.
package scenarios

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// Kind says which contrast a scenario teaches; a test checks that the Want
// row agrees with it (for the browser and lax classes).
type Kind string

const (
	// Control: every client connects.
	Control Kind = "control"
	// BrowserOnly: the browser fails where the lax (Postman-like) client
	// connects — the symptom wsslab exists for.
	BrowserOnly Kind = "browser-only"
	// BrowserAccepts: something people expect a browser to reject, and it
	// does not. The lesson is the surprise.
	BrowserAccepts Kind = "browser-accepts"
	// AllFail: the browser and the lax client both fail: not every failure is
	// browser vs Postman.
	AllFail Kind = "all-fail"
	// BrowsersDiffer: the browsers disagree (one connects, one refuses, or
	// they fail differently): what one browser proves says nothing of another.
	BrowsersDiffer Kind = "browsers-differ"
)

// Expect is one client's expected result: the shared outcome class and,
// when it fails, its exact reason in its own words (harness.Observation's
// Reason). A failing expectation always carries its reason: an outcome
// class alone would let a client fail for another reason and still pass.
type Expect struct {
	Outcome harness.Outcome `json:"outcome"`
	Reason  string          `json:"reason"`
}

func (e Expect) String() string {
	if e.Reason != "" {
		return string(e.Outcome) + " (" + e.Reason + ")"
	}
	return string(e.Outcome)
}

// Match reports whether an observation is what was expected: the outcome
// and the reason, exactly.
func (e Expect) Match(o harness.Observation) bool {
	return o.Outcome == e.Outcome && o.Reason == e.Reason
}

// check says what is wrong with a resolved expectation, if anything.
func (e Expect) check() error {
	switch {
	case e.Outcome == "":
		return errors.New("no outcome")
	case e.Outcome == harness.Connected && e.Reason != "":
		return fmt.Errorf("a reason (%q) for a client that connects", e.Reason)
	case e.Outcome != harness.Connected && e.Reason == "":
		return fmt.Errorf("%s without its exact reason", e.Outcome)
	}
	return nil
}

// Reasons are a row's exact failure reasons, one per vocabulary: clients
// that speak the same words (the two Go clients) share one.
type Reasons map[harness.Vocabulary]string

// Want is what each client was measured to do against a row: an outcome per
// client class, the reasons of the clients that fail (per vocabulary), and
// exceptions for a client that does not behave like its class — data, the
// way crypto/x509's verify_test.go carries per-platform caveats as fields.
type Want struct {
	Browser, Verifying, Lax harness.Outcome
	Reasons                 Reasons
	// Except holds whole expectations for single clients, by client id.
	Except map[string]Expect
}

// ErrNoExpectation is wrapped by Want.For when the table says nothing for
// a client: an error in the table, never graded against another client.
var ErrNoExpectation = errors.New("no expectation")

// For resolves the expectation for a client: its exception if the row has
// one, else its class's outcome with the reason in its vocabulary.
func (w Want) For(c harness.ClientInfo) (Expect, error) {
	e, ok := w.Except[c.ID]
	if !ok {
		switch c.Class {
		case harness.BrowserClass:
			e.Outcome = w.Browser
		case harness.VerifyingClass:
			e.Outcome = w.Verifying
		case harness.LaxClass:
			e.Outcome = w.Lax
		}
		if e.Outcome == "" {
			return Expect{}, fmt.Errorf("%w for client %s of class %q", ErrNoExpectation, c.ID, c.Class)
		}
		if e.Outcome != harness.Connected {
			e.Reason = w.Reasons[c.Reasons]
		}
	}
	if err := e.check(); err != nil {
		return Expect{}, fmt.Errorf("%w for client %s: %v", ErrNoExpectation, c.ID, err)
	}
	return e, nil
}

// Scenario is one row of the table.
type Scenario struct {
	// ID is stable kebab-case: tests (-run), the CLI, JSON and users' CI
	// refer to it. Never rename one.
	ID string
	// Description is one line: what is set up.
	Description string
	Kind        Kind
	// Lesson: why the browser refuses (or accepts) and Postman does not care.
	Lesson string
	// Fix: what to change on the server, in deployment words.
	Fix string
	// Host is the host in the URL every client dials. Names under
	// .wsslab.test are mapped to 127.0.0.1 for the browser.
	Host string
	// Cert is the server certificate and its defects.
	Cert certs.Request
	// Server shapes the echo server (Origin check, subprotocols, TLS
	// versions, plain ws://).
	Server harness.ServerOptions
	// Subprotocols the page (and the Go clients) offer.
	Subprotocols []string
	// Query is appended to the URL path ("?token=...").
	Query string
	// Header is sent by the Go clients (Postman can set headers; a page
	// cannot).
	Header http.Header
	// LoginPath, if set, is fetched by the page from the scenario's server
	// (https://HOST:PORT/LoginPath, http:// for a plain ws:// server) before
	// it dials, so the server can set a cookie.
	LoginPath string
	// Topology, if set, is a server only a container backend runs (nginx in
	// front, your own image): plain data the backend interprets.
	Topology *harness.Topology
	// Revocation, if set, runs an OCSP responder for the leaf's issuer on
	// loopback (ocsp.wsslab.test) that answers this status, and names it in
	// the leaf's AIA extension.
	Revocation harness.OCSPStatus
	Want       Want
}

// Expect resolves the row's expectation for a client (see Want.For).
func (sc Scenario) Expect(c harness.ClientInfo) (Expect, error) {
	e, err := sc.Want.For(c)
	if err != nil {
		return Expect{}, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	return e, nil
}

// Lookup returns the scenario of Table or ContainerTable with this id, or an
// error listing valid ids.
func Lookup(id string) (Scenario, error) {
	return lookupIn(All(), id)
}

// All is Table followed by ContainerTable.
func All() []Scenario {
	return append(append([]Scenario(nil), Table...), ContainerTable...)
}

// ContainerOnlyError is returned when a pattern names only container rows
// and the list searched has none.
type ContainerOnlyError struct{ ID string }

func (e *ContainerOnlyError) Error() string {
	return fmt.Sprintf("scenario %q runs only with a container backend", e.ID)
}

func lookupIn(all []Scenario, id string) (Scenario, error) {
	for _, s := range all {
		if s.ID == id {
			return s, nil
		}
	}
	for _, cs := range ContainerTable {
		if ok, _ := path.Match(id, cs.ID); ok {
			return Scenario{}, &ContainerOnlyError{ID: id}
		}
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (known: %s)", id, strings.Join(idsOf(all), ", "))
}

// IDs returns every scenario id of Table in table order.
func IDs() []string { return idsOf(Table) }

func idsOf(all []Scenario) []string {
	ids := make([]string, len(all))
	for i, s := range all {
		ids[i] = s.ID
	}
	return ids
}

// Select returns the scenarios of Table whose ids match any of the patterns
// (exact ids or path.Match globs like "ip-*"), in table order. No patterns:
// all. A pattern that matches nothing is an error.
func Select(patterns ...string) ([]Scenario, error) {
	return SelectFrom(Table, patterns...)
}

// SelectFrom is Select over another list, e.g. Table plus the container
// scenarios.
func SelectFrom(all []Scenario, patterns ...string) ([]Scenario, error) {
	if len(patterns) == 0 {
		return append([]Scenario(nil), all...), nil
	}
	picked := map[string]bool{}
	for _, p := range patterns {
		n := 0
		for _, s := range all {
			if ok, err := path.Match(p, s.ID); err != nil {
				return nil, fmt.Errorf("bad scenario pattern %q: %w", p, err)
			} else if ok {
				picked[s.ID] = true
				n++
			}
		}
		if n == 0 {
			_, err := lookupIn(all, p)
			return nil, err
		}
	}
	var out []Scenario
	for _, s := range all {
		if picked[s.ID] {
			out = append(out, s)
		}
	}
	return out, nil
}
