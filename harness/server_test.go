package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/internal/owner"
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
	// A dir whose owner record names a dead process of this namespace is stale.
	stale := ownedBy(t, dir, "browser", exitedOwner(t))
	// One whose owner lives in another PID namespace cannot be judged: kept.
	foreign := exitedOwner(t)
	foreign.PIDNS = "pid:[1]"
	elsewhere := ownedBy(t, dir, "container", foreign)
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
	if !exists(elsewhere) {
		t.Fatal("a dir of an owner in another PID namespace was swept")
	}
}

// TestSweepSparesWhatIsNotOurs is issue 10's data loss: dirs named like
// wsslab's but made by someone else, and a process using them, survive.
func TestSweepSparesWhatIsNotOurs(t *testing.T) {
	dir := t.TempDir()
	review := filepath.Join(dir, "wsslab-pr-4711-review")
	results := filepath.Join(dir, "wsslab-results-20241201-final")
	oldStyle := filepath.Join(dir, "wsslab-browser-99999999-123") // a dead PID in the old naming
	for _, d := range []string{filepath.Join(review, "src"), results, oldStyle} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	notes := filepath.Join(results, "notes.txt")
	if err := os.WriteFile(notes, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A forged-looking record that is not a regular file proves nothing.
	if err := os.Symlink("/etc/hostname", filepath.Join(oldStyle, owner.Marker)); err != nil {
		t.Fatal(err)
	}
	tail := exec.Command("tail", "-f", notes)
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tail.Process.Kill(); tail.Wait() })
	// And a wsslab dir of a dead run that this user's tail also reads: the
	// dir goes, the user's process (not recorded by any run) does not.
	ours := ownedBy(t, dir, "browser", exitedOwner(t))
	tail2 := exec.Command("tail", "-f", filepath.Join(ours, owner.Marker))
	if err := tail2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tail2.Process.Kill(); tail2.Wait() })
	if len(ProcessesUsing(ours)) == 0 || len(ProcessesUsing(results)) == 0 {
		t.Fatal("the tails are not seen using the dirs: the test would prove nothing")
	}
	removed, err := SweepStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != ours {
		t.Fatalf("removed %v, want only %s", removed, ours)
	}
	for _, p := range []string{filepath.Join(review, "src"), notes, oldStyle} {
		if !exists(p) {
			t.Errorf("%s was removed", p)
		}
	}
	for _, p := range []*exec.Cmd{tail, tail2} {
		if !ProcessAlive(p.Process.Pid) {
			t.Errorf("%v was killed", p.Args)
		}
	}
}

// TestKillTrackedKillsOnlyItsGroup: a tracked process group using the dir
// dies; another process naming the dir does not.
func TestKillTrackedKillsOnlyItsGroup(t *testing.T) {
	dir, err := MkdirTemp(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		// sh's command line names dir (it waits for sleep, in its group).
		// Each is a group of its own so that cleanup kills its sleep too
		// (killing only the shell left "sleep 300" behind).
		cmd := exec.Command("sh", "-c", "sleep 300; : "+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		return cmd
	}
	ours := start()
	start() // not tracked: must survive
	if err := TrackProcess(dir, ours.Process.Pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(ProcessesUsing(dir)) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(ProcessesUsing(dir)); n < 2 {
		t.Fatalf("%d processes use the dir, want 2 shells", n)
	}
	KillTracked(dir)
	left := ProcessesUsing(dir)
	if len(left) != 1 {
		t.Fatalf("left using the dir: %v, want only the untracked shell", left)
	}
	if pg, _ := syscall.Getpgid(left[0]); pg == ours.Process.Pid {
		t.Fatal("the tracked group's shell survived")
	}
}

// exitedOwner is this process's identity with the PID of a process that
// has exited: a dead owner of this namespace.
func exitedOwner(t *testing.T) owner.ID {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := owner.Self()
	id.PID = cmd.Process.Pid
	cmd.Wait()
	if !id.Dead() {
		t.Fatalf("%+v is not dead", id)
	}
	return id
}

// ownedBy makes a wsslab temp dir in parent as if id had made it.
func ownedBy(t *testing.T, parent, kind string, id owner.ID) string {
	t.Helper()
	d, err := os.MkdirTemp(parent, tempPrefix+kind+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, owner.Marker), []byte(id.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

func mkdir(p string) error { return os.Mkdir(p, 0o700) }

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
