package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsslab/wsslab/internal/owner"
)

// tempPrefix starts every temp dir wsslab makes: wsslab-KIND-RANDOM. The name
// is for people; what makes a dir wsslab's is its owner record (owner.Marker),
// written when it is made.
const tempPrefix = "wsslab-"

// procsFile, in a wsslab temp dir, lists the process groups wsslab started
// that use the dir (a browser and its children), one "PID START" per line.
const procsFile = ".wsslab-procs"

// MkdirTemp makes a temp dir for this process and writes its owner record
// into it, so that SweepStale can tell, once this process is gone (killed
// by -timeout or SIGKILL, say), that the dir is a dead wsslab run's.
func MkdirTemp(parent, kind string) (string, error) {
	// The record is made before the dir: between creating the dir and
	// writing its record a killed run leaves a dir no sweep may touch, so
	// that window is kept to two system calls (reading /proc for the owner
	// identity in it was measured to leave empty records behind).
	record := owner.Self().String()
	dir, err := os.MkdirTemp(parent, tempPrefix+kind+"-")
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(filepath.Join(dir, owner.Marker), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.WriteString(record)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("harness: owner record in %s: %w", dir, err)
	}
	return dir, nil
}

// TB is the part of testing.TB that MkdirTempFor needs.
type TB interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
}

// MkdirTempFor is a temp dir for a test that starts a browser: removed by
// tb.Cleanup like t.TempDir (after killing the processes TrackProcess
// recorded in it), but made by MkdirTemp, so that when the test process is
// killed first (go test -timeout) the next run's SweepStale removes it.
func MkdirTempFor(tb TB, kind string) string {
	tb.Helper()
	dir, err := MkdirTemp("", kind)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		KillTracked(dir)
		os.RemoveAll(dir)
	})
	return dir
}

// SweepStale removes the temp dirs of wsslab runs that provably ended: dirs
// in parent that hold an owner record (owner.Marker) whose process is dead
// (owner.ID.Stale: same host, boot and PID namespace, and gone; a record
// from elsewhere only after owner.ForeignMaxAge). Before removing one it
// kills the processes that run recorded there (TrackProcess) and still use
// it (a Chromium child that outlived a killed run). A dir without a
// record is never touched, whatever its name, and no other process is
// killed. It returns the dirs it removed.
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
	now := time.Now()
	for _, e := range entries {
		// A symlink is not a dir wsslab made (ReadDir does not follow it).
		if !strings.HasPrefix(e.Name(), tempPrefix) || !e.IsDir() {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		id, err := readOwner(dir)
		if err != nil {
			if cutShort(dir, now) {
				removed = append(removed, dir)
			}
			continue
		}
		if !id.Stale(now, 0) {
			continue
		}
		KillTracked(dir)
		// Chromium's singleton dir lies outside dir; the profile (dir's own,
		// or a browser's one level down) links to it.
		profiles, _ := filepath.Glob(filepath.Join(dir, "*", "profile"))
		for _, p := range append(profiles, filepath.Join(dir, "profile")) {
			RemoveSingletonDir(p)
		}
		// A process of the dead run may still be exiting, and writing,
		// while the dir goes ("directory not empty"): kill and try again.
		err = removeOwned(dir)
		for try := 0; err != nil && try < 5; try++ {
			time.Sleep(100 * time.Millisecond)
			KillTracked(dir)
			err = removeOwned(dir)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, dir)
	}
	return removed, errors.Join(errs...)
}

// cutShortAge is how old an empty owner record must be before cutShort
// takes it for a creation that was cut short: MkdirTemp writes the record
// right after creating it (a live run's window is microseconds, more only
// when its thread is preempted between the two calls).
const cutShortAge = 2 * time.Second

// cutShort removes dir when it holds nothing but an empty owner record older
// than cutShortAge: a run killed between MkdirTemp's creating the record and
// writing it (measured: the killed-commands test left such dirs). Nothing is
// lost (the dir holds no data), and only a file of wsslab's own name marks
// it; rmdir refuses a dir that is not empty.
func cutShort(dir string, now time.Time) bool {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != owner.Marker {
		return false
	}
	marker := filepath.Join(dir, owner.Marker)
	fi, err := os.Lstat(marker)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 || now.Sub(fi.ModTime()) < cutShortAge {
		return false
	}
	return os.Remove(marker) == nil && os.Remove(dir) == nil
}

