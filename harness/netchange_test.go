package harness

import (
	"context"
	"crypto/x509"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
)

// TestNetworkChangeIsRedone makes Chrome see the host's network change in
// the middle of a dial (a veth pair added and removed while the server holds
// the page's login request), which Chrome answers with
// net::ERR_NETWORK_CHANGED for HTTP requests in flight, as it does when
// Docker adds a container's interface. The dial must be redone, not reported
// as the server's 401.
func TestNetworkChangeIsRedone(t *testing.T) {
	if err := CheckBrowserTools(); err != nil {
		if !RequireBrowser() {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("adding a network interface needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := pki.Mint(certs.Request{DNSNames: []string{"slow.wsslab.test"}})
	page, _ := pki.Mint(certs.Request{DNSNames: []string{"app.wsslab.test"}})
	srv, err := NewServer(ServerConfig{Host: "slow.wsslab.test", Certificate: leaf.TLSCertificate(),
		Options: ServerOptions{RequireAuth: true, AuthToken: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
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
	b, err := StartBrowser(t.Context(), BrowserConfig{
		Roots: []*x509.Certificate{pki.Root.Cert}, PageHost: "app.wsslab.test", PageCert: page.TLSCertificate(),
		TempDir: MkdirTempFor(t, "test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	t.Cleanup(func() { exec.Command("ip", "link", "del", "wsslabnc0").Run() })
	go func() {
		<-held
		time.Sleep(300 * time.Millisecond)
		// A veth pair with an address, like Docker's container interfaces.
		run := func(args ...string) {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Logf("ip %v: %v %s", args, err, out)
			}
		}
		run("link", "add", "wsslabnc0", "type", "veth", "peer", "name", "wsslabnc1")
		run("addr", "add", "10.254.254.1/30", "dev", "wsslabnc0")
		run("link", "set", "wsslabnc0", "up")
		run("link", "set", "wsslabnc1", "up")
		time.Sleep(300 * time.Millisecond)
		run("link", "del", "wsslabnc0")
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
		t.Skipf("the interface change did not disturb Chrome on this machine; nothing was redone:\n  %s", evidence)
	}
	t.Logf("%s after a redo:\n  %s", obs.Outcome, evidence)
}
