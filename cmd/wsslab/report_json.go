package main

import (
	"encoding/json"
	"io"

	"github.com/wsslab/wsslab/harness"
)

// jsonSchema is bumped when a field changes meaning or disappears; new
// fields do not bump it.
const jsonSchema = 1

// jsonReport is `wsslab run --json`. The fields are documented in README.md
// ("JSON output"); CI diffs them across browser versions, so they are
// stable: every field is always present.
type jsonReport struct {
	Schema        int          `json:"schema"`
	ChromeVersion string       `json:"chrome_version"`
	GoVersion     string       `json:"go_version"`
	Backend       string       `json:"backend"`
	Summary       jsonSummary  `json:"summary"`
	Results       []jsonResult `json:"results"`
}

type jsonSummary struct {
	Scenarios  int `json:"scenarios"`
	Results    int `json:"results"`
	Mismatched int `json:"mismatched"`
	Skipped    int `json:"skipped"`
}

type jsonResult struct {
	Scenario string          `json:"scenario"`
	Client   string          `json:"client"`
	Outcome  harness.Outcome `json:"outcome"`
	NetError string          `json:"net_error"`
	Error    string          `json:"error"`
	Evidence []string        `json:"evidence"`
	Expected jsonExpect      `json:"expected"`
	Matched  bool            `json:"matched"`
	Skipped  string          `json:"skipped"`
}

type jsonExpect struct {
	Outcome  harness.Outcome `json:"outcome"`
	NetError string          `json:"net_error"`
}

func toJSON(rep *report) jsonReport {
	ran, skipped := rep.Count()
	out := jsonReport{
		Schema:        jsonSchema,
		ChromeVersion: rep.ChromeVersion,
		GoVersion:     rep.GoVersion,
		Backend:       rep.Backend,
		Summary:       jsonSummary{Scenarios: len(rep.Scenarios), Results: ran, Mismatched: rep.Mismatches(), Skipped: skipped},
		Results:       []jsonResult{},
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
				NetError: r.NetError,
				Error:    r.Err,
				Evidence: ev,
				Expected: jsonExpect{Outcome: r.Expected.Outcome, NetError: r.Expected.NetError},
				Matched:  r.Ran() && r.Matched,
				Skipped:  r.Skip,
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
