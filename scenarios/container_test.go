package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/container"
)

// TestContainers runs the scenarios with their servers in containers: the
// whole Table on the container backend (same rows, same Want, same
// assertions as in-process), then ContainerTable (nginx in front of a plain
// backend; your own image). It ends by closing the backend and proving that
// nothing labeled by this run remains. Without a Docker engine it skips,
// except under CI=true or WSSLAB_REQUIRE_DOCKER=1, where it fails.
//
//	go test ./scenarios -run 'TestContainers/container-table/nginx-cert-only' -v
func TestContainers(t *testing.T) {
	if err := container.Available(t.Context()); err != nil {
		if errors.Is(err, container.ErrNoEngine) && !container.RequireEngine() {
			t.Skipf("container scenarios skipped: %v", err)
		}
		t.Fatal(err)
	}
	start := time.Now()
	b, err := container.New(t.Context(), container.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			b.Close()
		}
	})
	if s := b.Swept(); len(s) > 0 {
		t.Logf("swept leftovers of killed runs: %v", s)
	}

	t.Run("table", func(t *testing.T) {
		for _, sc := range Table {
			t.Run(sc.ID, func(t *testing.T) { runIn(t, b, sc) })
		}
	})
	t.Run("container-table", func(t *testing.T) {
		for _, cs := range ContainerTable {
			t.Run(cs.ID, func(t *testing.T) { runIn(t, cs.Backend(b), cs.Scenario) })
		}
	})

	for _, bd := range b.Builds() {
		t.Logf("image %s: collecting files %s, docker import %s", bd.Image, bd.Prepare.Round(time.Millisecond), bd.Duration.Round(time.Millisecond))
	}
	closed = true
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	left, err := container.Leftovers(context.Background(), b.Session())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left behind after the run: %v", left)
	}
	t.Logf("container part: %s", time.Since(start).Round(time.Millisecond))
}

// runIn starts sc's server on backend and dials it with every client,
// asserting Want exactly as TestScenarios does.
func runIn(t *testing.T, backend harness.Backend, sc Scenario) {
	// Lab.Start uses lab.Backend; tests of this package do not run in
	// parallel, so swapping it for the call is safe.
	prev := lab.Backend
	lab.Backend = backend
	in, err := lab.Start(t.Context(), sc, "")
	lab.Backend = prev
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	clients := []struct {
		name string
		get  func(*testing.T) harness.Client
	}{
		{harness.BrowserClient, func(t *testing.T) harness.Client { return browserFor(t) }},
		{harness.LaxClient, func(*testing.T) harness.Client { return lab.Lax }},
		{harness.StrictClient, func(*testing.T) harness.Client { return lab.Strict }},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			r := in.Dial(t.Context(), c.get(t))
			t.Logf("%-7s %-20s %s", r.Client, r.Outcome, firstNonEmpty(r.NetError, r.Err))
			if !r.Matched {
				t.Errorf("%s against %s (%s): got %s, want %s\nevidence:\n  %s",
					r.Client, sc.ID, backend.Name(), got(r), r.Expected, strings.Join(r.Evidence, "\n  "))
			}
		})
	}
	t.Logf("server saw: %+v", in.Evidence())
}

// TestContainerTableInvariants holds ContainerTable to Table's rules: ids
// unique across both tables, lesson and fix present, Want agreeing with
// Kind. Pure data: no Docker needed.
func TestContainerTableInvariants(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range Table {
		seen[sc.ID] = true
	}
	for _, cs := range ContainerTable {
		sc, w := cs.Scenario, cs.Want
		if seen[sc.ID] {
			t.Errorf("duplicate id %s", sc.ID)
		}
		seen[sc.ID] = true
		if sc.Description == "" || sc.Lesson == "" || sc.Fix == "" {
			t.Errorf("%s: description, lesson and fix are required", sc.ID)
		}
		if (cs.Proxy == nil) == (cs.Image == nil) {
			t.Errorf("%s: a container scenario has exactly one of Proxy and Image", sc.ID)
		}
		if (w.Browser.Outcome == harness.Connected) != (w.Browser.NetError == "") {
			t.Errorf("%s: a failing browser expectation needs its exact net error, a connecting one none", sc.ID)
		}
		browserOK, laxOK := w.Browser.Outcome == harness.Connected, w.Lax.Outcome == harness.Connected
		switch {
		case sc.Kind == Control && !(browserOK && laxOK),
			sc.Kind == BrowserOnly && !(!browserOK && laxOK),
			sc.Kind == AllFail && !(!browserOK && !laxOK):
			t.Errorf("%s: Want disagrees with kind %s", sc.ID, sc.Kind)
		}
	}
}
