// Package scenarios is wsslab's table: each row a WSS server deliberately set
// up the way real deployments get it wrong (or right, for the controls), with
// what each client — real Chrome, a Postman-like lax client, a strict Go
// client — was measured to do against it. One table drives every runner: the
// Go tests, `wsslab run`, the report and doctor's self-check.
package scenarios

import (
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// Kind says which contrast a scenario teaches; a test checks that the Want
// row agrees with it.
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
)

// Expect is one client's expected result.
type Expect struct {
	Outcome harness.Outcome `json:"outcome"`
	// NetError is the browser's exact reason as DevTools reports it
	// ("net::ERR_CERT_AUTHORITY_INVALID", "Unexpected response code: 403");
	// empty for Go clients and for a browser that connects.
	NetError string `json:"net_error,omitempty"`
}

func (e Expect) String() string {
	if e.NetError != "" {
		return string(e.Outcome) + " (" + e.NetError + ")"
	}
	return string(e.Outcome)
}

// Match reports whether an observation is what was expected.
func (e Expect) Match(o harness.Observation) bool {
	return o.Outcome == e.Outcome && o.NetError == e.NetError
}

// Want holds the expected result per client, measured with real Chrome.
type Want struct {
	Browser, Lax, Strict Expect
}

// For returns the expectation for a client name.
func (w Want) For(client string) Expect {
	switch client {
	case harness.BrowserClient:
		return w.Browser
	case harness.LaxClient:
		return w.Lax
	}
	return w.Strict
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
	// (https://HOST:PORT/LoginPath) before it dials, so the server can set a
	// cookie.
	LoginPath string
	Want      Want
}

// Lookup returns the scenario with this id, or an error listing valid ids.
func Lookup(id string) (Scenario, error) {
	return lookupIn(Table, id)
}

func lookupIn(all []Scenario, id string) (Scenario, error) {
	for _, s := range all {
		if s.ID == id {
			return s, nil
		}
	}
	for _, cs := range ContainerTable {
		if cs.ID == id {
			return Scenario{}, fmt.Errorf("scenario %q runs only in containers: add --backend container", id)
		}
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (known: %s)", id, strings.Join(idsOf(all), ", "))
}

// IDs returns every scenario id in table order.
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
