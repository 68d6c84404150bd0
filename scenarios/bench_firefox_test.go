package scenarios

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// BenchmarkFirefoxStart is Firefox's fixed cost: a fresh profile (NSS
// database, user.js), start to BiDi session, then Close (the process
// group killed, the temp dir removed). start-ms and close-ms per op.
func BenchmarkFirefoxStart(b *testing.B) {
	if err := harness.CheckFirefoxTools(); err != nil {
		benchSkipMissingFirefox(b, err)
	}
	page, err := lab.PKI.Mint(certs.Request{DNSNames: []string{PageHost}})
	if err != nil {
		b.Fatal(err)
	}
	var start, stop time.Duration
	for b.Loop() {
		t0 := time.Now()
		f, err := harness.StartFirefox(context.Background(), harness.FirefoxConfig{
			Roots: []*x509.Certificate{lab.PKI.Root.Cert}, PageHost: PageHost, PageCert: page.TLSCertificate(),
		})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		f.Close()
		start, stop = start+t1.Sub(t0), stop+time.Since(t1)
	}
	b.ReportMetric(float64(start.Milliseconds())/float64(b.N), "start-ms")
	b.ReportMetric(float64(stop.Milliseconds())/float64(b.N), "close-ms")
}

func benchSkipMissingFirefox(b *testing.B, err error) {
	b.Helper()
	if errors.Is(err, harness.ErrNoFirefox) {
		testenv.Missing(b, "firefox", err)
	}
	b.Fatal(err)
}
