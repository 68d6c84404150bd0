package scenarios

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/wsslab/wsslab/harness"
)

// BatchDialer is a client that dials many targets at once (the browser: one
// page, many sockets). Lab.Run uses it when a client has it.
type BatchDialer interface {
	DialAll(ctx context.Context, targets []harness.Target) []harness.Observation
}

// StartAll starts every scenario's server with the lab's backend.
func (l *Lab) StartAll(ctx context.Context, list []Scenario) ([]*Instance, error) {
	backends := make([]harness.Backend, len(list))
	for i := range backends {
		backends[i] = l.Backend
	}
	return l.StartEach(ctx, list, backends)
}

// startParallel bounds how many servers start at once: a container start
// is mostly waiting on the engine, an in-process one takes microseconds.
const startParallel = 4

// StartEach starts list[i] with backends[i], a few at a time, and returns
// the instances in list order. On error the ones started are closed again.
func (l *Lab) StartEach(ctx context.Context, list []Scenario, backends []harness.Backend) ([]*Instance, error) {
	ins := make([]*Instance, len(list))
	errs := make([]error, len(list))
	sem := make(chan struct{}, startParallel)
	var wg sync.WaitGroup
	for i, sc := range list {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ins[i], errs[i] = l.StartWith(ctx, backends[i], sc, "")
		})
	}
	wg.Wait()
	// The first error, in table order: one line, like every error here.
	if i := slices.IndexFunc(errs, func(e error) bool { return e != nil }); i >= 0 {
		var started []*Instance
		for _, in := range ins {
			if in != nil {
				started = append(started, in)
			}
		}
		CloseAll(started)
		return nil, errs[i]
	}
	return ins, nil
}

// CloseAll stops every instance.
func CloseAll(ins []*Instance) {
	for _, in := range ins {
		in.Close()
	}
}

// DialAll dials every instance with one client — in one batch when the
// client is a BatchDialer — and returns one result per instance, in order.
func DialAll(ctx context.Context, ins []*Instance, c harness.Client) []Result {
	out := make([]Result, len(ins))
	if b, ok := c.(BatchDialer); ok {
		targets := make([]harness.Target, len(ins))
		for i, in := range ins {
			targets[i] = in.Target()
		}
		for i, obs := range b.DialAll(ctx, targets) {
			out[i] = ins[i].result(c.Name(), obs)
		}
		return out
	}
	for i, in := range ins {
		out[i] = in.Dial(ctx, c)
	}
	return out
}

// Run starts the servers of every scenario in list, dials them with every
// client and returns the results in table order (scenario, then client).
// progress, if not nil, is called for each result as soon as it is known.
func (l *Lab) Run(ctx context.Context, list []Scenario, clients []harness.Client, progress func(Result)) ([]Result, error) {
	ins, err := l.StartAll(ctx, list)
	if err != nil {
		return nil, err
	}
	defer CloseAll(ins)
	grid, err := DialGrid(ctx, ins, clients, progress)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(ins)*len(clients))
	for _, row := range grid {
		out = append(out, row...)
	}
	if len(out) == 0 && len(list) > 0 {
		return nil, errors.New("no clients to run")
	}
	return out, nil
}

// DialGrid dials every instance with every client and returns
// grid[instance][client]. Clients dial concurrently: the browser's batch is
// mostly waiting on Chromium, while the Go clients need a few milliseconds of
// CPU each. progress (may be nil) is called for each result, never
// concurrently.
func DialGrid(ctx context.Context, ins []*Instance, clients []harness.Client, progress func(Result)) ([][]Result, error) {
	byClient := make([][]Result, len(clients))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for j, c := range clients {
		wg.Go(func() {
			rs := DialAll(ctx, ins, c)
			byClient[j] = rs
			if progress != nil {
				mu.Lock()
				defer mu.Unlock()
				for _, r := range rs {
					progress(r)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	grid := make([][]Result, len(ins))
	for i := range ins {
		grid[i] = make([]Result, len(clients))
		for j := range clients {
			grid[i][j] = byClient[j][i]
		}
	}
	return grid, nil
}
