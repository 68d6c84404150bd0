package harness

import (
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/internal/testenv"
)

// TestBatchSameURLTwice dials one URL twice in one batch, through a front
// that sends the first connection to a server that rejects it (Origin check,
// 403) and the second to one that accepts: each observation must carry its
// own socket's evidence, not the other's. (DevTools' events name the URL,
// which both sockets share; they are matched by the order the page created
// its sockets.)
func TestBatchSameURLTwice(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := pki.Mint(certs.Request{DNSNames: []string{"dup.wsslab.test"}})
	page, _ := pki.Mint(certs.Request{DNSNames: []string{"app.wsslab.test"}})
	var backs [2]*Server
	for i, opts := range []ServerOptions{{SameOrigin: true}, {}} {
		s, err := NewServer(ServerConfig{Host: "dup.wsslab.test", Certificate: leaf.TLSCertificate(), Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		backs[i] = s
	}
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := front.Accept()
			if err != nil {
				return
			}
			back := backs[(n.Add(1)-1)%2]
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", back.Addr)
				if err != nil {
					return
				}
				defer b.Close()
				go io.Copy(b, c)
				io.Copy(c, b)
			}()
		}
	}()
	b, err := StartBrowser(t.Context(), BrowserConfig{
		Roots: []*x509.Certificate{pki.Root.Cert}, PageHost: "app.wsslab.test", PageCert: page.TLSCertificate(),
		TempDir: t.TempDir(),
		// One socket at a time: the first created is the first to connect.
		Parallel: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	u := url.URL{Scheme: "wss", Host: net.JoinHostPort("dup.wsslab.test", portOf(front.Addr())), Path: "/"}
	for round := range 3 {
		n.Store(0)
		target := Target{URL: u.String(), Message: "hi"}
		obs := b.DialAll(context.Background(), []Target{target, target})
		want := []struct {
			outcome Outcome
			reason  string
		}{{HandshakeRejected, "Unexpected response code: 403"}, {Connected, ""}}
		for i, o := range obs {
			if o.Outcome != want[i].outcome || o.Reason != want[i].reason {
				t.Errorf("round %d, dial %d: got %s %q, want %s %q\n  %s", round, i, o.Outcome, o.Reason, want[i].outcome, want[i].reason, strings.Join(o.Evidence, "\n  "))
			}
			if c := strings.Count(strings.Join(o.Evidence, "\n"), "Network.webSocketCreated"); c != 1 {
				t.Errorf("round %d, dial %d: evidence of %d sockets, want its own one", round, i, c)
			}
		}
		// The rejected socket's 403 (not "403" anywhere: the loopback port
		// may contain it).
		if strings.Contains(strings.Join(obs[1].Evidence, "\n"), "response code: 403") {
			t.Errorf("round %d: the accepted dial carries the rejected one's evidence:\n  %s", round, strings.Join(obs[1].Evidence, "\n  "))
		}
	}
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// TestBatchWarmUp: a batch of mostly failing dials makes the page open
// warm-up sockets (WarmPath) against Chrome's WebSocket throttle; they must
// not be anybody's observation: every dial keeps its own socket's reason and
// evidence, in order.
func TestBatchWarmUp(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	page, _ := pki.Mint(certs.Request{DNSNames: []string{"app.wsslab.test"}})
	good, _ := pki.Mint(certs.Request{DNSNames: []string{"good.wsslab.test"}})
	bad, _ := other.Mint(certs.Request{DNSNames: []string{"bad.wsslab.test"}})
	var targets []Target
	want := map[int]bool{} // dial → connects
	for i := range 14 {
		host, leaf := "bad.wsslab.test", bad
		// Failures first, so two warm-ups happen whatever the timing: a
		// worker starting dial k has at least k-1 finished (two in flight),
		// so dial 5 starts after 4 failures and dial 9 after 8 (the first
		// warm-up being the one success by then).
		if i >= 12 {
			host, leaf = "good.wsslab.test", good
		}
		s, err := NewServer(ServerConfig{Host: host, Certificate: leaf.TLSCertificate()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		targets = append(targets, Target{URL: s.URL, Addr: s.Addr, Message: "hi"})
		want[i] = host == "good.wsslab.test"
	}
	b, err := StartBrowser(t.Context(), BrowserConfig{
		Roots: []*x509.Certificate{pki.Root.Cert}, PageHost: "app.wsslab.test", PageCert: page.TLSCertificate(),
		TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	before := warmSockets.Load()
	obs := b.DialAll(context.Background(), targets)
	if n := warmSockets.Load() - before; n < 2 {
		t.Errorf("%d warm-up sockets for 12 failing dials, want at least 2 (one each time failures reach 4 × (successes + 1))", n)
	}
	for i, o := range obs {
		ev := strings.Join(o.Evidence, "\n")
		switch {
		case want[i] && o.Outcome != Connected:
			t.Errorf("dial %d: %s %q, want connected\n  %s", i, o.Outcome, o.Reason, strings.Join(o.Evidence, "\n  "))
		case !want[i] && o.Reason != "net::ERR_CERT_AUTHORITY_INVALID":
			t.Errorf("dial %d: %s %q, want net::ERR_CERT_AUTHORITY_INVALID\n  %s", i, o.Outcome, o.Reason, strings.Join(o.Evidence, "\n  "))
		}
		if c := strings.Count(ev, "Network.webSocketCreated"); c != 1 || !strings.Contains(ev, "Network.webSocketCreated "+targets[i].URL) {
			t.Errorf("dial %d: evidence of %d sockets, want its own one (%s)\n  %s", i, c, targets[i].URL, strings.Join(o.Evidence, "\n  "))
		}
		if strings.Contains(ev, WarmPath) {
			t.Errorf("dial %d: a warm-up socket in its evidence:\n  %s", i, strings.Join(o.Evidence, "\n  "))
		}
	}
}
