package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// BenchmarkMatrix is the full in-process matrix, every registered client, as a user pays for it: mint
// the PKI, then Lab.Run (Chromium's start overlapping the servers', every
// client dialing its batch), then stop everything. The phases a Go CPU
// profile cannot see are reported apart: pki-ms, run-ms (start, dial and
// compare) and close-ms (Chromium's exit), per op.
//
// Sub-benchmarks: every registered client ("all"), every client but
// Firefox ("no-firefox": Chrome and the clients in other runtimes), and
// Firefox alone ("firefox-only": its start and first batch, nothing else
// running: the floor of "all").
func BenchmarkMatrix(b *testing.B) {
	if err := harness.CheckBrowserTools(); err != nil {
		benchSkipMissing(b, err)
	}
	var noFirefox, firefoxOnly []ClientSpec
	for _, c := range Clients {
		if c.ID != harness.FirefoxInfo.ID {
			noFirefox = append(noFirefox, c)
		} else {
			firefoxOnly = append(firefoxOnly, c)
		}
	}
	for _, set := range []struct {
		name    string
		clients []ClientSpec
	}{{"all", Clients}, {"no-firefox", noFirefox}, {"firefox-only", firefoxOnly}} {
		b.Run(set.name, func(b *testing.B) { benchMatrix(b, set.clients) })
	}
}

func benchMatrix(b *testing.B, clients []ClientSpec) {
	var phases [3]time.Duration // pki, run, close
	var cycles time.Duration    // bare Chromium start+quit, one per op
	for b.Loop() {
		cycles += chromiumCycle(b)
		t0 := time.Now()
		l, err := NewLab()
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		m, err := l.Run(context.Background(), RunConfig{Scenarios: Table, Clients: clients})
		t2 := time.Now()
		l.Close()
		t3 := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)} {
			phases[i] += d
		}
		if n := m.Mismatches(); n > 0 {
			b.Fatalf("%d results differ from the table", n)
		}
	}
	for i, name := range []string{"pki", "run", "close"} {
		b.ReportMetric(float64(phases[i].Milliseconds())/float64(b.N), name+"-ms")
	}
	b.ReportMetric(float64(len(Table)), "scenarios")
	b.ReportMetric(float64(len(clients)), "clients")
	// The whole matrix (PKI, the browsers' start, every column, close) in
	// bare Chromium start+quit cycles measured in the same run.
	b.ReportMetric(float64(phases[0]+phases[1]+phases[2])/float64(cycles), "cycles")
}

// BenchmarkMatrixPhases is BenchmarkMatrix with its phases run one after the
// other, to see where the time goes (wall clock, ms/op): the browser's
// share is Chromium's, which a Go CPU profile cannot see. Lab.Run overlaps
// Chromium's start with the servers' and the browser's batch with the Go
// clients'; the difference between the two benchmarks is what that saves.
func BenchmarkMatrixPhases(b *testing.B) {
	if err := harness.CheckBrowserTools(); err != nil {
		benchSkipMissing(b, err)
	}
	var phases [6]time.Duration // pki, chromium, servers, browser, go, close
	for b.Loop() {
		t0 := time.Now()
		l, err := NewLab()
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		br, err := l.Browser(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		ins, err := l.StartAll(context.Background(), Table)
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		DialAll(context.Background(), ins, br)
		t4 := time.Now()
		DialAll(context.Background(), ins, l.Lax)
		DialAll(context.Background(), ins, l.Strict)
		t5 := time.Now()
		CloseAll(ins)
		l.Close()
		t6 := time.Now()
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t6.Sub(t5)} {
			phases[i] += d
		}
	}
	for i, name := range []string{"pki", "chromium-start", "servers", "browser-batch", "go-clients", "close"} {
		b.ReportMetric(float64(phases[i].Milliseconds())/float64(b.N), name+"-ms")
	}
}

// BenchmarkBrowserSolo is one scenario in its own fresh browser context
// (what Dial does), for comparison with the batch.
func BenchmarkBrowserSolo(b *testing.B) {
	br := benchBrowser(b)
	in, err := lab.Start(context.Background(), Table[0], "")
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	for b.Loop() {
		in.Dial(context.Background(), br)
	}
}

