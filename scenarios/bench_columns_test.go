package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// chromiumCycle is harness.ChromiumCycle for a benchmark: the unit the
// matrix's cost is stated in (BenchmarkMatrix's cycles metric).
func chromiumCycle(tb testing.TB) time.Duration {
	tb.Helper()
	if _, err := harness.FindChromium(); err != nil {
		benchSkipMissing(tb.(*testing.B), err)
	}
	d, err := harness.ChromiumCycle("")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// BenchmarkChromiumCycle is a bare Chromium start+quit (see chromiumCycle).
func BenchmarkChromiumCycle(b *testing.B) {
	if err := harness.CheckBrowserTools(); err != nil {
		benchSkipMissing(b, err)
	}
	for b.Loop() {
		chromiumCycle(b)
	}
}

// BenchmarkColumn is each registered client's cost per scenario once it
// runs: one batch over the whole table per iteration (the client started
// once, as a run starts it), reported per scenario. A client added to
// Clients is measured here with no change.
func BenchmarkColumn(b *testing.B) {
	ins, err := lab.StartAll(context.Background(), Table)
	defer CloseAll(ins)
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range Clients {
		b.Run(spec.ID, func(b *testing.B) {
			t0 := time.Now()
			c, err := spec.Start(context.Background(), lab)
			if err != nil {
				if harness.IsNotInstalled(err) {
					benchSkipMissing(b, err)
				}
				b.Fatal(err)
			}
			started := time.Since(t0)
			start, n := time.Now(), 0
			for b.Loop() {
				DialAll(context.Background(), ins, c)
				n++
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n*len(ins)), "ns/scenario")
			// The first call starts the client (Chromium, a runtime's
			// process); later ones (b.Loop's rounds) find it running.
			b.ReportMetric(float64(started.Milliseconds()), "start-ms")
		})
	}
}
