package scenarios

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness/container"
	"github.com/wsslab/wsslab/internal/testenv"
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
		if errors.Is(err, container.ErrNoEngine) {
			testenv.Missing(t, "docker", err)
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

	// The runner starts every server (a few containers at a time) while the
	// clients start, as for the in-process table; Topologies runs the
	// container rows' nginx and image topologies.
	t.Run("table", func(t *testing.T) {
		checkMatrix(t, runTable(t, Table, b), " ("+b.Name()+")")
	})
	t.Run("container-table", func(t *testing.T) {
		checkMatrix(t, runTable(t, ContainerTable, b.Topologies()), " (containers)")
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
