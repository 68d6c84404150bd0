package main

import (
	"context"
	"crypto/x509"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// Skipped is the outcome of a client that did not run (--no-browser). It is
// reported, never dropped: a matrix without its browser column must say so.
const Skipped harness.Outcome = "skipped"

// clients in the order every report shows them.
var clientOrder = []string{harness.BrowserClient, harness.LaxClient, harness.StrictClient}

// report is one run: what every client saw of every scenario, and the chain
// each server sent. Every output format (matrix, JSON, Markdown, HTML)
// renders it; none of them reaches back into the lab.
type report struct {
	ChromeVersion string
	GoVersion     string
	Backend       string
	Started       time.Time
	Scenarios     []scenarioRun
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
	// Results are per client, in clientOrder.
	Results []clientResult
}

// clientResult is one client's result; Skip says why it did not run.
type clientResult struct {
	scenarios.Result
	Skip string
}

// Ran reports whether the client actually dialed.
func (r clientResult) Ran() bool { return r.Skip == "" }

// Mismatched reports whether the client ran and saw something unexpected.
func (r clientResult) Mismatched() bool { return r.Ran() && !r.Matched }

// Result returns the scenario's result for a client.
func (s scenarioRun) Result(client string) clientResult {
	for _, r := range s.Results {
		if r.Client == client {
			return r
		}
	}
	return clientResult{Skip: "not run"}
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

// collector runs scenarios and builds the report.
type collector struct {
	lab *scenarios.Lab
	// browser is nil when skipped; skipBrowser then says why.
	browser     harness.Client
	skipBrowser string
	// progress, if set, is called after each client of each scenario.
	progress func(done, total int, r clientResult)
	// backendFor, if set, picks each scenario's backend (container rows
	// have their own topology); otherwise the lab's backend runs them all.
	backendFor func(scenarios.Scenario) harness.Backend
}

// collect starts each scenario's server in turn, dials it with every client
// and records the chain it served. It returns what it has so far with the
// error when a server cannot start or ctx is cancelled.
func (c *collector) collect(ctx context.Context, list []scenarios.Scenario) (*report, error) {
	rep := &report{GoVersion: runtime.Version(), Started: time.Now(), Backend: "inprocess"}
	if c.lab.Backend != nil {
		rep.Backend = c.lab.Backend.Name()
	}
	if b, ok := c.browser.(interface{ Version() string }); ok {
		rep.ChromeVersion = b.Version()
	}
	clients := map[string]harness.Client{harness.LaxClient: c.lab.Lax, harness.StrictClient: c.lab.Strict}
	if c.browser != nil {
		clients[harness.BrowserClient] = c.browser
	}
	var order []harness.Client
	for _, name := range clientOrder {
		if cl, ok := clients[name]; ok {
			order = append(order, cl)
		}
	}
	total, done := len(list)*len(clientOrder), 0
	backends := make([]harness.Backend, len(list))
	for i, sc := range list {
		backends[i] = c.lab.Backend
		if c.backendFor != nil {
			backends[i] = c.backendFor(sc)
		}
	}
	ins, err := c.lab.StartEach(ctx, list, backends)
	if err != nil {
		return rep, err
	}
	defer scenarios.CloseAll(ins)
	report := func(r clientResult) {
		done++
		if c.progress != nil {
			c.progress(done, total, r)
		}
	}
	grid, err := scenarios.DialGrid(ctx, ins, order, func(r scenarios.Result) { report(clientResult{Result: r}) })
	if err != nil {
		return rep, err // interrupted: a cut-short dial is not an observation
	}
	for i, in := range ins {
		sc := in.Scenario
		run := scenarioRun{Scenario: sc, URL: in.URL, Served: describe(in.Leaf.Served), NotServed: describe(in.Leaf.NotServed())}
		k := 0
		for _, name := range clientOrder {
			if _, ok := clients[name]; ok {
				run.Results = append(run.Results, clientResult{Result: grid[i][k]})
				k++
				continue
			}
			r := clientResult{Skip: c.skipBrowser, Result: scenarios.Result{
				Scenario:    sc.ID,
				Observation: harness.Observation{Client: name, URL: in.URL, Outcome: Skipped},
				Expected:    sc.Want.For(name),
			}}
			run.Results = append(run.Results, r)
			report(r)
		}
		run.Server = in.Evidence()
		rep.Scenarios = append(rep.Scenarios, run)
	}
	return rep, nil
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

// cell is a client's outcome for a matrix: the outcome, and for the browser
// its net error, which the page never sees.
func (r clientResult) cell() string {
	if !r.Ran() {
		return string(Skipped)
	}
	if r.NetError != "" {
		return string(r.Outcome) + " " + r.NetError
	}
	return string(r.Outcome)
}

// got is what was observed, in Expect's notation, for mismatch messages.
func (r clientResult) got() string {
	return scenarios.Expect{Outcome: r.Outcome, NetError: r.NetError}.String()
}
