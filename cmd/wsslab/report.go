package main

import (
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// report is one run: what every client saw of every scenario, and the chain
// each server sent. Every output format (matrix, JSON, Markdown, HTML)
// renders it, iterating over Clients; none of them reaches back into the lab.
type report struct {
	// Clients are the columns, in order, with their versions.
	Clients   []harness.ClientInfo
	Backend   string
	Started   time.Time
	Scenarios []scenarioRun
}

// scenarioRun is one scenario's server and what each client saw of it.
type scenarioRun struct {
	Scenario scenarios.Scenario
	// URL is what the clients dialed.
	URL string
	// Served is the chain the server sent, leaf first; NotServed the
	// intermediates it left out.
	Served, NotServed []certs.CertInfo
	// Server is what the server saw (zero when the backend cannot tell).
	Server harness.Evidence
	// Results are per client, in report.Clients order.
	Results []clientResult
	// Note is the backend's line about the server; Skip why the backend
	// did not run it (scenarios.Row).
	Note, Skip string
}

// ungraded is why the row's results are not graded, "" if they are.
func (s scenarioRun) ungraded() string {
	for _, r := range s.Results {
		if r.Ran() && r.Ungraded != "" {
			return r.Ungraded
		}
	}
	return ""
}

// clientResult is one client's result and the client's declaration.
type clientResult struct {
	scenarios.Result
	Info harness.ClientInfo
}

// Ran reports whether the client actually dialed.
func (r clientResult) Ran() bool { return r.Skip == "" }

// Mismatched reports whether the client ran, is graded, and saw something
// unexpected.
func (r clientResult) Mismatched() bool { return r.Graded() && !r.Matched }

// Result returns the scenario's result for a client id.
func (s scenarioRun) Result(id string) (clientResult, bool) {
	for _, r := range s.Results {
		if r.Client == id {
			return r, true
		}
	}
	return clientResult{}, false
}

// Matched reports whether every client that ran saw what was expected.
func (s scenarioRun) Matched() bool {
	for _, r := range s.Results {
		if r.Mismatched() {
			return false
		}
	}
	return true
}

// Mismatches counts results that differed from expectation.
func (rep *report) Mismatches() int {
	n := 0
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			if r.Mismatched() {
				n++
			}
		}
	}
	return n
}

// Ungraded counts results that ran but are not graded (Result.Ungraded).
func (rep *report) Ungraded() int {
	n := 0
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			if r.Ran() && r.Ungraded != "" {
				n++
			}
		}
	}
	return n
}

// Count returns the number of results that ran, and that were skipped.
func (rep *report) Count() (ran, skipped int) {
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			if r.Ran() {
				ran++
			} else {
				skipped++
			}
		}
	}
	return ran, skipped
}

// collect runs the scenarios with the shared runner and builds the report.
func collect(ctx context.Context, lab *scenarios.Lab, cfg scenarios.RunConfig) (*report, error) {
	rep := &report{Started: time.Now(), Backend: "inprocess"}
	if b := cfg.Backend; b != nil {
		rep.Backend = b.Name()
	} else if lab.Backend != nil {
		rep.Backend = lab.Backend.Name()
	}
	m, err := lab.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep.Clients = m.Clients
	for _, row := range m.Rows {
		run := scenarioRun{Scenario: row.Scenario, URL: row.URL, Served: describe(row.Leaf.Served), NotServed: describe(row.Leaf.NotServed()), Server: row.Server, Note: row.Note, Skip: row.Skip}
		for j, r := range row.Results {
			run.Results = append(run.Results, clientResult{r, m.Clients[j]})
		}
		rep.Scenarios = append(rep.Scenarios, run)
	}
	return rep, nil
}

// versions is every client's version that is known, deduplicated
// ("Chrome/156.0…, go1.26.8").
func (rep *report) versions() string {
	var vs []string
	for _, c := range rep.Clients {
		if c.Version != "" && !slices.Contains(vs, c.Version) {
			vs = append(vs, c.Version)
		}
	}
	if len(vs) == 0 {
		return "no client ran"
	}
	return strings.Join(vs, ", ")
}

func describe(cs []*x509.Certificate) []certs.CertInfo {
	var out []certs.CertInfo
	for _, c := range cs {
		out = append(out, certs.Describe(c))
	}
	return out
}

// firstSentence returns text up to the end of its first sentence: a period
// followed by a space and a capital letter ("req ... -addext" is not one).
func firstSentence(text string) string {
	for i := 0; i+2 < len(text); i++ {
		if text[i] == '.' && text[i+1] == ' ' && unicode.IsUpper(rune(text[i+2])) && (i == 0 || text[i-1] != '.') {
			return text[:i+1]
		}
	}
	return strings.TrimSpace(text)
}

// cell is a client's outcome for a matrix column; its reason is printed
// under the row (reasons are long).
func (r clientResult) cell() string {
	if !r.Ran() {
		return string(scenarios.Skipped)
	}
	return string(r.Outcome)
}

// got is what was observed, in Expect's notation, for mismatch messages.
func (r clientResult) got() string {
	return scenarios.Expect{Outcome: r.Outcome, Reason: r.Reason}.String()
}
