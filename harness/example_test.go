package harness_test

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// A server whose certificate is missing its intermediate: Postman's defaults
// (the lax client) connect, a verifying client does not.
func ExampleNewServer() {
	pki, err := certs.NewPKI()
	if err != nil {
		panic(err)
	}
	leaf, err := pki.Mint(certs.Request{
		DNSNames: []string{"ws.wsslab.test"},
		Defects:  []certs.Defect{certs.MissingIntermediate},
	})
	if err != nil {
		panic(err)
	}
	srv, err := harness.NewServer(harness.ServerConfig{Host: "ws.wsslab.test", Certificate: leaf.TLSCertificate()})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// Addr: connect to the loopback server while SNI and the name check use
	// ws.wsslab.test, like curl --resolve.
	target := harness.Target{URL: srv.URL, Addr: srv.Addr, Message: "hi"}
	for _, c := range []harness.Client{harness.Lax(), harness.Strict(pki.RootPool())} {
		obs := harness.Dial(context.Background(), c, target)
		fmt.Printf("%s: %s", c.Info().ID, obs.Outcome)
		if obs.Reason != "" {
			fmt.Printf(" (%s)", obs.Reason)
		}
		fmt.Println()
	}
	// Output:
	// lax: connected
	// strict: cert-untrusted (x509.UnknownAuthorityError)
}

// The same server dialed by real headless Chromium, trusting only the test
// root: the reason the page never sees comes from DevTools. (Needs Debian's
// chromium and libnss3-tools; not run by go test.)
func ExampleStartBrowser() {
	ctx := context.Background()
	pki, _ := certs.NewPKI()
	page, _ := pki.Mint(certs.Request{DNSNames: []string{"app.wsslab.test"}})
	b, err := harness.StartBrowser(ctx, harness.BrowserConfig{
		Roots:    []*x509.Certificate{pki.Root.Cert},
		PageHost: "app.wsslab.test",
		PageCert: page.TLSCertificate(),
	})
	if err != nil {
		fmt.Println(err) // names the install command when Chromium is missing
		return
	}
	defer b.Close()
	leaf, _ := pki.Mint(certs.Request{DNSNames: []string{"ws.wsslab.test"}, Defects: []certs.Defect{certs.Expired}})
	srv, _ := harness.NewServer(harness.ServerConfig{Host: "ws.wsslab.test", Certificate: leaf.TLSCertificate()})
	defer srv.Close()
	obs := b.Dial(ctx, harness.Target{URL: srv.URL, Message: "hi"})
	fmt.Println(obs.Outcome, obs.Reason) // cert-date-invalid net::ERR_CERT_DATE_INVALID
	fmt.Println(obs.Error)               // WebSocket connection to 'wss://ws.wsslab.test:PORT/' failed: ...
}
