package harness_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// TestREADMEUseInYourTests is README's "Use it in your own tests", verbatim
// between the markers (scenarios/readme_test.go checks that), with
// harness.NewServer standing in for the reader's server.
func TestREADMEUseInYourTests(t *testing.T) {
	ctx := t.Context()
	startYourServer := func(t *testing.T, cert tls.Certificate) *harness.Server {
		srv, err := harness.NewServer(harness.ServerConfig{Host: "ws.wsslab.test", Certificate: cert})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		return srv
	}

	// README begins.
	pki, err := certs.NewPKI() // this run's root -> intermediate
	if err != nil {
		t.Fatal(err)
	}
	page, _ := pki.Mint(certs.Request{DNSNames: []string{"app.wsslab.test"}})
	b, err := harness.StartBrowser(ctx, harness.BrowserConfig{
		Roots:    []*x509.Certificate{pki.Root.Cert}, // trusted through a throwaway NSS database only
		PageHost: "app.wsslab.test",
		PageCert: page.TLSCertificate(),
	})
	if err != nil {
		if errors.Is(err, harness.ErrNoBrowser) && !harness.RequireBrowser() {
			t.Skip(err) // names the install command; fails under CI=true
		}
		t.Fatal(err)
	}
	defer b.Close()

	leaf, _ := pki.Mint(certs.Request{DNSNames: []string{"ws.wsslab.test"}, Defects: []certs.Defect{certs.Expired}})
	srv := startYourServer(t, leaf.TLSCertificate()) // yours: it serves leaf on 127.0.0.1
	target := harness.Target{URL: srv.URL, Addr: srv.Addr, Message: "hi"}
	got := map[string]harness.Outcome{} // by client id, to compare with what you expect
	for _, c := range []harness.Client{b, harness.Lax(), harness.Strict(pki.RootPool())} {
		obs := harness.Dial(ctx, c, target) // an Observation, never an error
		t.Logf("%s: %s %s", c.Info().ID, obs.Outcome, obs.Reason)
		var invalid x509.CertificateInvalidError
		if errors.As(obs.Err, &invalid) && invalid.Reason == x509.Expired {
			t.Logf("%s: the typed Go error says expired", c.Info().ID)
		}
		got[c.Info().ID] = obs.Outcome
	}
	// README ends.

	want := map[string]harness.Outcome{harness.ChromeID: harness.CertDateInvalid, harness.LaxID: harness.Connected, harness.StrictID: harness.CertDateInvalid}
	for id, o := range want {
		if got[id] != o {
			t.Errorf("%s: %s, want %s", id, got[id], o)
		}
	}
}
