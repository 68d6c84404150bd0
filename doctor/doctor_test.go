package doctor

import (
	"bytes"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in, url, host string
		port          int
		err           string
	}{
		{in: "wss://WS.Example.COM/chat?x=1", url: "wss://ws.example.com/chat?x=1", host: "ws.example.com", port: 443},
		{in: "wss://ws.example.com.:8443", url: "wss://ws.example.com:8443/", host: "ws.example.com", port: 8443},
		{in: "ws://127.0.0.1:80/", url: "ws://127.0.0.1/", host: "127.0.0.1", port: 80},
		{in: "wss://[::1]:9000/", url: "wss://[::1]:9000/", host: "::1", port: 9000},
		{in: "wss://bücher.example/", url: "wss://xn--bcher-kva.example/", host: "xn--bcher-kva.example", port: 443},
		{in: "https://under_score.example/", url: "https://under_score.example/", host: "under_score.example", port: 443},
		{in: "example.com", err: "no scheme"},
		{in: "wss://", err: "no host"},
		{in: "wss://a:0/", err: "bad port"},
		{in: "wss://a:/", err: "empty port"},
		{in: "gopher://a/", err: "unsupported scheme"},
		{in: "wss://a b/", err: "malformed"},
		{in: "", err: "no URL"},
	}
	for _, c := range cases {
		got, err := ParseURL(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseURL(%q) err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got.URL != c.url || got.Host != c.host || got.Port != c.port {
			t.Errorf("ParseURL(%q) = %+v, %v; want %s %s %d", c.in, got, err, c.url, c.host, c.port)
		}
	}
}

func TestParseResolve(t *testing.T) {
	r, err := ParseResolve("WS.example.com:443:127.0.0.1")
	if err != nil || r.Host != "ws.example.com" || r.Port != 443 || r.Addr != "127.0.0.1" {
		t.Errorf("got %+v %v", r, err)
	}
	r, err = ParseResolve("a.test:8443:[::1]")
	if err != nil || r.Addr != "::1" {
		t.Errorf("IPv6: %+v %v", r, err)
	}
	for _, bad := range []string{"", "a", "a:1", "a:x:1.2.3.4", ":1:1.2.3.4", "a:1:host", "[::1]:1:1.2.3.4", "a:70000:1.2.3.4"} {
		if _, err := ParseResolve(bad); err == nil {
			t.Errorf("ParseResolve(%q) accepted", bad)
		}
	}
}

// TestMatchHost: Chrome's name rules, each measured with Chromium 156 in
// TestProbeChrome.
func TestMatchHost(t *testing.T) {
	cert := func(dns []string, ips ...string) *x509.Certificate {
		c := &x509.Certificate{DNSNames: dns}
		for _, ip := range ips {
			c.IPAddresses = append(c.IPAddresses, net.ParseIP(ip))
		}
		return c
	}
	cases := []struct {
		host string
		c    *x509.Certificate
		ok   bool
	}{
		{"a.example.com", cert([]string{"a.example.com"}), true},
		{"a.example.com", cert([]string{"A.Example.COM."}), true},
		{"a.example.com", cert([]string{"*.example.com"}), true},
		{"a.b.example.com", cert([]string{"*.example.com"}), false},
		{"example.com", cert([]string{"*.example.com"}), false},
		{"x.com", cert([]string{"*.com"}), false},
		{"x.co.uk", cert([]string{"*.co.uk"}), false},
		{"x.test", cert([]string{"*.test"}), false},
		{"x.github.io", cert([]string{"*.github.io"}), true},
		{"foo.example.com", cert([]string{"f*.example.com"}), false},
		{"a.b.example.com", cert([]string{"a.*.example.com"}), false},
		{"x.example.com", cert([]string{"*"}), false},
		{"a+b.example.com", cert([]string{"a+b.example.com"}), false},
		{"under_score.example.com", cert([]string{"under_score.example.com"}), true},
		{"127.0.0.1", cert(nil, "127.0.0.1"), true},
		{"127.0.0.1", cert([]string{"127.0.0.1"}), false},
		{"127.0.0.1", cert(nil, "127.0.0.2"), false},
		{"::1", cert(nil, "::1"), true},
	}
	for _, c := range cases {
		if got := MatchHost(c.host, c.c); got.OK != c.ok {
			t.Errorf("MatchHost(%q, %v %v) = %+v, want ok=%v", c.host, c.c.DNSNames, c.c.IPAddresses, got, c.ok)
		}
	}
	cnOnly := &x509.Certificate{}
	cnOnly.Subject.CommonName = "a.example.com"
	if m := MatchHost("a.example.com", cnOnly); m.OK || !m.CNOnly {
		t.Errorf("CN-only: %+v", m)
	}
}

