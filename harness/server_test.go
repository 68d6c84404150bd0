package harness

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/certs"
)

func testLeaf(t *testing.T, host string) *certs.Leaf {
	t.Helper()
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Mint(certs.Request{DNSNames: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestServerPortInUse(t *testing.T) {
	leaf := testLeaf(t, "a.wsslab.test")
	s, err := NewServer(ServerConfig{Host: "a.wsslab.test", Certificate: leaf.TLSCertificate()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	_, err = NewServer(ServerConfig{Listen: s.Addr, Certificate: leaf.TLSCertificate()})
	if err == nil || !strings.Contains(err.Error(), "address already in use") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("second server on %s: got %v, want one line saying the address is in use", s.Addr, err)
	}
}

func TestServerEchoAndEvidence(t *testing.T) {
	leaf := testLeaf(t, "echo.wsslab.test")
	ep, err := InProcess{}.Start(context.Background(), ServerSpec{Host: "echo.wsslab.test", Leaf: leaf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ep.Close)
	if !strings.HasPrefix(ep.URL, "wss://echo.wsslab.test:") {
		t.Fatalf("URL %s", ep.URL)
	}
	obs := Lax().Dial(t.Context(), Target{URL: ep.URL, Addr: ep.Addr, Message: "hi"})
	if obs.Outcome != Connected || obs.Echo != "hi" {
		t.Fatalf("lax: %+v", obs)
	}
	ev := ep.Evidence()
	if ev.Upgrades != 1 || ev.Echoed != 1 || len(ev.ServerNames) != 1 || ev.ServerNames[0] != "echo.wsslab.test" {
		t.Fatalf("evidence %+v", ev)
	}
	// The strict client has no root for this PKI: unknown authority, and the
	// server records the client's alert.
	other, _ := certs.NewPKI()
	obs = Strict(other.RootPool()).Dial(t.Context(), Target{URL: ep.URL, Addr: ep.Addr, Message: "hi"})
	if obs.Outcome != CertUntrusted {
		t.Fatalf("strict with the wrong root: %+v", obs)
	}
}

func TestServerClosesEverything(t *testing.T) {
	leaf := testLeaf(t, "c.wsslab.test")
	s, err := NewServer(ServerConfig{Host: "c.wsslab.test", Certificate: leaf.TLSCertificate()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	obs := Lax().Dial(t.Context(), Target{URL: s.URL, Addr: s.Addr, Message: "x"})
	if obs.Outcome != Unreachable {
		t.Fatalf("after Close: %+v", obs)
	}
}

func TestSweepStale(t *testing.T) {
	dir := t.TempDir()
	mine, err := MkdirTemp(dir, "browser")
	if err != nil {
		t.Fatal(err)
	}
	// A dir named for a PID that cannot exist (above pid_max) is stale.
	stale := dir + "/wsslab-browser-99999999-123"
	if err := mkdir(stale); err != nil {
		t.Fatal(err)
	}
	removed, err := SweepStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != stale {
		t.Fatalf("removed %v, want only %s", removed, stale)
	}
	if !exists(mine) {
		t.Fatal("the live process's own dir was swept")
	}
}

func mkdir(p string) error { return os.Mkdir(p, 0o700) }

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