// BenchmarkGoClients is one scenario dialed by the lax and the strict client.
func BenchmarkGoClients(b *testing.B) {
	for _, c := range []harness.Client{lab.Lax, lab.Strict} {
		b.Run(c.Info().ID, func(b *testing.B) {
			in, err := lab.Start(context.Background(), Table[0], "")
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			for b.Loop() {
				if r := in.Dial(context.Background(), c); !r.Matched {
					b.Fatal(r.Outcome, r.Err)
				}
			}
		})
	}
}

func benchBrowser(b *testing.B) *harness.Browser {
	b.Helper()
	br, err := lab.Browser(context.Background())
	if err != nil {
		benchSkipMissing(b, err)
	}
	return br
}

// benchSkipMissing skips a benchmark when the browser is not installed on a
// laptop; any other error, or a missing browser under CI, fails it.
func benchSkipMissing(b *testing.B, err error) {
	b.Helper()
	if errors.Is(err, harness.ErrNoBrowser) {
		testenv.Missing(b, "browser", err)
	}
	b.Fatal(err)
}

// TestSoak runs the full matrix WSSLAB_SOAK times, each with a fresh lab and
// browser, and fails on any outcome that differs between runs or from the
// table. `make soak N=20` runs it.
func TestSoak(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WSSLAB_SOAK"))
	if n <= 0 {
		t.Skip("set WSSLAB_SOAK=N (make soak N=20) to run the matrix N times")
	}
	first := map[string]string{}
	for round := 1; round <= n; round++ {
		l, err := NewLab()
		if err != nil {
			t.Fatal(err)
		}
		browserFromLab(t, l)
		start := time.Now()
		m, err := l.Run(t.Context(), RunConfig{Scenarios: Table, Clients: Clients})
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		bad, results := 0, 0
		for _, r := range m.results() {
			results++
			k := r.Scenario + "/" + r.Client
			v := fmt.Sprintf("%s %s", r.Outcome, r.Reason)
			if round == 1 {
				first[k] = v
			} else if first[k] != v {
				t.Errorf("round %d: %s gave %q, round 1 gave %q", round, k, v, first[k])
				bad++
			}
			if !r.Matched {
				t.Errorf("round %d: %s gave %q, want %s", round, k, v, r.Expected)
				bad++
			}
		}
		t.Logf("round %d/%d: %d results, %d differing, %v", round, n, results, bad, time.Since(start).Round(time.Millisecond))
	}
}

// results are every result of the matrix, row by row.
func (m *Matrix) results() []Result {
	var out []Result
	for _, row := range m.Rows {
		out = append(out, row.Results...)
	}
	return out
}

// DialAll has one client dial every instance in one batch, in order: what
// the leak, isolation and doctor tests and the batch benchmark need without
// the runner's comparison.
func DialAll(ctx context.Context, ins []*Instance, c harness.Client) []harness.Observation {
	targets := make([]harness.Target, len(ins))
	for i, in := range ins {
		targets[i] = in.Target()
	}
	return c.DialAll(ctx, targets)
}

// TestBenchSkipsOnlyAMissingBrowser runs a browser benchmark in a child
// process with Chromium missing: on a laptop it skips naming the install
// command; under CI=true it fails, like every test here.
func TestBenchSkipsOnlyAMissingBrowser(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range []bool{false, true} {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^$", "-test.bench=^BenchmarkBrowserSolo$", "-test.benchtime=1x", "-test.v")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, "WSSLAB_REQUIRE_BROWSER=") && !strings.HasPrefix(kv, "WSSLAB_CHROMIUM=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "WSSLAB_CHROMIUM=/nonexistent/chromium")
		if ci {
			cmd.Env = append(cmd.Env, "CI=true")
		}
		out, err := cmd.CombinedOutput()
		failed := err != nil
		if failed != ci || !strings.Contains(string(out), "apt-get install") {
			t.Errorf("CI=%v: failed=%v (%v), want failed=%v, naming the install command:\n%s", ci, failed, err, ci, out)
		}
	}
}