// TestStatusPrecedence: which error Chrome reports when defects combine,
// as measured (see the combination rows of probeCases).
func TestStatusPrecedence(t *testing.T) {
	cases := []struct {
		s    CertStatus
		want string
	}{
		{StatusDateInvalid | StatusCommonNameInvalid | StatusAuthorityInvalid, "net::ERR_CERT_AUTHORITY_INVALID"},
		{StatusDateInvalid | StatusCommonNameInvalid, "net::ERR_CERT_COMMON_NAME_INVALID"},
		{StatusInvalid | StatusCommonNameInvalid, "net::ERR_CERT_INVALID"},
		{StatusWeakKey | StatusDateInvalid, "net::ERR_CERT_WEAK_KEY"},
		{StatusDateInvalid | StatusValidityTooLong, "net::ERR_CERT_DATE_INVALID"},
		{0, ""},
	}
	for _, c := range cases {
		if got := c.s.NetError(); got != c.want {
			t.Errorf("%b: %s, want %s", c.s, got, c.want)
		}
	}
}

// TestAnalyzeChainPublicRules: the rules Chrome applies only to publicly
// trusted roots (no public root is reachable from a test, so the model is
// checked directly).
func TestAnalyzeChainPublicRules(t *testing.T) {
	p := newProbePKI(t)
	long := leafUnder(t, p.inter, spec{notAfter: 500 * 24 * time.Hour}, "long.example.com")
	weak := leafUnder(t, p.inter, spec{key: "rsa1024"}, "weak.example.com")
	for _, c := range []struct {
		leaf  *node
		known bool
		want  string
	}{
		{long, true, "net::ERR_CERT_VALIDITY_TOO_LONG"},
		{long, false, ""},
		{weak, true, "net::ERR_CERT_WEAK_KEY"},
		{weak, false, ""},
	} {
		var trust *Trust
		if c.known {
			trust = NewTrust([]*x509.Certificate{p.root.cert}, nil)
		} else {
			trust = NewTrust(nil, []*x509.Certificate{p.root.cert})
		}
		r := AnalyzeChain(ChainInput{Host: c.leaf.cert.DNSNames[0], Served: [][]byte{c.leaf.cert.Raw, p.inter.cert.Raw}, Trust: trust})
		if r.NetError != c.want {
			t.Errorf("%s known=%v: %q, want %q (%+v)", c.leaf.cert.DNSNames[0], c.known, r.NetError, c.want, r.Findings)
		}
	}
}

func TestAnalyzeChainGarbage(t *testing.T) {
	for _, served := range [][][]byte{nil, {{}}, {{0x30, 0x03, 0x02, 0x01, 0x01}}, {[]byte("not a certificate")}} {
		r := AnalyzeChain(ChainInput{Host: "a.example.com", Served: served})
		if r.NetError != "net::ERR_CERT_INVALID" || len(r.Findings) == 0 {
			t.Errorf("%q: %q %+v", served, r.NetError, r.Findings)
		}
	}
}

// TestParseCertificateNegativeSerial: a certificate Go refuses only for its
// negative serial is read as Chrome reads it, keeping the bytes as sent.
func TestParseCertificateNegativeSerial(t *testing.T) {
	leaf := mint(t, spec{cn: "neg.wsslab.test", dns: []string{"neg.wsslab.test"}}, nil)
	der := patchSerialNegative(t, leaf.cert.Raw)
	c, err := parseCertificate(der)
	if err != nil {
		t.Fatalf("parseCertificate: %v", err)
	}
	if !bytes.Equal(c.Raw, der) || c.SerialNumber.Sign() >= 0 || c.Subject.CommonName != "neg.wsslab.test" {
		t.Errorf("raw kept %v, serial %v, subject %v", bytes.Equal(c.Raw, der), c.SerialNumber, c.Subject)
	}
	// The signature is checked over the bytes as sent: patched, it fails.
	if c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil {
		t.Error("signature over the patched TBS verified")
	}
	if _, err := parseCertificate([]byte{0x30, 0x03, 0x02, 0x01, 0x80}); err == nil {
		t.Error("garbage parsed")
	}
}
