// Package testenv is the one rule for a dependency a test (or a run) cannot
// find: on a laptop it is skipped with a message naming the fix; under
// CI=true, or when WSSLAB_REQUIRE names it (or "all"), it is a failure. A
// column, a browser or an engine never silently vanishes from CI.
package testenv

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/internal/require"
)

// Required is require.Required: whether a missing what must fail.
func Required(what string) bool { return require.Required(what) }

// Missing ends tb because what is not available here: err says what is
// missing and how to install it. It skips on a laptop and fails when
// Required(what).
func Missing(tb testing.TB, what string, err error) {
	tb.Helper()
	if Required(what) {
		tb.Fatalf("%s missing (a failure under CI=true): %v", what, err)
		return
	}
	tb.Skipf("%s missing, skipped: %v", what, err)
}

// Need calls Missing when err is not nil.
func Need(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		Missing(tb, what, err)
	}
}

// StartReady starts cmd for tb's test and waits (at most a minute, a hang
// guard) until it prints a stdout line beginning with prefix; it returns
// the rest of that line. The process is killed when the test ends (its
// stdin is closed first, for servers that stop at EOF). If it exits or
// never prints the line, tb fails with its stderr.
func StartReady(tb testing.TB, cmd *exec.Cmd, prefix string) string {
	tb.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				ready <- rest
				go io.Copy(io.Discard, stdout)
				return
			}
		}
		close(ready)
	}()
	select {
	case rest, ok := <-ready:
		if !ok {
			cmd.Wait()
			tb.Fatalf("%s exited before printing %q: %s", cmd.Path, prefix, stderr.String())
		}
		return rest
	case <-time.After(time.Minute):
		tb.Fatalf("%s did not print %q within a minute: %s", cmd.Path, prefix, stderr.String())
	}
	return ""
}
