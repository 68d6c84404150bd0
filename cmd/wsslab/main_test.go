package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// TestMain lets the tests run the real command as a subprocess of the test
// binary (exit codes, signals) without building it first.
func TestMain(m *testing.M) {
	if os.Getenv("WSSLAB_TEST_EXEC") == "1" {
		os.Exit(mainCode(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// wsslab starts `wsslab ARGS...` as a subprocess.
func wsslab(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WSSLAB_TEST_EXEC=1")
	return cmd
}

// runWsslab runs `wsslab ARGS...` to completion.
func runWsslab(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runWsslabEnv(t, 2*time.Minute, nil, args...)
}

// runWsslabEnv runs `wsslab ARGS...` to completion, within timeout (a hang
// guard), with env added to its environment.
func runWsslabEnv(t *testing.T, timeout time.Duration, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := wsslab(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("wsslab %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// needBrowser skips (fails under CI=true) when Chromium or certutil is
// missing, naming the install command.
func needBrowser(t *testing.T) {
	t.Helper()
	if err := harness.CheckBrowserTools(); err != nil {
		if errors.Is(err, harness.ErrNoBrowser) {
			testenv.Missing(t, "browser", err)
		}
		t.Fatalf("browser: %v", err)
	}
}

// needTool skips (fails under CI=true) without a command-line tool.
func needTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		testenv.Missing(t, name, fmt.Errorf("%v: run apt-get install -y %s", err, pkg))
	}
}

// oneErrorLine checks that stderr is exactly one "ERROR: ..." line
// containing want.
func oneErrorLine(t *testing.T, stderr, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ERROR: ") || !strings.Contains(lines[0], want) {
		t.Errorf("stderr = %q, want one ERROR line containing %q", stderr, want)
	}
}

// newChromium starts a plain headless Chromium for looking at pages wsslab
// produces (the HTML report, serve's index). It trusts nothing extra.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	needBrowser(t)
	exe, err := harness.FindChromium()
	if err != nil {
		t.Fatal(err)
	}
	dir := harness.MkdirTempFor(t, "test")
	profile := filepath.Join(dir, "profile")
	opts := append(harness.AllocatorOptions(exe, profile), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc(); harness.RemoveSingletonDir(profile) })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := harness.TrackBrowser(ctx, dir); err != nil {
		t.Fatal(err)
	}
	return ctx
}
