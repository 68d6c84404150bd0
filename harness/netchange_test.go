package harness

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/internal/testenv"
)

// TestNetworkChangeIsRedone makes Chrome see the host's network change in
// the middle of a dial (a veth pair added and removed while the server holds
// the page's login request), which Chrome answers with
// net::ERR_NETWORK_CHANGED for HTTP requests in flight, as it does when
// Docker adds a container's interface. The dial must be redone, not reported
// as the server's 401.
func TestNetworkChangeIsRedone(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	if os.Geteuid() != 0 {
		t.Skip("adding a network interface needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	srv, b := authServerAndBrowser(t, "slow.wsslab.test")
	// A front that holds the first connection for a while before relaying.
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close() })
	held := make(chan struct{}, 1)
	go func() {
		first := true
		for {
			c, err := front.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn, hold bool) {
				defer c.Close()
				if hold {
					held <- struct{}{}
					time.Sleep(1500 * time.Millisecond)
				}
				up, err := net.Dial("tcp", srv.Addr)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}(c, first)
			first = false
		}
	}()
	// A name of this run's own (two runs at once must not collide), deleted
	// even if the test fails.
	veth := fmt.Sprintf("wsnc%x", os.Getpid()&0xffffff)
	t.Cleanup(func() { exec.Command("ip", "link", "del", veth).Run() })
	go func() {
		<-held
		time.Sleep(300 * time.Millisecond)
		// A veth pair coming up with an IPv4 address, like Docker's container
		// interfaces (Chrome ignores a link alone: measured). The address is
		// from TEST-NET-1 (RFC 5737, never routed, not a private range), a
		// /32 without a prefix route: it can reach and shadow nothing.
		run := func(args ...string) {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Logf("ip %v: %v %s", args, err, out)
			}
		}
		run("link", "add", veth, "type", "veth", "peer", "name", veth+"p")
		run("addr", "add", "192.0.2.254/32", "dev", veth, "noprefixroute")
		run("link", "set", veth, "up")
		run("link", "set", veth+"p", "up")
		time.Sleep(300 * time.Millisecond)
		run("link", "del", veth)
	}()
	_, port, _ := net.SplitHostPort(front.Addr().String())
	obs := b.Dial(context.Background(), Target{
		URL:     "wss://slow.wsslab.test:" + port + "/",
		Login:   "https://slow.wsslab.test:" + port + "/login",
		Message: "hi",
	})
	evidence := strings.Join(obs.Evidence, "\n  ")
	if obs.Outcome != Connected {
		t.Fatalf("got %s %s, want connected after the redo\n  %s", obs.Outcome, obs.Reason, evidence)
	}
	if !strings.Contains(evidence, "redone: the host's network changed") {
		t.Fatalf("the interface change did not disturb Chrome; nothing was redone, the test proves nothing:\n  %s", evidence)
	}
	t.Logf("%s after a redo:\n  %s", obs.Outcome, evidence)
}

// TestLoginFailureIsNotRedone: a login fetch that fails for the server's own
// reason (nothing listens on its port) is the observation, never a redo.
func TestLoginFailureIsNotRedone(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	srv, b := authServerAndBrowser(t, "login.wsslab.test")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort, _ := net.SplitHostPort(closed.Addr().String())
	closed.Close()
	obs := b.Dial(t.Context(), Target{URL: srv.URL, Login: "https://login.wsslab.test:" + closedPort + "/login", Message: "hi"})
	evidence := strings.Join(obs.Evidence, "\n  ")
	if strings.Contains(evidence, "redone") {
		t.Fatalf("a refused login fetch was redone as a network change:\n  %s", evidence)
	}
	if !strings.Contains(evidence, "net::ERR_CONNECTION_REFUSED") {
		t.Errorf("the login fetch's own net error is not in the evidence:\n  %s", evidence)
	}
	if obs.Outcome == Connected {
		t.Errorf("connected without the login's cookie: %+v", obs)
	}
}

// authServerAndBrowser starts an echo server for host that wants the login
// cookie, and a browser trusting its root (page on app.wsslab.test).
func authServerAndBrowser(t *testing.T, host string) (*Server, *Browser) {
	t.Helper()
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := pki.Mint(certs.Request{DNSNames: []string{host}})
	page, _ := pki.Mint(certs.Request{DNSNames: []string{"app.wsslab.test"}})
	srv, err := NewServer(ServerConfig{Host: host, Certificate: leaf.TLSCertificate(),
		Options: ServerOptions{RequireAuth: true, AuthToken: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	b, err := StartBrowser(t.Context(), BrowserConfig{
		Roots: []*x509.Certificate{pki.Root.Cert}, PageHost: "app.wsslab.test", PageCert: page.TLSCertificate(),
		TempDir: MkdirTempFor(t, "test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return srv, b
}
