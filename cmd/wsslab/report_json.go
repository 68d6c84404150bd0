package main

import (
	"encoding/json"
	"io"

	"github.com/wsslab/wsslab/harness"
)

// jsonSchema is bumped when a field changes meaning or disappears; new
// fields do not bump it. 2: clients are a list (ids chrome, lax, strict),
// each result has one reason in its client's words (was net_error).
const jsonSchema = 2

// jsonReport is `wsslab run --json`. The fields are documented in README.md
// ("JSON output"); CI diffs them across browser versions, so they are
// stable: every field is always present.
type jsonReport struct {
	Schema  int          `json:"schema"`
	Clients []jsonClient `json:"clients"`
	Backend string       `json:"backend"`
	Summary jsonSummary  `json:"summary"`
	Results []jsonResult `json:"results"`
}

type jsonClient struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	Class   harness.Class `json:"class"`
	Reasons string        `json:"reasons"`
	Version string        `json:"version"`
}

type jsonSummary struct {
	Scenarios  int `json:"scenarios"`
	Results    int `json:"results"`
	Mismatched int `json:"mismatched"`
	Skipped    int `json:"skipped"`
	Ungraded   int `json:"ungraded"`
}

type jsonResult struct {
	Scenario string          `json:"scenario"`
	Client   string          `json:"client"`
	Outcome  harness.Outcome `json:"outcome"`
	Reason   string          `json:"reason"`
	Error    string          `json:"error"`
	Evidence []string        `json:"evidence"`
	Expected jsonExpect      `json:"expected"`
	Matched  bool            `json:"matched"`
	Skipped  string          `json:"skipped"`
	// Ungraded: why expected does not apply (your server, --server-cmd);
	// matched then says whether it is what wsslab's echo server got.
	Ungraded string `json:"ungraded"`
	// Server is the backend's line about the server ("your server sends
	// the leaf alone ..."), "" if none.
	Server string `json:"server"`
}

type jsonExpect struct {
	Outcome harness.Outcome `json:"outcome"`
	Reason  string          `json:"reason"`
}

func toJSON(rep *report) jsonReport {
	ran, skipped := rep.Count()
	out := jsonReport{
		Schema:  jsonSchema,
		Clients: []jsonClient{},
		Backend: rep.Backend,
		Summary: jsonSummary{Scenarios: len(rep.Scenarios), Results: ran, Mismatched: rep.Mismatches(), Skipped: skipped, Ungraded: rep.Ungraded()},
		Results: []jsonResult{},
	}
	for _, c := range rep.Clients {
		out.Clients = append(out.Clients, jsonClient{ID: c.ID, Name: c.Name, Class: c.Class, Reasons: string(c.Reasons), Version: c.Version})
	}
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			ev := r.Evidence
			if ev == nil {
				ev = []string{}
			}
			out.Results = append(out.Results, jsonResult{
				Scenario: s.Scenario.ID,
				Client:   r.Client,
				Outcome:  r.Outcome,
				Reason:   r.Reason,
				Error:    r.Error,
				Evidence: ev,
				Expected: jsonExpect{Outcome: r.Expected.Outcome, Reason: r.Expected.Reason},
				Matched:  r.Ran() && r.Matched,
				Skipped:  r.Skip,
				Ungraded: r.Ungraded,
				Server:   s.Note,
			})
		}
	}
	return out
}

func writeJSON(w io.Writer, rep *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(toJSON(rep))
}
