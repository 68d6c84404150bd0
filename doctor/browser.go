package doctor

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// PageHost is the host real Chromium loads doctor's page from. It is
// mapped to 127.0.0.1; the page's origin is the Origin Chrome sends.
const PageHost = "doctor-page.wsslab.test"

// BrowserCheck is a running Chromium set up for doctor: it trusts the
// --ca roots on top of its own built-in root store (nothing is replaced),
// plus a throwaway root for doctor's own page that is name-constrained to
// PageHost, so it cannot vouch for any other name.
type BrowserCheck struct {
	b *harness.Browser
}

// PageOriginOK reports whether real Chrome can be made to send origin as
// its Origin header: an https:// origin (scheme, DNS host, optional port,
// nothing else), from which doctor serves its page.
func PageOriginOK(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return false
	}
	h := u.Hostname()
	return net.ParseIP(h) == nil && validHostChars(strings.ToLower(h)) && strings.Contains(h, ".")
}

// StartBrowserCheck starts Chromium. resolve maps hosts like --resolve;
// timeout bounds one dial. origin, when PageOriginOK, is where doctor's
// page is loaded from, so Chrome sends exactly that Origin; otherwise the
// page is at https://PageHost:PORT.
func StartBrowserCheck(ctx context.Context, private []*x509.Certificate, resolve []Resolve, timeout time.Duration, origin string) (*BrowserCheck, error) {
	host, pageOrigin := PageHost, ""
	if PageOriginOK(origin) {
		u, _ := url.Parse(origin)
		host, pageOrigin = strings.ToLower(u.Hostname()), "https://"+strings.ToLower(u.Host)
	}
	root, page, err := pagePKI(host)
	if err != nil {
		return nil, err
	}
	rules := []string{"MAP " + PageHost + " 127.0.0.1"}
	for _, r := range resolve {
		// Chrome's MAP rule takes the address without a port; the port
		// stays the URL's (--resolve names the same port).
		addr := r.Addr
		if strings.Contains(addr, ":") {
			addr = "[" + addr + "]"
		}
		rules = append(rules, "MAP "+r.Host+" "+addr)
	}
	b, err := harness.StartBrowser(ctx, harness.BrowserConfig{
		Roots:         append([]*x509.Certificate{root}, private...),
		PageHost:      host,
		PageCert:      page,
		PageOrigin:    pageOrigin,
		ResolverRules: strings.Join(rules, ", "),
		Timeout:       timeout,
	})
	if err != nil {
		return nil, err
	}
	return &BrowserCheck{b: b}, nil
}

// Origin is the Origin header Chrome sends from doctor's page.
func (c *BrowserCheck) Origin() string { return strings.TrimSuffix(c.b.PageURL(), "/") }

// Version is Chromium's product string.
func (c *BrowserCheck) Version() string { return c.b.Version() }

// Close stops Chromium.
func (c *BrowserCheck) Close() { c.b.Close() }

// Dial opens the report's URL from the page with real Chromium and
// compares with the prediction.
func (c *BrowserCheck) Dial(ctx context.Context, rep *Report, protos []string) *ChromeResult {
	obs := c.b.Dial(ctx, harness.Target{URL: rep.URL, Subprotocols: protos, Message: "wsslab doctor"})
	res := &ChromeResult{Version: c.b.Version(), NetError: obs.Reason, Outcome: obs.Outcome, Evidence: obs.Evidence}
	if obs.Outcome == harness.Blocked {
		// No socket, no net error: Chrome's reason is then the constructor's
		// exception, which doctor's prediction does not carry.
		res.NetError = ""
	}
	res.Verdict = "fails"
	// A socket that opened is a connection, whether or not the server
	// echoes doctor's message.
	if obs.Outcome == harness.Connected || obs.Outcome == harness.NoEcho {
		res.Verdict, res.NetError = "connects", ""
	}
	res.Agrees = res.Verdict == rep.Prediction.Verdict && res.NetError == rep.Prediction.NetError
	return res
}

// pagePKI mints a root constrained to host and the page's leaf for it.
func pagePKI(host string) (*x509.Certificate, tls.Certificate, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "wsslab doctor throwaway page root", Organization: []string{"wsslab"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
		// The root lives for one run and may only vouch for the page.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{host},
	}
	der, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("doctor: page root: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano() + 1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, leafKey.Public(), crypto.Signer(rootKey))
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("doctor: page leaf: %w", err)
	}
	return root, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}, nil
}
