package scenarios

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/owner"
	"github.com/wsslab/wsslab/internal/testenv"
)

// leakChildEnv makes the test binary act as a wsslab run that can be
// interrupted: see TestMain's caller, leakChild.
const leakChildEnv = "WSSLAB_LEAK_CHILD_DIR"

func init() {
	if dir := os.Getenv(leakChildEnv); dir != "" {
		os.Exit(leakChild(dir, func(ctx context.Context, l *Lab) (harness.Client, error) { return l.Browser(ctx) }))
	}
}

// leakChild starts a lab and its browser (start) in dir, dials the table
// once, says READY (with the browser's pid when it has one) and waits for
// SIGINT, then cleans up like `wsslab run` does.
func leakChild(dir string, start func(context.Context, *Lab) (harness.Client, error)) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	l, err := NewLab()
	if err != nil {
		fmt.Println("ERROR", err)
		return 2
	}
	l.TempDir = dir
	defer l.Close()
	b, err := start(ctx, l)
	if err != nil {
		fmt.Println("ERROR", err)
		return 2
	}
	ins, err := l.StartAll(ctx, Table)
	if err != nil {
		fmt.Println("ERROR", err)
		return 2
	}
	defer CloseAll(ins)
	DialAll(ctx, ins, b)
	if p, ok := b.(interface{ Pid() int }); ok {
		fmt.Println("READY", p.Pid())
	} else {
		fmt.Println("READY")
	}
	<-ctx.Done()
	return 0
}

// entries lists what is left in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if e.Name() != owner.Marker { // the test dir's own owner record
			names = append(names, e.Name())
		}
	}
	return names
}

// TestNoLeaks runs the full matrix with its own lab and checks that nothing
// survives Close: no Chromium process, no temp dir, no listening server.
func TestNoLeaks(t *testing.T) {
	dir := harness.MkdirTempFor(t, "test")
	l, err := NewLab()
	if err != nil {
		t.Fatal(err)
	}
	l.TempDir = dir
	t.Cleanup(l.Close)
	b := browserFromLab(t, l)
	ins, err := l.StartAll(t.Context(), Table)
	if err != nil {
		CloseAll(ins)
		t.Fatal(err)
	}
	DialAll(t.Context(), ins, b)
	if len(harness.ProcessesUsing(dir)) == 0 {
		t.Fatal("no Chromium process uses the lab's temp dir while it runs: the leak check would prove nothing")
	}
	singleton := singletonDir(t, dir)
	CloseAll(ins)
	l.Close()
	if _, err := os.Stat(singleton); err == nil {
		t.Errorf("Chromium's singleton dir %s left after Close", singleton)
	}
	if pids := harness.ProcessesUsing(dir); len(pids) > 0 {
		t.Errorf("Chromium processes left after Close: %v", pids)
	}
	if left := entries(t, dir); len(left) > 0 {
		t.Errorf("temp files left after Close: %v", left)
	}
	for _, in := range ins {
		if c, err := net.DialTimeout("tcp", in.Endpoint.Addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s: server %s still accepts connections after Close", in.Scenario.ID, in.Endpoint.Addr)
		}
	}
}

func browserFromLab(t *testing.T, l *Lab) *harness.Browser {
	t.Helper()
	b, err := l.Browser(t.Context())
	if err != nil {
		if harness.CheckBrowserTools() != nil {
			testenv.Missing(t, "browser", err)
		}
		t.Fatal(err)
	}
	return b
}

// TestInterruptedRun interrupts a run (SIGINT, as Ctrl-C does) and kills one
// (SIGKILL, as go test -timeout's exit does to a browser's parent), then
// checks that nothing is left running and that the next run's sweep removes
// what a killed run could not.
func TestInterruptedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two browsers in child processes")
	}
	testenv.Need(t, "browser", harness.CheckBrowserTools())
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := harness.MkdirTempFor(t, "test")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), leakChildEnv+"="+dir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			line, err := bufio.NewReader(out).ReadString('\n')
			if strings.TrimSpace(line) != "READY" {
				t.Fatalf("child did not get ready: %q %v", line, err)
			}
			if len(harness.ProcessesUsing(dir)) == 0 {
				t.Fatal("child's Chromium not found: the check would prove nothing")
			}
			singleton := singletonDir(t, dir)
			cmd.Process.Signal(sig)
			cmd.Wait()
			// After SIGKILL, Chromium dies with its parent (PDEATHSIG) but the
			// temp dir stays: the next run's sweep removes it.
			waitGone(t, dir)
			if sig == syscall.SIGKILL {
				if left := entries(t, dir); len(left) == 0 {
					t.Fatal("the killed child left no temp dir: the sweep check would prove nothing")
				}
				if _, err := harness.SweepStale(dir); err != nil {
					t.Fatal(err)
				}
			}
			if left := entries(t, dir); len(left) > 0 {
				t.Errorf("left after %s: %v", sig, left)
			}
			if pids := harness.ProcessesUsing(dir); len(pids) > 0 {
				t.Errorf("processes left after %s: %v", sig, pids)
			}
			if _, err := os.Stat(singleton); err == nil {
				t.Errorf("Chromium's singleton dir %s left after %s", singleton, sig)
			}
		})
	}
}

// waitGone waits (bounded) for processes using dir to exit on their own.
func waitGone(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(harness.ProcessesUsing(dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// singletonDir finds the $TMPDIR/org.chromium.Chromium.* dir of the one
// browser running under dir (its profile links to it), which lies outside dir.
func singletonDir(t *testing.T, dir string) string {
	t.Helper()
	links, _ := filepath.Glob(filepath.Join(dir, "wsslab-browser-*", "profile", "SingletonSocket"))
	if len(links) != 1 {
		t.Fatalf("want one browser profile under %s, found %v", dir, links)
	}
	target, err := os.Readlink(links[0])
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(target)
}
