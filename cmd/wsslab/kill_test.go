package main

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// TestKilledCommandsLeaveNothing is issue 10's "done when": each command
// killed with SIGKILL, then a new run, leaves nothing of wsslab's behind
// and deletes nothing else — a user's decoy wsslab-* dir, and the process
// reading a file in it, survive.
func TestKilledCommandsLeaveNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts browsers in child processes")
	}
	needBrowser(t)
	srv := httptest.NewTLSServer(nil)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		args []string
		// browser: the command is killed once a browser uses TMPDIR;
		// otherwise once it made its own temp dir.
		browser bool
	}{
		{"run", []string{"run", "--scenario", "valid-fullchain,self-signed", "--quiet"}, true},
		{"serve", []string{"serve", "--base-port", "0"}, false},
		{"doctor-browser", []string{"doctor", "--browser", "--timeout", "20s", "wss://" + srv.Listener.Addr().String() + "/"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp, err := os.MkdirTemp("", "killtest-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })
			decoy := filepath.Join(tmp, "wsslab-pr-4711-review", "src")
			if err := os.MkdirAll(decoy, 0o700); err != nil {
				t.Fatal(err)
			}
			notes := filepath.Join(decoy, "notes.txt")
			if err := os.WriteFile(notes, []byte("keep\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			tail := exec.Command("tail", "-f", notes)
			if err := tail.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tail.Process.Kill(); tail.Wait() })
			env := append(os.Environ(), "TMPDIR="+tmp)

			cmd := wsslab(t.Context(), tc.args...)
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			started := func() bool {
				if tc.browser {
					// A browser recorded in a temp dir of the run's (its
					// process group, for the sweep): it runs. (Not
					// ProcessesUsing: the command itself names TMPDIR.)
					for _, pat := range []string{"wsslab-*/.wsslab-procs", "wsslab-*/*/.wsslab-procs"} {
						if m, _ := filepath.Glob(filepath.Join(tmp, pat)); len(m) > 0 {
							return true
						}
					}
					return false
				}
				m, _ := filepath.Glob(filepath.Join(tmp, "wsslab-serve-*", "root.pem"))
				return len(m) > 0
			}
			deadline := time.Now().Add(time.Minute)
			for !started() && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !started() {
				t.Fatalf("wsslab %s did not get going: the kill would prove nothing", tc.name)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if left := wsslabEntries(t, tmp); len(left) == 0 && tc.name != "doctor-browser" {
				t.Fatalf("the killed %s left nothing: the sweep check would prove nothing", tc.name)
			}

			next := wsslab(t.Context(), "run", "--scenario", "valid-fullchain", "--quiet")
			next.Env = append(env, "WSSLAB_TEST_EXEC=1")
			if out, err := next.CombinedOutput(); err != nil {
				t.Fatalf("next run: %v\n%s", err, out)
			}
			if left := wsslabEntries(t, tmp); len(left) > 0 {
				t.Errorf("left after the killed %s and a new run: %v", tc.name, left)
				for _, d := range left { // what, and whose, for the diagnosis
					es, _ := os.ReadDir(filepath.Join(tmp, d))
					var names []string
					for _, e := range es {
						names = append(names, e.Name())
					}
					owner, _ := os.ReadFile(filepath.Join(tmp, d, ".wsslab-owner"))
					t.Logf("  %s holds %v; owner record %q; killed run pid %d", d, names, owner, cmd.Process.Pid)
				}
			}
			if _, err := os.Stat(notes); err != nil {
				t.Errorf("the user's file is gone: %v", err)
			}
			if !harness.ProcessAlive(tail.Process.Pid) {
				t.Error("the user's tail was killed")
			}
			using := harness.ProcessesUsing(tmp)
			if i := slices.Index(using, tail.Process.Pid); i >= 0 {
				using = slices.Delete(using, i, i+1)
			}
			if len(using) > 0 {
				t.Errorf("processes left using %s: %v", tmp, using)
			}
		})
	}
}

// wsslabEntries lists what is in dir besides the user's decoy.
func wsslabEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), "wsslab-pr-") {
			names = append(names, e.Name())
		}
	}
	return names
}
