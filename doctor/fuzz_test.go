package doctor

import (
	"bytes"
	"crypto/x509"
	"testing"
	"time"
)

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"wss://ws.example.com/", "wss://[::1]:9000/x?y", "ws://localhost:80", "https://bücher.example/", "wss://a:0", "wss://%zz/", "wss://a@b/", "wss://1.2.3.4.5/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseURL(s)
		if err != nil {
			if bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if tg.Port < 1 || tg.Port > 65535 || tg.Host == "" {
			t.Fatalf("bad target from %q: %+v", s, tg)
		}
		// The canonical URL parses to the same target.
		again, err := ParseURL(tg.URL)
		if err != nil || again.Host != tg.Host || again.Port != tg.Port {
			t.Fatalf("%q -> %q -> %+v, %v", s, tg.URL, again, err)
		}
	})
}

func FuzzParseResolve(f *testing.F) {
	for _, s := range []string{"a.test:443:127.0.0.1", "a:1:[::1]", "a:1:::1", "::::", "a:99999:1.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResolve(s)
		if err != nil {
			if bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if r.Port < 1 || r.Port > 65535 || r.Host == "" || r.Addr == "" {
			t.Fatalf("bad resolve from %q: %+v", s, r)
		}
	})
}

// FuzzAnalyzeChain feeds arbitrary DER (split on a separator) as the
// served chain: analysis must never panic or hang, and always say
// something about a chain it rejects.
func FuzzAnalyzeChain(f *testing.F) {
	p := newProbePKI(f)
	leaf := leafUnder(f, p.inter, spec{}, "a.example.com")
	sep := []byte("\x00SEP\x00")
	join := func(certs ...[]byte) []byte { return bytes.Join(certs, sep) }
	f.Add(join(leaf.cert.Raw, p.inter.cert.Raw), "a.example.com")
	f.Add(join(leaf.cert.Raw), "a.example.com")
	f.Add(join(p.inter.cert.Raw, leaf.cert.Raw, p.root.cert.Raw), "127.0.0.1")
	f.Add(join(p.anchorLeaf.cert.Raw), "anchor-leaf.wsslab.test")
	f.Add([]byte{0x30, 0x82, 0x01}, "x")
	roots := []*x509.Certificate{p.root.cert, p.anchorLeaf.cert}
	f.Fuzz(func(t *testing.T, data []byte, host string) {
		served := bytes.Split(data, sep)
		h, _, err := CanonicalHost(host)
		if err != nil {
			h = "a.example.com"
		}
		start := time.Now()
		r := AnalyzeChain(ChainInput{Host: h, Served: served, Trust: NewTrust(nil, roots), Now: time.Now()})
		// A guard against runaway path building, not a speed check.
		if time.Since(start) > 10*time.Second {
			t.Fatalf("took %s", time.Since(start))
		}
		if r.NetError != "" {
			hasError := false
			for _, fd := range r.Findings {
				hasError = hasError || fd.Severity == Error
			}
			if !hasError {
				t.Fatalf("%s without an ERROR finding: %+v", r.NetError, r.Findings)
			}
		}
	})
}
