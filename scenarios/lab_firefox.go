package scenarios

import (
	"context"
	"crypto/x509"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// Firefox starts headless Firefox once, trusting only this run's root and
// loading the same page (and so sending the same Origin) as Chrome.
func (l *Lab) Firefox(ctx context.Context) (*harness.Firefox, error) {
	l.firefoxMu.Lock()
	defer l.firefoxMu.Unlock()
	if l.firefox != nil || l.firefoxErr != nil {
		return l.firefox, l.firefoxErr
	}
	page, err := l.PKI.Mint(certs.Request{DNSNames: []string{PageHost}})
	if err != nil {
		l.firefoxErr = err
		return nil, err
	}
	l.firefox, l.firefoxErr = harness.StartFirefox(ctx, harness.FirefoxConfig{
		Roots:    []*x509.Certificate{l.PKI.Root.Cert},
		PageHost: PageHost,
		PageCert: page.TLSCertificate(),
		TempDir:  l.TempDir,
	})
	return l.firefox, l.firefoxErr
}
