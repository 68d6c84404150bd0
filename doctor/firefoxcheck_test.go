package doctor

import (
	"strings"
	"testing"
)

// TestFirefoxSkip: Firefox dials only where it reaches what Chrome does:
// every --resolve entry on 127.0.0.1, and the URL's host on loopback.
func TestFirefoxSkip(t *testing.T) {
	r := func(host string, port int, addr string) Resolve { return Resolve{Host: host, Port: port, Addr: addr} }
	for _, c := range []struct {
		url     string
		resolve []Resolve
		skip    string // "" runs Firefox
	}{
		{"wss://127.0.0.1:9444/", nil, ""},
		{"wss://[::1]:9444/", nil, ""},
		{"wss://localhost:9444/", nil, ""},
		{"wss://ok.wsslab.test:9444/", []Resolve{r("ok.wsslab.test", 9444, "127.0.0.1")}, ""},
		{"wss://ok.wsslab.test:9444/", []Resolve{r("ok.wsslab.test", 9444, "127.0.0.1"), r("aia.wsslab.test", 80, "127.0.0.1")}, ""},
		{"wss://ok.wsslab.test:9444/", []Resolve{r("ok.wsslab.test", 9444, "127.0.0.2")}, "--resolve ok.wsslab.test:9444:127.0.0.2 maps to 127.0.0.2"},
		{"wss://ok.wsslab.test:9444/", []Resolve{r("ok.wsslab.test", 9444, "127.0.0.1"), r("aia.wsslab.test", 80, "10.0.0.5")}, "--resolve aia.wsslab.test:80:10.0.0.5 maps to 10.0.0.5"},
		{"wss://ok.wsslab.test:9444/", []Resolve{r("ok.wsslab.test", 9444, "::1")}, "maps to ::1"},
		{"wss://10.0.0.5:9444/", nil, "10.0.0.5 is not a loopback address"},
		// .invalid never resolves (RFC 6761).
		{"wss://nothing.invalid:9444/", nil, "cannot resolve nothing.invalid"},
	} {
		got := FirefoxSkip(t.Context(), c.url, c.resolve)
		if (c.skip == "") != (got == "") || !strings.Contains(got, c.skip) {
			t.Errorf("FirefoxSkip(%s, %v) = %q, want %q", c.url, c.resolve, got, c.skip)
		}
	}
}

// TestFirefoxPageOrigin: Firefox's page is at --origin unless that origin
// is no page origin or its port is the endpoint's.
func TestFirefoxPageOrigin(t *testing.T) {
	for _, c := range []struct {
		origin, url, want, why string
	}{
		{"https://app.example.com", "wss://ok.wsslab.test:9444/", "https://app.example.com", ""},
		{"https://Front.wsslab.test:8443", "wss://ok.wsslab.test:9444/", "https://front.wsslab.test:8443", ""},
		{"https://app.example.com", "wss://ok.wsslab.test/", "", "endpoint's port 443"},
		{"https://front.wsslab.test:9444", "wss://ok.wsslab.test:9444/", "", "endpoint's port 9444"},
		{"http://front.wsslab.test", "wss://ok.wsslab.test:9444/", "", ""},
		{"null", "wss://ok.wsslab.test:9444/", "", ""},
	} {
		got, why := FirefoxPageOrigin(c.origin, c.url)
		if got != c.want || (c.why == "") != (why == "") || !strings.Contains(why, c.why) {
			t.Errorf("FirefoxPageOrigin(%s, %s) = %q, %q; want %q, %q", c.origin, c.url, got, why, c.want, c.why)
		}
	}
}
