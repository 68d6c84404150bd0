package scenarios

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/wsslab/wsslab/harness"
)

// fakeOwned is a client the lab owns: it counts closes and can die.
type fakeOwned struct {
	dead   bool
	closed int
}

func (f *fakeOwned) Info() harness.ClientInfo { return harness.ClientInfo{ID: "fake"} }
func (f *fakeOwned) DialAll(context.Context, []harness.Target) []harness.Observation {
	return nil
}
func (f *fakeOwned) Exited() bool { return f.dead }
func (f *fakeOwned) Close() error { f.closed++; return nil }

// TestOwnedClients: a lab starts each client of its own once, again when
// its process died; keeps a missing runtime; retries another start error;
// and Close closes what started.
func TestOwnedClients(t *testing.T) {
	var o ownedClients
	starts := 0
	var last *fakeOwned
	start := func() (harness.Client, error) {
		starts++
		last = &fakeOwned{}
		return last, nil
	}
	a, _ := o.get("a", start)
	if b, _ := o.get("a", start); b != a || starts != 1 {
		t.Fatalf("second get started again (%d starts)", starts)
	}
	first := last
	first.dead = true
	if c, _ := o.get("a", start); c == a || starts != 2 || first.closed != 1 {
		t.Fatalf("a dead client was not replaced: %d starts, %d closes", starts, first.closed)
	}

	missing := fmt.Errorf("node: %w", harness.ErrNotInstalled)
	n := 0
	for range 2 {
		if _, err := o.get("m", func() (harness.Client, error) { n++; return nil, missing }); !errors.Is(err, harness.ErrNotInstalled) {
			t.Fatal(err)
		}
	}
	other := 0
	for range 2 {
		o.get("e", func() (harness.Client, error) { other++; return nil, errors.New("boom") })
	}
	if n != 1 || other != 2 {
		t.Errorf("missing runtime started %d times (want 1), a failing start %d times (want 2)", n, other)
	}

	o.closeAll()
	if last.closed != 1 {
		t.Errorf("closeAll: %d closes", last.closed)
	}
}
