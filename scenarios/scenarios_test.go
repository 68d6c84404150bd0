package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wsslab/wsslab/harness"
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
	b, err := lab.Browser(context.Background())
	if err != nil {
		if errors.Is(err, harness.ErrNoBrowser) && !harness.RequireBrowser() {
			t.Skipf("browser column skipped: %v", err)
		}
		t.Fatalf("browser: %v", err)
	}
	return b
}

// TestScenarios runs the whole table: every scenario, every client. Select
// one with -run 'TestScenarios/self-signed' or one client with
// -run 'TestScenarios/self-signed/browser'.
func TestScenarios(t *testing.T) {
	ins, err := lab.StartAll(t.Context(), Table)
	t.Cleanup(func() { CloseAll(ins) })
	if err != nil {
		t.Fatal(err)
	}
	checkInstances(t, ins, "")
}

// checkInstances makes one subtest per scenario and client and checks each
// observation against the row's Want. Every server is already running; the
// first browser subtest dials all of them from one page in one batch (see
// Browser.DialAll and TestBatchIsolation), and each browser subtest checks
// its own scenario's observation.
func checkInstances(t *testing.T, ins []*Instance, backend string) {
	var (
		once    sync.Once
		browser []Result
	)
	browserResult := func(t *testing.T, i int) Result {
		b := browserFor(t)
		once.Do(func() { browser = DialAll(context.Background(), ins, b) })
		return browser[i]
	}
	for i, in := range ins {
		sc := in.Scenario
		t.Run(sc.ID, func(t *testing.T) {
			clients := []struct {
				name string
				dial func(*testing.T) Result
			}{
				{harness.BrowserClient, func(t *testing.T) Result { return browserResult(t, i) }},
				{harness.LaxClient, func(t *testing.T) Result { return in.Dial(t.Context(), lab.Lax) }},
				{harness.StrictClient, func(t *testing.T) Result { return in.Dial(t.Context(), lab.Strict) }},
			}
			for _, c := range clients {
				t.Run(c.name, func(t *testing.T) {
					r := c.dial(t)
					t.Logf("%-7s %-20s %s", r.Client, r.Outcome, firstNonEmpty(r.NetError, r.Err))
					if !r.Matched {
						t.Errorf("%s against %s%s: got %s, want %s\nevidence:\n  %s",
							r.Client, sc.ID, backend, got(r), r.Expected, strings.Join(r.Evidence, "\n  "))
					}
				})
			}
			t.Logf("server saw: %+v", in.Evidence())
		})
	}
}

func got(r Result) string { return Expect{Outcome: r.Outcome, NetError: r.NetError}.String() }

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// TestTableInvariants checks that each row's Want agrees with its Kind —
// the design's invariant that a browser-only scenario is one where the
// browser fails with a named net error and the lax client connects.
func TestTableInvariants(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range Table {
		checkRow(t, sc, seen)
	}
}

// checkRow checks one row of any table: a unique id, the texts, and a Want
// that agrees with the row's Kind.
func checkRow(t *testing.T, sc Scenario, seen map[string]bool) {
	t.Helper()
	if seen[sc.ID] {
		t.Errorf("duplicate id %s", sc.ID)
	}
	seen[sc.ID] = true
	w := sc.Want
	if sc.Description == "" || sc.Lesson == "" || sc.Fix == "" {
		t.Errorf("%s: description, lesson and fix are required", sc.ID)
	}
	if (w.Browser.Outcome == harness.Connected) != (w.Browser.NetError == "") && w.Browser.Outcome != harness.Blocked {
		t.Errorf("%s: a failing browser expectation needs its exact net error, a connecting one none", sc.ID)
	}
	switch sc.Kind {
	case Control, BrowserAccepts:
		if w.Browser.Outcome != harness.Connected || w.Lax.Outcome != harness.Connected {
			t.Errorf("%s (%s): browser and lax must connect", sc.ID, sc.Kind)
		}
	case BrowserOnly:
		if w.Browser.Outcome == harness.Connected || w.Lax.Outcome != harness.Connected {
			t.Errorf("%s (%s): browser must fail and lax connect", sc.ID, sc.Kind)
		}
	case AllFail:
		if w.Browser.Outcome == harness.Connected || w.Lax.Outcome == harness.Connected {
			t.Errorf("%s (%s): browser and lax must both fail", sc.ID, sc.Kind)
		}
	default:
		t.Errorf("%s: unknown kind %q", sc.ID, sc.Kind)
	}
}
