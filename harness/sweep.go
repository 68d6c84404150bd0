package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempPrefix starts every temp dir wsslab makes: wsslab-KIND-PID-RANDOM. The
// PID lets a later run tell a dead run's leftovers from a live run's dirs.
const tempPrefix = "wsslab-"

// MkdirTemp makes a temp dir for this process, named so SweepStale can find
// it once this process is gone (killed by -timeout or SIGKILL, say).
func MkdirTemp(parent, kind string) (string, error) {
	return os.MkdirTemp(parent, fmt.Sprintf("%s%s-%d-", tempPrefix, kind, os.Getpid()))
}

// TB is the part of testing.TB that MkdirTempFor needs.
type TB interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
}

// MkdirTempFor is a temp dir for a test that starts a browser: removed by
// tb.Cleanup like t.TempDir, but named like MkdirTemp, so that when the test
// process is killed first (go test -timeout) the next run's SweepStale
// removes it and kills what still uses it.
func MkdirTempFor(tb TB, kind string) string {
	tb.Helper()
	dir, err := MkdirTemp("", kind)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		KillUsing(dir)
		os.RemoveAll(dir)
	})
	return dir
}

// SweepStale removes the temp dirs of wsslab processes that no longer run,
// first killing any process still using one (a Chromium child that outlived
// a killed run). It returns the dirs it removed. Dirs of live processes are
// left alone, so parallel runs do not disturb each other.
func SweepStale(parent string) ([]string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("harness: sweep %s: %w", parent, err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		pid, ok := ownerPID(e.Name())
		if !ok || !e.IsDir() || ProcessAlive(pid) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		KillUsing(dir)
		// Chromium's singleton dir lies outside dir; the profile (dir's own,
		// or a browser's one level down) links to it.
		profiles, _ := filepath.Glob(filepath.Join(dir, "*", "profile"))
		for _, p := range append(profiles, filepath.Join(dir, "profile")) {
			RemoveSingletonDir(p)
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, dir)
	}
	return removed, errors.Join(errs...)
}

// ownerPID parses wsslab-KIND-PID-RANDOM.
func ownerPID(name string) (int, bool) {
	if !strings.HasPrefix(name, tempPrefix) {
		return 0, false
	}
	parts := strings.Split(name, "-")
	if len(parts) < 4 {
		return 0, false
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	return pid, err == nil && pid > 0
}

// ProcessAlive reports whether pid runs (a zombie does not count: its
// parent may never reap it, as in containers whose init does not).
func ProcessAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	// Field 3, after "pid (comm) ", is the state.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// ProcessesUsing lists live processes whose command line mentions dir (every
// Chromium process gets --user-data-dir=DIR/profile).
func ProcessesUsing(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) || !ProcessAlive(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// KillUsing kills every process using dir, looking again until none is
// left for a few passes (a child can fork as its parent dies), for at most 2s.
func KillUsing(dir string) {
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pids := ProcessesUsing(dir)
		if len(pids) == 0 {
			quiet++
			continue
		}
		quiet = 0
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
