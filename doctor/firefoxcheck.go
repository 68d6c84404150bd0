package doctor

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// FirefoxCheck is a running headless Firefox set up for doctor like
// BrowserCheck's Chromium: its profile's NSS database trusts the --ca roots
// on top of Firefox's built-in roots (compiled in; nothing is replaced),
// plus a throwaway root for doctor's page, name-constrained to the page's
// host. No pref or capability weakens verification.
type FirefoxCheck struct {
	f *harness.Firefox
}

// FirefoxResult is what real Firefox did. doctor's model predicts Chrome
// only, so there is no "agrees": SameVerdict says whether Firefox's verdict
// (connects or fails) is the one predicted for Chrome. Skipped, when set,
// says why Firefox did not dial, and nothing else is set.
type FirefoxResult struct {
	Version string          `json:"version,omitempty"`
	Verdict string          `json:"verdict,omitempty"`
	Outcome harness.Outcome `json:"outcome,omitempty"`
	// Reason is Firefox's own reason for a failure: the NSS code of the
	// upgrade request's network.fetchError (SEC_ERROR_UNKNOWN_ISSUER,
	// SSL_ERROR_...), "HTTP 403" for a refused upgrade, the exception the
	// constructor threw, or Firefox's NS_ERROR_... name. Empty when it
	// connects.
	Reason string `json:"reason,omitempty"`
	// Origin is the Origin header Firefox sent.
	Origin      string   `json:"origin,omitempty"`
	SameVerdict *bool    `json:"same_verdict_as_prediction,omitempty"`
	Skipped     string   `json:"skipped,omitempty"`
	Evidence    []string `json:"evidence,omitempty"`
}

// FirefoxSkip says why Firefox cannot dial target as Chrome does with
// these --resolve entries, or "" when it can. wsslab's Firefox sends every
// name to 127.0.0.1 (network.dns.forceResolve) and refuses non-loopback
// connections (MOZ_DISABLE_NONLOCAL_CONNECTIONS), so it is faithful only
// when every --resolve entry maps to 127.0.0.1 and the URL's host is
// reached on loopback: an IP literal on loopback, localhost, a --resolve
// entry, or a name the system resolves to 127.0.0.1 only.
func FirefoxSkip(ctx context.Context, raw string, resolve []Resolve) string {
	t, err := ParseURL(raw)
	if err != nil {
		return err.Error()
	}
	for _, r := range resolve {
		if r.Addr != "127.0.0.1" {
			return fmt.Sprintf("--resolve %s:%d:%s maps to %s, and wsslab's Firefox can send names only to 127.0.0.1 (network.dns.forceResolve maps all of them to one address)", r.Host, r.Port, r.Addr, r.Addr)
		}
	}
	if t.IP != nil {
		if !t.IP.IsLoopback() {
			return fmt.Sprintf("%s is not a loopback address, and wsslab's Firefox connects only to loopback (MOZ_DISABLE_NONLOCAL_CONNECTIONS)", t.Host)
		}
		return ""
	}
	if t.Host == "localhost" {
		return ""
	}
	for _, r := range resolve {
		if r.Host == t.Host && r.Port == t.Port {
			return ""
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(lctx, t.Host)
	if err != nil {
		return fmt.Sprintf("cannot resolve %s (%v); wsslab's Firefox sends every name to 127.0.0.1", t.Host, err)
	}
	for _, a := range addrs {
		if a != "127.0.0.1" {
			return fmt.Sprintf("%s resolves to %s, and wsslab's Firefox sends every name to 127.0.0.1 (give --resolve %s:%d:127.0.0.1 for a local server)", t.Host, strings.Join(addrs, ", "), t.Host, t.Port)
		}
	}
	return ""
}

// FirefoxPageOrigin is the origin doctor serves Firefox's page at for
// --origin origin and the target URL raw: origin itself when PageOriginOK
// and its port is not the target's (Firefox moves the origin's port to the
// page server for every host), else "" (https://PageHost:PORT); why says
// why not, when origin was a page origin.
func FirefoxPageOrigin(origin, raw string) (pageOrigin, why string) {
	if !PageOriginOK(origin) {
		return "", ""
	}
	u, _ := url.Parse(origin)
	port := u.Port()
	if port == "" {
		port = "443"
	}
	if t, err := ParseURL(raw); err == nil && strconv.Itoa(t.Port) == port {
		return "", fmt.Sprintf("the page at %s would take the endpoint's port %s too (network.socket.forcePort moves a port for every host)", origin, port)
	}
	return "https://" + strings.ToLower(u.Host), ""
}

// StartFirefoxCheck starts Firefox trusting private (and its built-in
// roots) with doctor's page served at pageOrigin (from FirefoxPageOrigin)
// or, when that is "", at https://PageHost:PORT. timeout bounds one dial.
func StartFirefoxCheck(ctx context.Context, private []*x509.Certificate, timeout time.Duration, pageOrigin string) (*FirefoxCheck, error) {
	host := PageHost
	if pageOrigin != "" {
		u, _ := url.Parse(pageOrigin)
		host = strings.ToLower(u.Hostname())
	}
	root, page, err := pagePKI(host)
	if err != nil {
		return nil, err
	}
	f, err := harness.StartFirefox(ctx, harness.FirefoxConfig{
		Roots:      append([]*x509.Certificate{root}, private...),
		PageHost:   host,
		PageCert:   page,
		PageOrigin: pageOrigin,
		Timeout:    timeout,
		Parallel:   1,
	})
	if err != nil {
		return nil, err
	}
	return &FirefoxCheck{f: f}, nil
}

// Origin is the Origin header Firefox sends from doctor's page.
func (c *FirefoxCheck) Origin() string { return strings.TrimSuffix(c.f.PageURL(), "/") }

// Version is Firefox's version, e.g. "Firefox/153.8.0".
func (c *FirefoxCheck) Version() string { return c.f.Version() }

// Close kills Firefox's process group and removes its temp dir.
func (c *FirefoxCheck) Close() { c.f.Close() }

// Dial opens the report's URL from the page with real Firefox.
func (c *FirefoxCheck) Dial(ctx context.Context, rep *Report, protos []string) *FirefoxResult {
	obs := c.f.DialAll(ctx, []harness.Target{{URL: rep.URL, Subprotocols: protos, Message: "wsslab doctor"}})[0]
	res := &FirefoxResult{Version: c.f.Version(), Verdict: "fails", Outcome: obs.Outcome, Reason: obs.Reason, Origin: c.Origin(), Evidence: obs.Evidence}
	// A socket that opened is a connection, whether or not the server
	// echoes doctor's message (as for Chrome).
	if obs.Outcome == harness.Connected || obs.Outcome == harness.NoEcho {
		res.Verdict, res.Reason = "connects", ""
	}
	same := res.Verdict == rep.Prediction.Verdict
	res.SameVerdict = &same
	return res
}
