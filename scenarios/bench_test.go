package scenarios

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// BenchmarkMatrix is the full in-process matrix as a user pays for it: mint
// the PKI, start Chromium, start every server, dial every scenario with all
// three clients, stop everything. It also reports where the time goes, per
// phase (wall clock, ms/op): the browser's share is Chromium's, which a Go
// CPU profile cannot see.
func BenchmarkMatrix(b *testing.B) {
	if err := harness.CheckBrowserTools(); err != nil {
		b.Skip(err)
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
		// The phases run one after the other here to be measured apart;
		// Lab.Run overlaps the browser and the Go clients.
		rs := DialAll(context.Background(), ins, br)
		t4 := time.Now()
		rs = append(rs, DialAll(context.Background(), ins, l.Lax)...)
		rs = append(rs, DialAll(context.Background(), ins, l.Strict)...)
		t5 := time.Now()
		CloseAll(ins)
		l.Close()
		t6 := time.Now()
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t6.Sub(t5)} {
			phases[i] += d
		}
		for _, r := range rs {
			if !r.Matched {
				b.Fatalf("%s/%s: %s", r.Scenario, r.Client, r.Outcome)
			}
		}
	}
	for i, name := range []string{"pki", "chromium-start", "servers", "browser-batch", "go-clients", "close"} {
		b.ReportMetric(float64(phases[i].Milliseconds())/float64(b.N), name+"-ms")
	}
	b.ReportMetric(float64(len(Table)), "scenarios")
}

// BenchmarkBrowserBatch is the browser's cost per scenario in a running
// browser: one batch over the whole table per iteration (fresh context, one
// page, every socket), reported per scenario.
func BenchmarkBrowserBatch(b *testing.B) {
	br := benchBrowser(b)
	ins, err := lab.StartAll(context.Background(), Table)
	defer CloseAll(ins)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n := 0
	for b.Loop() {
		DialAll(context.Background(), ins, br)
		n++
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n*len(ins)), "ns/scenario")
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
		b.Run(c.Name(), func(b *testing.B) {
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
		b.Skip(err)
	}
	return br
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
		br := browserFromLab(t, l)
		start := time.Now()
		rs, err := l.Run(t.Context(), Table, []harness.Client{br, l.Lax, l.Strict}, nil)
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for _, r := range rs {
			k := r.Scenario + "/" + r.Client
			v := fmt.Sprintf("%s %s", r.Outcome, r.NetError)
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
		t.Logf("round %d/%d: %d results, %d differing, %v", round, n, len(rs), bad, time.Since(start).Round(time.Millisecond))
	}
}
