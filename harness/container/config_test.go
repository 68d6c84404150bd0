package container

import (
	"strings"
	"testing"

	"github.com/wsslab/wsslab/certs"
)

// Pure tests: no Docker.

func TestListenPort(t *testing.T) {
	for _, c := range []struct {
		in, want string
		err      bool
	}{
		{"", "", false},
		{"127.0.0.1:0", "", false},
		{"127.0.0.1:9443", "9443", false},
		{":9443", "9443", false},
		{"0.0.0.0:9443", "", true}, // never off loopback
		{"nonsense", "", true},
	} {
		got, err := listenPort(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("listenPort(%q) = %q, %v; want %q, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

// TestServedFile: nginx is pointed at the certbot file that sends exactly
// the scenario's served chain.
func TestServedFile(t *testing.T) {
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		defects []certs.Defect
		want    string
	}{
		{nil, certs.Files.FullChain},
		{[]certs.Defect{certs.MissingIntermediate}, certs.Files.Cert},
		{[]certs.Defect{certs.SelfSigned}, certs.Files.FullChain},
		{[]certs.Defect{certs.UntrustedRoot}, "fullchain-root.pem"},
	} {
		leaf, err := pki.Mint(certs.Request{DNSNames: []string{"x.wsslab.test"}, Defects: c.defects})
		if err != nil {
			t.Fatal(err)
		}
		if got := servedFile(leaf); got != c.want {
			t.Errorf("%v: got %s, want %s", c.defects, got, c.want)
		}
	}
}

// TestProxyConfig: each Proxy setting is the nginx line people get wrong.
func TestProxyConfig(t *testing.T) {
	for _, c := range []struct {
		p      Proxy
		has    []string
		hasNot []string
	}{
		{Proxy{}, []string{"proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $connection_upgrade;"}, nil},
		{Proxy{NoUpgradeHeaders: true}, []string{"proxy_http_version 1.1;"}, []string{"Upgrade $http_upgrade", "Connection $connection_upgrade"}},
		{Proxy{HTTP10: true}, []string{"proxy_set_header Upgrade $http_upgrade;"}, []string{"proxy_http_version"}},
	} {
		conf := c.p.Config("h.wsslab.test", "/c/fullchain.pem", "/c/privkey.pem")
		for _, s := range c.has {
			if !strings.Contains(conf, s) {
				t.Errorf("%+v: missing %q", c.p, s)
			}
		}
		for _, s := range c.hasNot {
			if strings.Contains(conf, s) {
				t.Errorf("%+v: must not have %q", c.p, s)
			}
		}
	}
}