// removeOwned removes dir with its owner record last: a removal that fails
// half-way leaves a dir that still says whose it is, and so a later sweep
// finishes it (os.RemoveAll alone may delete the record first and leave an
// unowned remainder that no sweep may touch).
func removeOwned(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Name() != owner.Marker {
			errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// readOwner reads dir's owner record: a small regular file, not a link.
func readOwner(dir string) (owner.ID, error) {
	p := filepath.Join(dir, owner.Marker)
	fi, err := os.Lstat(p)
	if err != nil {
		return owner.ID{}, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 4096 {
		return owner.ID{}, fmt.Errorf("harness: %s is not an owner record", p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return owner.ID{}, err
	}
	return owner.Parse(string(b))
}

// TrackProcess records in dir (made by MkdirTemp) that this run started
// pid as the leader of its own process group (Setpgid) and that the group
// uses dir, so KillTracked and a later SweepStale may kill it and its
// children — and nothing else.
func TrackProcess(dir string, pid int) error {
	f, err := os.OpenFile(filepath.Join(dir, procsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("harness: track process: %w", err)
	}
	_, err = fmt.Fprintf(f, "%d %d\n", pid, owner.StartTicks(pid))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// TrackBrowser records the browser of a chromedp context started with
// AllocatorOptions (which puts it in its own process group) in dir.
func TrackBrowser(ctx context.Context, dir string) error {
	c := chromedp.FromContext(ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return errors.New("harness: track browser: no browser process in the context")
	}
	return TrackProcess(dir, c.Browser.Process().Pid)
}

// tracked reads dir's process records.
func tracked(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, procsFile))
	if err != nil {
		return nil
	}
	var groups []int
	for _, line := range strings.Split(string(b), "\n") {
		var pid int
		var start uint64
		if n, _ := fmt.Sscanf(line, "%d %d", &pid, &start); n == 2 && pid > 1 {
			groups = append(groups, pid)
		}
	}
	return groups
}

// trackedProcesses lists live processes of dir's recorded process groups
// that use dir (their command line or environment names it): the group id proves this
// run started them, the command line that the group was not reused.
func trackedProcesses(dir string) []int {
	groups := tracked(dir)
	if len(groups) == 0 {
		return nil
	}
	var pids []int
	for _, pid := range processesMentioning(dir, true) {
		pgid, err := syscall.Getpgid(pid)
		if err != nil {
			continue
		}
		for _, g := range groups {
			if pgid == g {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// KillTracked kills the processes recorded in dir (TrackProcess) that still
// use it, looking again until none is left for a few passes (a child can
// fork as its parent dies), for at most 2s.
func KillTracked(dir string) {
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pids := trackedProcesses(dir)
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

// ProcessAlive reports whether pid runs (a zombie does not count: its
// parent may never reap it, as in containers whose init does not).
func ProcessAlive(pid int) bool { return owner.Alive(pid) }

// ProcessesUsing lists live processes whose command line mentions dir (every
// Chromium process gets --user-data-dir=DIR/profile). It only looks: a name
// in a command line proves nothing about who started a process, so nothing
// is killed on this alone (see KillTracked).
func ProcessesUsing(dir string) []int { return processesMentioning(dir, false) }

// TrackedProcesses lists the live processes KillTracked would kill: those of
// dir's recorded process groups that use dir.
func TrackedProcesses(dir string) []int { return trackedProcesses(dir) }

// processesMentioning lists live processes whose command line, and with env
// also whose environment (this user's), names dir: Firefox's content
// processes name no profile on their command line but inherit HOME and
// TMPDIR inside the run's dir; a server Process started has
// WSSLAB_CERT_DIR=DIR, and so do its children.
func processesMentioning(dir string, env bool) []int {
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
		if err != nil || !(bytes.Contains(cmdline, []byte(dir)) || env && environMentions(e.Name(), dir)) || !ProcessAlive(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func environMentions(pid, dir string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/environ")
	return err == nil && bytes.Contains(b, []byte(dir))
}
