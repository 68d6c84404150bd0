package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/require"
)

// RunConfig says what Lab.Run runs.
type RunConfig struct {
	Scenarios []Scenario
	// Clients are the columns, in order (see Clients, Use).
	Clients []ClientSpec
	// Skip maps client ids to why they do not run ("--no-browser"); they
	// are reported as skipped, never dropped.
	Skip map[string]string
	// SkipMissing reports a client whose runtime is missing here as skipped
	// (the reason names the install command) instead of failing the run:
	// for a laptop, never for CI (CI=true, or WSSLAB_REQUIRE naming the
	// client's id, "browser" for a browser, or "all", makes it an error).
	SkipMissing bool
	// Backend runs the servers (nil: the lab's).
	Backend harness.Backend
	// Progress, if not nil, is called with each result as soon as it is
	// known, never concurrently.
	Progress func(Result)
}

// Matrix is one run: every client's result for every scenario.
type Matrix struct {
	// Clients are the columns, with the versions of those that ran.
	Clients []harness.ClientInfo
	Rows    []Row
}

// Row is one scenario's server and what each client saw of it.
type Row struct {
	Scenario Scenario
	// URL is what the clients dialed; Leaf the certificate the server had.
	URL  string
	Leaf *certs.Leaf
	// Server is what the server saw (zero when the backend cannot tell).
	Server harness.Evidence
	// Note is the backend's line about the server (Endpoint.Note); Skip
	// why the backend did not run it (harness.SkipError), "" if it did.
	Note, Skip string
	// Results are per client, in Matrix.Clients order.
	Results []Result
}

// startParallel bounds how many servers start at once: a container start
// is mostly waiting on the engine, an in-process one takes microseconds.
const startParallel = 4

