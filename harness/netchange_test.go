package harness

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
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
//
// The test runs itself again in a network namespace of its own (the
// server, Chrome and the veth pair all live there), so the host's
// interfaces are never touched and a killed run leaves no interface behind:
// the kernel destroys a namespace's veth pairs with the namespace.
func TestNetworkChangeIsRedone(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root", errors.New("adding a network interface in a namespace of its own needs root"))
	}
	if _, err := exec.LookPath("ip"); err != nil {
		testenv.Missing(t, "ip", errors.New("needs ip: apt-get install -y iproute2"))
	}
	if os.Getenv(netnsChild) == "" {
		inOwnNetns(t, "")
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v %s", err, out)
	}
	srv, b := authServerAndBrowser(t, "slow.wsslab.test", 0)
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
		fmt.Println(vethUp)
		if os.Getenv(netnsChild) == "hold" {
			time.Sleep(time.Minute) // until the parent kills this run
		}
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

const (
	// netnsChild is set in the run of TestNetworkChangeIsRedone inside its
	// own network namespace: "1" runs it, "hold" stops once the veth is up
	// (to be killed there).
	netnsChild = "WSSLAB_NETNS_CHILD"
	vethUp     = "wsslab-netns: veth up"
)

// inOwnNetns runs TestNetworkChangeIsRedone again in a new network
// namespace and fails unless it passed there. With hold, it SIGKILLs the
// run once its veth is up and its Chrome is dialing, and returns.
func inOwnNetns(t *testing.T, hold string) {
	t.Helper()
	mode := "1"
	if hold != "" {
		mode = "hold"
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNetworkChangeIsRedone$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), netnsChild+"="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNET, Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		testenv.Missing(t, "root", fmt.Errorf("a new network namespace: %v", err))
	}
	// The group is killed however the test ends (Chrome included).
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	var log strings.Builder
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if hold != "" && strings.Contains(sc.Text(), vethUp) && !killed {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			killed = true
		}
	}
	err = cmd.Wait()
	switch {
	case hold != "" && !killed:
		t.Fatalf("the run in its own namespace never brought its veth up:\n%s", log.String())
	case hold == "" && (err != nil || !strings.Contains(log.String(), "--- PASS: TestNetworkChangeIsRedone")):
		t.Fatalf("in its own network namespace: %v\n%s", err, log.String())
	case hold == "":
		t.Logf("in its own network namespace:\n%s", log.String())
	}
}

// TestNetworkChangeKilledLeavesNoInterface kills the network-change test
// while its veth pair is up: no interface of it is left on the host (it never
// was on the host), and nothing of the run is left running.
func TestNetworkChangeKilledLeavesNoInterface(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	if os.Getenv(netnsChild) != "" {
		t.Skip("runs in the parent only")
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root", errors.New("adding a network interface in a namespace of its own needs root"))
	}
	before := hostLinks(t) // network-change test interfaces already there
	inOwnNetns(t, "hold")
	// Its temp dirs are the sweep's, as after any killed run.
	if _, err := SweepStale(""); err != nil {
		t.Error(err)
	}
	if after := hostLinks(t); after != before {
		t.Errorf("the host's interfaces changed:\nbefore %s\nafter  %s", before, after)
	}
}

func hostLinks(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		testenv.Missing(t, "ip", fmt.Errorf("ip link show: %v: apt-get install -y iproute2", err))
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		// Only this test's kind of interface: Docker adds and removes its
		// own veths meanwhile (the container tests run in parallel).
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], "wsnc") {
			names = append(names, f[1])
		}
	}
	return strings.Join(names, " ")
}

// TestLoginFailureIsNotRedone: a login fetch that fails for the server's own
// reason (nothing listens on its port) is the observation, never a redo.
func TestLoginFailureIsNotRedone(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	srv, b := authServerAndBrowser(t, "login.wsslab.test", 0)
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

// TestLoginThatHangsIsBounded: a login endpoint that accepts and never
// answers is cut at the dial's timeout, and the socket is still dialed: the
// batch does not hang on it (before: "browser failed" after 25 s).
func TestLoginThatHangsIsBounded(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	srv, b := authServerAndBrowser(t, "hang.wsslab.test", 600*time.Millisecond)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	// Other packages' containers change the host's interfaces meanwhile
	// (net::ERR_NETWORK_CHANGED aborts the login's wait, and DialAll's own
	// redos can be disturbed too; seen every few seconds while the
	// container tests run): such a dial is the machine's, and is made
	// again. The short timeout keeps the window small.
	var obs Observation
	var evidence string
	for attempt := 0; attempt < 12; attempt++ {
		obs = b.Dial(t.Context(), Target{URL: srv.URL, Login: "https://hang.wsslab.test:" + portOf(silent.Addr()) + "/login", Message: "hi"})
		evidence = strings.Join(obs.Evidence, "\n  ")
		if !strings.Contains(evidence, netErrNetworkChanged) {
			break
		}
	}
	if !strings.Contains(evidence, "page: login fetch failed: TimeoutError") {
		t.Errorf("want the login fetch cut at the timeout (TimeoutError); %s %q\n  %s", obs.Outcome, obs.Reason, evidence)
	}
	if !strings.Contains(evidence, "Network.webSocketCreated "+srv.URL) {
		t.Errorf("the socket was not dialed after the login timed out:\n  %s", evidence)
	}
	if obs.Outcome == Connected {
		t.Errorf("connected without the login's cookie: %+v", obs)
	}
}

// authServerAndBrowser starts an echo server for host that wants the login
// cookie, and a browser trusting its root (page on app.wsslab.test) whose
// dials time out after timeout (0: the default).
func authServerAndBrowser(t *testing.T, host string, timeout time.Duration) (*Server, *Browser) {
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
		TempDir: MkdirTempFor(t, "test"), Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return srv, b
}
