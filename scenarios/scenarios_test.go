package scenarios

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// lab is shared by the tests of this process: one PKI, one browser.
var lab *Lab

func TestMain(m *testing.M) {
	var err error
	lab, err = NewLab()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsslab:", err)
		os.Exit(2)
	}
	code := m.Run()
	lab.Close()
	os.Exit(code)
}

// browserFor returns the shared browser, or skips (fails under CI) with the
// command that installs what is missing.
func browserFor(t *testing.T) *harness.Browser {
	t.Helper()
	b, err := lab.Browser(t.Context())
	if err != nil {
		if errors.Is(err, harness.ErrNoBrowser) {
			testenv.Missing(t, "browser", err)
		}
		t.Fatalf("browser: %v", err)
	}
	return b
}

// runTable runs list with every client on backend (nil: in-process), the
// way `wsslab run` does. A missing browser skips its column on a laptop and
// fails under CI.
func runTable(t *testing.T, list []Scenario, backend harness.Backend) *Matrix {
	t.Helper()
	m, err := lab.Run(t.Context(), RunConfig{Scenarios: list, Clients: Clients, Backend: backend, SkipMissing: !harness.RequireBrowser()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestScenarios runs the whole table: every scenario, every client, with
// one subtest per scenario and client. Select one scenario with
// -run 'TestScenarios/self-signed' or one client with
// -run 'TestScenarios/self-signed/chrome' (the whole table is still dialed:
// each client dials its batch in one go).
func TestScenarios(t *testing.T) {
	checkMatrix(t, runTable(t, Table, nil), "")
}

// checkMatrix makes one subtest per scenario and client and checks each
// observation against the row's expectation for that client.
func checkMatrix(t *testing.T, m *Matrix, backend string) {
	for _, row := range m.Rows {
		t.Run(row.Scenario.ID, func(t *testing.T) {
			for _, r := range row.Results {
				t.Run(r.Client, func(t *testing.T) {
					if r.Skip != "" {
						t.Skip(r.Skip)
					}
					t.Logf("%-7s %-20s %s", r.Client, r.Outcome, r.Reason)
					if !r.Matched {
						t.Errorf("%s against %s%s: got %s, want %s\nevidence:\n  %s",
							r.Client, row.Scenario.ID, backend, got(r), r.Expected, strings.Join(r.Evidence, "\n  "))
					}
				})
			}
			t.Logf("server saw: %+v", row.Server)
		})
	}
}

func got(r Result) string { return Expect{Outcome: r.Outcome, Reason: r.Reason}.String() }

// clientInfos are the declarations of every registered client.
func clientInfos() []harness.ClientInfo {
	var out []harness.ClientInfo
	for _, c := range Clients {
		out = append(out, c.ClientInfo)
	}
	return out
}

// TestTableInvariants checks every row of both tables against every
// registered client: an expectation resolves for each (never borrowed from
// another client), every failing one names its exact reason, every reason
// is used by some client, and the Want agrees with the row's Kind.
func TestTableInvariants(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range All() {
		checkRow(t, sc, seen, clientInfos())
	}
	for _, sc := range ContainerTable {
		if top := sc.Topology; top == nil || (top.Proxy == nil) == (top.Image == nil) {
			t.Errorf("%s: a container scenario has a Topology with exactly one of Proxy and Image", sc.ID)
		}
	}
	for _, sc := range Table {
		if sc.Topology != nil {
			t.Errorf("%s: a Table row with a Topology belongs in ContainerTable", sc.ID)
		}
	}
}

// checkRow checks one row: a unique id, the texts, an expectation for every
// client, and a Want that agrees with the row's Kind.
func checkRow(t *testing.T, sc Scenario, seen map[string]bool, clients []harness.ClientInfo) {
	t.Helper()
	if seen[sc.ID] {
		t.Errorf("duplicate id %s", sc.ID)
	}
	seen[sc.ID] = true
	if sc.Description == "" || sc.Lesson == "" || sc.Fix == "" {
		t.Errorf("%s: description, lesson and fix are required", sc.ID)
	}
	used := map[harness.Vocabulary]bool{}
	for _, c := range clients {
		e, err := sc.Expect(c)
		if err != nil {
			t.Errorf("table error: %v", err)
			continue
		}
		if _, ok := sc.Want.Except[c.ID]; !ok && e.Outcome != harness.Connected {
			used[c.Reasons] = true
		}
	}
	for v := range sc.Want.Reasons {
		if !used[v] {
			t.Errorf("%s: reason for %q, but no client in that vocabulary fails", sc.ID, v)
		}
	}
	for id := range sc.Want.Except {
		if !knownClient(clients, id) {
			t.Errorf("%s: exception for unknown client %q", sc.ID, id)
		}
	}
	w := sc.Want
	switch sc.Kind {
	case Control, BrowserAccepts:
		if w.Browser != harness.Connected || w.Lax != harness.Connected {
			t.Errorf("%s (%s): browser and lax must connect", sc.ID, sc.Kind)
		}
	case BrowserOnly:
		if w.Browser == harness.Connected || w.Lax != harness.Connected {
			t.Errorf("%s (%s): browser must fail and lax connect", sc.ID, sc.Kind)
		}
	case BrowsersDiffer:
		// At least two browsers, resolved, disagree.
		seen := map[Expect]bool{}
		for _, c := range clients {
			if c.Class == harness.BrowserClass {
				if e, err := sc.Expect(c); err == nil {
					seen[e] = true
				}
			}
		}
		if len(seen) < 2 {
			t.Errorf("%s (%s): the browsers must disagree", sc.ID, sc.Kind)
		}
	case AllFail:
		if w.Browser == harness.Connected || w.Lax == harness.Connected {
			t.Errorf("%s (%s): browser and lax must both fail", sc.ID, sc.Kind)
		}
	default:
		t.Errorf("%s: unknown kind %q", sc.ID, sc.Kind)
	}
}

func knownClient(clients []harness.ClientInfo, id string) bool {
	for _, c := range clients {
		if c.ID == id {
			return true
		}
	}
	return false
}
