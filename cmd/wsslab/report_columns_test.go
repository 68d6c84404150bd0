package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// tableReport is a report of every row of both tables in which every
// registered client did exactly what the table says (the longest reasons
// included), one of them marked as differing.
func tableReport(t *testing.T) *report {
	t.Helper()
	rep := &report{Backend: "inprocess"}
	for _, c := range scenarios.Clients {
		info := c.ClientInfo
		info.Version = "v1.2.3"
		rep.Clients = append(rep.Clients, info)
	}
	for i, sc := range scenarios.All() {
		run := scenarioRun{Scenario: sc, URL: "wss://" + sc.Host + ":54321/"}
		for _, c := range rep.Clients {
			e, err := sc.Expect(c)
			if err != nil {
				t.Fatal(err)
			}
			r := scenarios.Result{Scenario: sc.ID, Observation: harness.Observation{Client: c.ID, Outcome: e.Outcome, Reason: e.Reason}, Expected: e, Matched: i != 3}
			run.Results = append(run.Results, clientResult{r, c})
		}
		rep.Scenarios = append(rep.Scenarios, run)
	}
	return rep
}

// The matrix keeps within 120 columns, whatever the reasons: they go under
// the row and wrap.
func TestMatrixWithinWidth(t *testing.T) {
	var out bytes.Buffer
	writeMatrix(&out, tableReport(t))
	for _, l := range strings.Split(out.String(), "\n") {
		if len(l) > matrixWidth {
			t.Errorf("%d columns: %s", len(l), l)
		}
	}
	for _, want := range []string{"SCENARIO", "CHROME", "LAX", "STRICT", "reason: chrome: SecurityError: Failed to construct 'WebSocket'"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("matrix lacks %q", want)
		}
	}
}

// renamed is a client that exists only in this test: the lax client under
// another id. Every report shows it as a column with no change to them.
type renamed struct{ harness.Client }

func (r renamed) Info() harness.ClientInfo {
	info := r.Client.Info()
	info.ID, info.Name = "lax-too", "Another lax client"
	return info
}

func (r renamed) DialAll(ctx context.Context, ts []harness.Target) []harness.Observation {
	obs := r.Client.DialAll(ctx, ts)
	for i := range obs {
		obs[i].Client = r.Info().ID
	}
	return obs
}

func TestReportsShowEveryClient(t *testing.T) {
	lab, err := scenarios.NewLab()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	list, err := scenarios.Select("self-signed", "origin-check")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := collect(t.Context(), lab, scenarios.RunConfig{Scenarios: list, Clients: []scenarios.ClientSpec{scenarios.Use(lab.Strict), scenarios.Use(renamed{lab.Lax})}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mismatches() != 0 {
		t.Errorf("%d mismatches", rep.Mismatches())
	}
	var matrix, js, md, html bytes.Buffer
	writeMatrix(&matrix, rep)
	if err := writeJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if err := writeMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := writeHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		out  string
		want []string
	}{
		"matrix":   {matrix.String(), []string{"STRICT  ", "LAX-TOO", "lax-too = Another lax client [lax]"}},
		"json":     {js.String(), []string{`"id": "lax-too"`, `"client": "lax-too"`}},
		"markdown": {md.String(), []string{"| scenario | strict | lax-too | as expected |"}},
		"html":     {html.String(), []string{"<th>lax-too</th>", "Another lax client"}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.out, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, tc.out)
			}
		}
		if strings.Contains(tc.out, "chrome") {
			t.Errorf("%s names chrome, which did not run here:\n%s", name, tc.out)
		}
	}
}

// Every outcome class has a short word for the wide matrix, of at most 10
// letters, and no two share one.
func TestShortOutcomes(t *testing.T) {
	seen := map[string]harness.Outcome{}
	if len(outcomeOrder) != len(shortOutcome) {
		t.Errorf("%d outcomes in the legend's order, %d short words", len(outcomeOrder), len(shortOutcome))
	}
	for _, o := range outcomeOrder {
		w, ok := shortOutcome[o]
		switch {
		case !ok:
			t.Errorf("%s has no short word", o)
		case len(w) > 10:
			t.Errorf("%s: %q is longer than 10", o, w)
		case seen[w] != "":
			t.Errorf("%s and %s are both %q", o, seen[w], w)
		}
		seen[w] = o
	}
}
