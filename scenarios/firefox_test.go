package scenarios

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// firefoxFor returns the shared Firefox, or skips (fails under CI) with the
// command that installs what is missing.
func firefoxFor(t *testing.T) *harness.Firefox {
	t.Helper()
	f, err := lab.Firefox(t.Context())
	if err != nil {
		if errors.Is(err, harness.ErrNoFirefox) {
			testenv.Missing(t, "firefox", err)
		}
		t.Fatalf("firefox: %v", err)
	}
	return f
}

// firefoxLeakChildEnv makes the test binary act as a wsslab run with
// Firefox that can be interrupted (see TestFirefoxInterruptedRun).
const firefoxLeakChildEnv = "WSSLAB_FIREFOX_LEAK_CHILD_DIR"

func init() {
	if dir := os.Getenv(firefoxLeakChildEnv); dir != "" {
		// leakChild prints READY and Firefox's pid.
		os.Exit(leakChild(dir, func(ctx context.Context, l *Lab) (harness.Client, error) { return l.Firefox(ctx) }))
	}
}

// group lists the live processes of process group pgid.
func group(pgid int) []int {
	es, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range es {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid && harness.ProcessAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestFirefoxNoLeaks: Firefox (all its processes: one group) and its temp
// dir are gone after Close, and while it ran it wrote nothing outside that
// dir: its HOME, TMPDIR and XDG dirs are inside.
func TestFirefoxNoLeaks(t *testing.T) {
	dir := harness.MkdirTempFor(t, "test")
	l, err := NewLab()
	if err != nil {
		t.Fatal(err)
	}
	l.TempDir = dir
	t.Cleanup(l.Close)
	f, err := l.Firefox(t.Context())
	if err != nil {
		if harness.CheckFirefoxTools() != nil {
			testenv.Missing(t, "firefox", err)
		}
		t.Fatal(err)
	}
	ins, err := l.StartAll(t.Context(), Table)
	t.Cleanup(func() { CloseAll(ins) })
	if err != nil {
		t.Fatal(err)
	}
	DialAll(t.Context(), ins, f)
	pgid := f.Pid()
	procs := group(pgid)
	if len(procs) < 2 {
		t.Fatalf("Firefox's group %d has %d processes: the leak check would prove nothing", pgid, len(procs))
	}
	// Every one of them is found by the sweep's own test (its group
	// recorded, its command line or environment naming the run's dir), so a
	// killed run's are too.
	using := map[int]bool{}
	for _, p := range harness.TrackedProcesses(f.Dir()) {
		using[p] = true
	}
	for _, p := range procs {
		if !using[p] {
			t.Errorf("Firefox process %d does not show it uses %s: a sweep would miss it", p, f.Dir())
		}
	}
	for _, sub := range []string{"home", "tmp", "xdg/cache", "xdg/config"} {
		if _, err := os.Stat(filepath.Join(f.Dir(), sub)); err != nil {
			t.Errorf("%s: %v", sub, err)
		}
	}
	CloseAll(ins)
	l.Close()
	if left := group(pgid); len(left) > 0 {
		t.Errorf("Firefox processes left after Close: %v", left)
	}
	if left := entries(t, dir); len(left) > 0 {
		t.Errorf("temp files left after Close: %v", left)
	}
}

// TestFirefoxInterruptedRun interrupts a run with Firefox (SIGINT) and
// kills one (SIGKILL): nothing of Firefox keeps running, and the next run's
// sweep removes what the killed run left.
func TestFirefoxInterruptedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Firefox twice in child processes")
	}
	testenv.Need(t, "firefox", harness.CheckFirefoxTools())
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := harness.MkdirTempFor(t, "test")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), firefoxLeakChildEnv+"="+dir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			line, err := bufio.NewReader(out).ReadString('\n')
			ready, pidText, _ := strings.Cut(strings.TrimSpace(line), " ")
			pgid, _ := strconv.Atoi(pidText)
			if ready != "READY" || pgid <= 1 {
				t.Fatalf("child did not get ready: %q %v", line, err)
			}
			if len(group(pgid)) < 2 {
				t.Fatal("child's Firefox not found: the check would prove nothing")
			}
			cmd.Process.Signal(sig)
			cmd.Wait()
			if sig == syscall.SIGKILL {
				if left := entries(t, dir); len(left) == 0 {
					t.Fatal("the killed child left no temp dir: the sweep check would prove nothing")
				}
				// Firefox's main process dies with its parent (Pdeathsig);
				// the sweep kills whatever of its group is left.
				if _, err := harness.SweepStale(dir); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(group(pgid)) > 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if left := group(pgid); len(left) > 0 {
				t.Errorf("Firefox processes left after %s: %v", sig, left)
			}
			if left := entries(t, dir); len(left) > 0 {
				t.Errorf("left after %s: %v", sig, left)
			}
		})
	}
}