// Run is the one runner: the tests, the benchmarks and `wsslab run` use it.
// It checks that the table has an expectation for every client first, then
// starts the servers and the clients at once (Chromium's start overlaps the
// servers'), has every client dial the whole batch (concurrently: the
// browser's batch is mostly waiting on Chromium, the Go clients need a few
// milliseconds of CPU each), compares, and stops the servers. The clients
// stay up: they belong to the lab (Close).
func (l *Lab) Run(ctx context.Context, cfg RunConfig) (*Matrix, error) {
	m := &Matrix{}
	for _, c := range cfg.Clients {
		m.Clients = append(m.Clients, c.ClientInfo)
	}
	if err := Validate(cfg.Scenarios, m.Clients); err != nil {
		return nil, err
	}
	if len(cfg.Clients) == 0 && len(cfg.Scenarios) > 0 {
		return nil, errors.New("scenarios: no clients to run")
	}
	backend := cfg.Backend
	if backend == nil {
		backend = l.Backend
	}

	// Servers and clients start together.
	clients := make([]harness.Client, len(cfg.Clients))
	skip := make([]string, len(cfg.Clients))
	startErr := make([]error, len(cfg.Clients))
	var wg sync.WaitGroup
	for j, c := range cfg.Clients {
		if why, ok := cfg.Skip[c.ID]; ok {
			skip[j] = why
			continue
		}
		wg.Go(func() { clients[j], startErr[j] = c.Start(ctx, l) })
	}
	ins, rowSkip, err := l.startEach(ctx, cfg.Scenarios, repeat(backend, len(cfg.Scenarios)), true)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	defer CloseAll(ins)
	for j, err := range startErr {
		switch {
		case err == nil:
		case cfg.SkipMissing && harness.IsNotInstalled(err) && !mustHave(cfg.Clients[j]):
			skip[j] = err.Error()
		default:
			return nil, fmt.Errorf("scenarios: start %s: %w", cfg.Clients[j].ID, err)
		}
	}

	// Clients dial the rows whose server runs.
	var live []int
	var targets []harness.Target
	for i, in := range ins {
		if rowSkip[i] == "" {
			live = append(live, i)
			targets = append(targets, in.Target())
		}
	}
	byClient := make([][]Result, len(cfg.Clients))
	var mu sync.Mutex
	report := func(rs []Result) {
		if cfg.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rs {
			cfg.Progress(r)
		}
	}
	for j, c := range cfg.Clients {
		if skip[j] != "" {
			continue
		}
		wg.Go(func() {
			var obs []harness.Observation
			if len(targets) > 0 {
				obs = clients[j].DialAll(ctx, targets)
			}
			rs := make([]Result, len(ins))
			for i, in := range ins {
				if rowSkip[i] != "" {
					rs[i] = in.skipped(c.ClientInfo, rowSkip[i])
				}
			}
			for k, i := range live {
				rs[i] = ins[i].result(c.ClientInfo, obs[k])
			}
			byClient[j] = rs
			report(rs)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err // interrupted: a cut-short dial is not an observation
	}
	for j, c := range cfg.Clients {
		if skip[j] != "" {
			rs := make([]Result, len(ins))
			for i, in := range ins {
				rs[i] = in.skipped(c.ClientInfo, skip[j])
			}
			byClient[j] = rs
			report(rs)
			continue
		}
		m.Clients[j] = clients[j].Info()
	}
	for i, in := range ins {
		row := Row{Scenario: in.Scenario, URL: in.URL, Leaf: in.Leaf, Server: in.Evidence(), Skip: rowSkip[i]}
		if in.Endpoint != nil {
			row.Note = in.Endpoint.Note
		}
		for j := range cfg.Clients {
			row.Results = append(row.Results, byClient[j][i])
		}
		m.Rows = append(m.Rows, row)
	}
	return m, nil
}

// result compares one observation with the row. Run has validated the
// table, so the expectation resolves.
func (in *Instance) result(c harness.ClientInfo, obs harness.Observation) Result {
	want, _ := in.Scenario.Expect(c)
	if in.Endpoint.ConnectOnly && obs.Outcome == harness.NoEcho {
		// The socket opened; a server that does not echo was declared.
		obs.Evidence = append(obs.Evidence, "connect only (the server does not echo): "+obs.Reason)
		obs.Outcome, obs.Reason, obs.Error, obs.Err = harness.Connected, "", "", nil
	}
	return Result{Scenario: in.Scenario.ID, Observation: obs, Expected: want, Matched: want.Match(obs), Ungraded: in.Endpoint.Ungraded}
}

func (in *Instance) skipped(c harness.ClientInfo, why string) Result {
	want, _ := in.Scenario.Expect(c)
	return Result{
		Scenario:    in.Scenario.ID,
		Observation: harness.Observation{Client: c.ID, URL: in.URL, Outcome: Skipped},
		Expected:    want,
		Skip:        why,
	}
}

// Mismatches counts the results that ran and differed from expectation.
func (m *Matrix) Mismatches() int {
	n := 0
	for _, row := range m.Rows {
		for _, r := range row.Results {
			if r.Graded() && !r.Matched {
				n++
			}
		}
	}
	return n
}

// StartAll starts every scenario's server with the lab's backend.
func (l *Lab) StartAll(ctx context.Context, list []Scenario) ([]*Instance, error) {
	return l.StartEach(ctx, list, repeat(l.Backend, len(list)))
}

// StartEach starts list[i] with backends[i], a few at a time, and returns
// the instances in list order. On error the ones started are closed again.
func (l *Lab) StartEach(ctx context.Context, list []Scenario, backends []harness.Backend) ([]*Instance, error) {
	ins, _, err := l.startEach(ctx, list, backends, false)
	return ins, err
}

// startEach is StartEach; with allowSkip a row whose backend returns a
// harness.SkipError gets an Instance without Endpoint and the reason in
// skip[i], unless no row started because each failed (then the first
// failure is the error: a command that never works is not a skip).
func (l *Lab) startEach(ctx context.Context, list []Scenario, backends []harness.Backend, allowSkip bool) ([]*Instance, []string, error) {
	ins := make([]*Instance, len(list))
	skip := make([]string, len(list))
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
	if allowSkip {
		started, failed := 0, -1
		for i, err := range errs {
			var se *harness.SkipError
			switch {
			case err == nil:
				started++
			case errors.As(err, &se):
				if se.Err != nil && failed < 0 {
					failed = i
				}
				// The certificate the row would have had, for the report.
				leaf, merr := l.PKI.Mint(list[i].Cert)
				if merr != nil {
					errs[i] = merr
					continue
				}
				ins[i], skip[i] = &Instance{Scenario: list[i], Leaf: leaf}, se.Reason
				if se.Err == nil {
					errs[i] = nil // declined: never the run's error
				}
			}
		}
		// A server that started for no row is a broken command, not a
		// row's finding: its first failure is the error.
		if started > 0 || failed < 0 {
			for i := range errs {
				if skip[i] != "" {
					errs[i] = nil
				}
			}
		}
	}
	// The first error, in table order: one line, like every error here.
	if i := slices.IndexFunc(errs, func(e error) bool { return e != nil }); i >= 0 {
		var started []*Instance
		for _, in := range ins {
			if in != nil {
				started = append(started, in)
			}
		}
		CloseAll(started)
		return nil, nil, errs[i]
	}
	return ins, skip, nil
}

// CloseAll stops every instance.
func CloseAll(ins []*Instance) {
	for _, in := range ins {
		in.Close()
	}
}

// repeat returns n copies of v.
func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// mustHave reports whether a missing c fails the run even with SkipMissing:
// under CI, or when WSSLAB_REQUIRE names it (internal/require).
func mustHave(c ClientSpec) bool {
	return require.Required(c.ID) || c.Class == harness.BrowserClass && require.Required("browser")
}
