package scenarios

import (
	"context"
	"errors"
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

	// Every server of a table starts first (a few containers at a time),
	// then the clients run as for the in-process table.
	t.Run("table", func(t *testing.T) {
		ins, err := lab.StartEach(t.Context(), Table, repeat(harness.Backend(b), len(Table)))
		t.Cleanup(func() { CloseAll(ins) })
		if err != nil {
			t.Fatal(err)
		}
		checkInstances(t, ins, " ("+b.Name()+")")
	})
	t.Run("container-table", func(t *testing.T) {
		list := make([]Scenario, len(ContainerTable))
		backends := make([]harness.Backend, len(ContainerTable))
		for i, cs := range ContainerTable {
			list[i], backends[i] = cs.Scenario, cs.Backend(b)
		}
		ins, err := lab.StartEach(t.Context(), list, backends)
		t.Cleanup(func() { CloseAll(ins) })
		if err != nil {
			t.Fatal(err)
		}
		checkInstances(t, ins, " (containers)")
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

// repeat returns n copies of v.
func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
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
		checkRow(t, cs.Scenario, seen)
		if (cs.Proxy == nil) == (cs.Image == nil) {
			t.Errorf("%s: a container scenario has exactly one of Proxy and Image", cs.ID)
		}
	}
}
