package scenarios

import (
	"math/rand/v2"
	"testing"

	"github.com/wsslab/wsslab/harness"
)

// TestBatchIsolation proves that batching is safe: a scenario's browser
// outcome is the same whether it is dialed alone in a fresh browser context
// or inside a batch, after any other scenarios, in any order. Batching is
// what makes the browser column cheap (one page, many sockets); this test is
// what makes it trustworthy.
func TestBatchIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("dials the whole table several times")
	}
	t.Run(harness.ChromeID, func(t *testing.T) { batchIsolation(t, browserFor(t)) })
	t.Run(harness.FirefoxID, func(t *testing.T) { batchIsolation(t, firefoxFor(t)) })
}

// batchIsolation is TestBatchIsolation for one browser: Chrome's batch is
// one browser context, Firefox's one user context.
func batchIsolation(t *testing.T, b harness.Client) {
	ins, err := lab.StartAll(t.Context(), Table)
	t.Cleanup(func() { CloseAll(ins) })
	if err != nil {
		t.Fatal(err)
	}
	key := func(o harness.Observation) string {
		if o.Outcome == harness.Failed {
			return string(o.Outcome) + " " + o.Error // the browser's own failure, if any
		}
		return string(o.Outcome) + " " + o.Reason
	}

	// Reference: every scenario alone, in its own fresh browser context.
	solo := make([]string, len(ins))
	for i, in := range ins {
		solo[i] = key(harness.Dial(t.Context(), b, in.Target()))
	}
	seed := uint64(rand.Int64())
	t.Logf("shuffle seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for round := range 3 {
		order := rng.Perm(len(ins))
		if round == 0 {
			// Reverse table order: the controls run last, after every failure.
			for i := range order {
				order[i] = len(ins) - 1 - i
			}
		}
		targets := make([]harness.Target, len(order))
		for k, i := range order {
			targets[k] = ins[i].Target()
		}
		for k, obs := range b.DialAll(t.Context(), targets) {
			i := order[k]
			if got := key(obs); got != solo[i] {
				t.Errorf("round %d: %s at position %d of the batch gave %q, alone %q", round, ins[i].Scenario.ID, k, got, solo[i])
			}
		}
	}
}
