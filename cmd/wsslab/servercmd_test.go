package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

func fixtureServer(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "servers", name)
}

func needPython(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import websockets").Run(); err != nil {
		testenv.Missing(t, "python", errors.New("/usr/bin/python3 with websockets: apt-get install -y python3 python3-websockets"))
	}
}

func needNode(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/share/nodejs/ws"); err != nil {
		testenv.Missing(t, "node", errors.New("/usr/bin/node with ws: apt-get install -y nodejs node-ws"))
	}
}

var (
	pythonCmd = "/usr/bin/python3 " + fixtureServer("python_server.py") + " --port {port} --cert {fullchain} --key {key}"
	nodeCmd   = "/usr/bin/node " + fixtureServer("node_server.js") + " --port {port} --cert {fullchain} --key {key}"
)

// runIn runs `wsslab ARGS` as a subprocess with TMPDIR=tmp (a dir of the
// test's own), so that what it leaves behind can be checked.
func runIn(t *testing.T, tmp string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runWsslabEnv(t, 3*time.Minute, []string{"TMPDIR=" + tmp}, args...)
}

// nothingLeft fails if a file or a process of a run is left under tmp.
func nothingLeft(t *testing.T, tmp string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(harness.ProcessesUsing(tmp)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pids := harness.ProcessesUsing(tmp); len(pids) > 0 {
		t.Errorf("processes left using %s: %v", tmp, pids)
	}
	if left := runEntries(t, tmp); len(left) > 0 {
		t.Errorf("left in %s: %v", tmp, left)
	}
}

// runEntries is what runs left in tmp (not the test dir's own records).
func runEntries(t *testing.T, tmp string) []string {
	t.Helper()
	var out []string
	for _, e := range wsslabEntries(t, tmp) {
		if !strings.HasPrefix(e, ".wsslab-") {
			out = append(out, e)
		}
	}
	return out
}

// TestServerCmdBadInput: each bad combination is one ERROR line, exit 2.
func TestServerCmdBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--server-ready", "up"}, "--server-ready needs --server-cmd"},
		{[]string{"--no-echo"}, "--no-echo needs --server-cmd"},
		{[]string{"--server-timeout", "5s"}, "--server-timeout needs --server-cmd"},
		{[]string{"--server-cmd", " "}, "--server-cmd is empty"},
		{[]string{"--server-cmd", "true", "--server-ready", ""}, "--server-ready is empty"},
		{[]string{"--server-cmd", "true", "--server-timeout", "0s"}, "--server-timeout 0s: want a positive duration"},
		{[]string{"--server-cmd", "true", "--backend", "container"}, "does not go with --backend"},
		{[]string{"--server-cmd", "true", "--image", "x"}, "does not go with --image"},
	} {
		var out, errb bytes.Buffer
		code := runMain(t.Context(), tc.args, &out, &errb)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		oneErrorLine(t, errb.String(), tc.want)
	}
}

// TestServerCmdFailures: a server command that exits at once, never
// listens, or speaks plain HTTP is one ERROR line with what happened and
// the command's own last output, exit 2, and nothing left behind.
func TestServerCmdFailures(t *testing.T) {
	needPython(t)
	for _, tc := range []struct {
		name, cmd string
		want      []string
	}{
		{"exits-at-once", `echo "config error: no such file {dir}/app.toml" >&2; exit 1`,
			[]string{"your server exited (exit status 1) before 127.0.0.1:", "config error: no such file /"}},
		{"never-listens", `echo "listening on 0.0.0.0:3500" >&2; exec sleep 600`,
			[]string{"your server never answered TLS on 127.0.0.1:", "within 1s (last: connection refused)", "listening on 0.0.0.0:3500"}},
		// The server's last line is its 400 for the ClientHello: "Bad
		// request version", "Bad request syntax" or "Bad HTTP/0.9 request
		// type", by where its random bytes hold spaces (all seen in CI).
		{"plain-http", `exec /usr/bin/python3 -m http.server {port} --bind 127.0.0.1`,
			[]string{"speaks plain HTTP, not TLS", "code 400, message Bad "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := harness.MkdirTempFor(t, "test")
			_, stderr, code := runIn(t, tmp, "run", "--quiet", "--no-browser", "--scenario", "valid-fullchain,expired", "--server-timeout", "1s", "--server-cmd", tc.cmd)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			t.Log(stderr)
			oneErrorLine(t, stderr, "ERROR: run: scenario ")
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			nothingLeft(t, tmp)
		})
	}
}

// TestServerCmdIgnoresSIGTERM: the run completes; one Warning line says the
// server ignored SIGTERM and was killed, with its output; nothing is left.
func TestServerCmdIgnoresSIGTERM(t *testing.T) {
	needPython(t)
	tmp := harness.MkdirTempFor(t, "test")
	stdout, stderr, code := runIn(t, tmp, "run", "--quiet", "--no-browser", "--no-echo", "--scenario", "valid-fullchain", "--server-cmd", "trap '' TERM; exec "+pythonCmd)
	if code != exitOK {
		t.Errorf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "Warning: valid-fullchain: your server (pid ") ||
		!strings.Contains(lines[0], "ignored SIGTERM for 3s; killed its process group with SIGKILL; its last output: ") {
		t.Errorf("stderr %q: want one Warning line", stderr)
	}
	nothingLeft(t, tmp)
}

// TestServerCmdFixtures: both fixture servers through the whole table from
// the CLI, in JSON: every row present with each client's result, graded
// rows as expected (exit 0), the rest ungraded or skipped with a reason.
func TestServerCmdFixtures(t *testing.T) {
	for _, tc := range []struct {
		name string
		need func(*testing.T)
		args []string
	}{
		{"python-websockets", needPython, []string{"--no-echo", "--server-cmd", pythonCmd}},
		{"node-ws", needNode, []string{"--server-cmd", nodeCmd}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.need(t)
			tmp := harness.MkdirTempFor(t, "test")
			stdout, stderr, code := runIn(t, tmp, append([]string{"run", "--quiet", "--json", "--clients", "lax,strict"}, tc.args...)...)
			var rep jsonReport
			jsonErr := json.Unmarshal([]byte(stdout), &rep)
			if code != exitOK {
				var differ []string
				for _, r := range rep.Results {
					if r.Skipped == "" && r.Ungraded == "" && !r.Matched {
						differ = append(differ, fmt.Sprintf("%s/%s: %s %q (%s), want %s", r.Scenario, r.Client, r.Outcome, r.Reason, r.Error, r.Expected))
					}
				}
				t.Fatalf("exit %d\n%s\ndiffering: %s", code, stderr, strings.Join(differ, "\n  "))
			}
			if jsonErr != nil {
				t.Fatal(jsonErr)
			}
			var raw map[string]any
			json.Unmarshal([]byte(stdout), &raw)
			checkFields(t, raw)
			if rep.Backend != "process" || rep.Summary.Mismatched != 0 || rep.Summary.Ungraded == 0 || rep.Summary.Skipped == 0 {
				t.Errorf("backend %q summary %+v", rep.Backend, rep.Summary)
			}
			if n := len(rep.Results); n != 2*rep.Summary.Scenarios || rep.Summary.Results+rep.Summary.Skipped != n {
				t.Errorf("%d results for %d scenarios (summary %+v)", n, rep.Summary.Scenarios, rep.Summary)
			}
			for _, r := range rep.Results {
				switch {
				case r.Skipped != "":
					if r.Outcome != "skipped" {
						t.Errorf("%s/%s skipped (%s) with outcome %s", r.Scenario, r.Client, r.Skipped, r.Outcome)
					}
				case r.Ungraded == "" && !r.Matched:
					t.Errorf("%s/%s graded and not matched", r.Scenario, r.Client)
				}
			}
			nothingLeft(t, tmp)
		})
	}
}

// TestServerCmdKilled: wsslab killed (SIGKILL) while your server runs: the
// server dies with it (PDEATHSIG) and the next run sweeps its temp dir.
func TestServerCmdKilled(t *testing.T) {
	needTool(t, "openssl", "openssl")
	tmp := harness.MkdirTempFor(t, "test")
	// openssl s_server completes TLS and never answers the HTTP upgrade:
	// the clients wait, the run is in progress.
	cmd := wsslab(t.Context(), "run", "--no-browser", "--clients", "lax", "--scenario", "valid-fullchain",
		"--server-cmd", "exec openssl s_server -quiet -accept {port} -cert {fullchain} -key {key}")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(time.Minute)
	var server []int
	for time.Now().Before(deadline) {
		if server = serverProcesses(tmp); len(server) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(server) == 0 {
		t.Fatal("the server never started: the kill would prove nothing")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for len(serverProcesses(tmp)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := serverProcesses(tmp); len(left) > 0 {
		t.Errorf("server processes outlived the killed run: %v", left)
	}
	if left := runEntries(t, tmp); len(left) == 0 {
		t.Fatal("the killed run left no temp dir: the sweep check would prove nothing")
	}
	_, errText, code := runIn(t, tmp, "run", "--quiet", "--no-browser", "--clients", "lax", "--scenario", "valid-fullchain", "--server-cmd", "exec openssl s_server -quiet -accept {port} -cert {fullchain} -key {key} -www")
	t.Logf("next run: exit %d %s", code, errText)
	nothingLeft(t, tmp)
}

// serverProcesses are the live processes whose command line names a
// certificate dir under tmp.
func serverProcesses(tmp string) []int {
	var out []int
	for _, pid := range harness.ProcessesUsing(tmp) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if bytes.Contains(b, []byte("wsslab-process-")) && bytes.Contains(b, []byte("s_server")) {
			out = append(out, pid)
		}
	}
	return out
}

// TestServerCmdMatrix: the matrix says which rows are not graded and which
// are skipped and why, and the progress starts with the rule.
func TestServerCmdMatrix(t *testing.T) {
	needPython(t)
	tmp := harness.MkdirTempFor(t, "test")
	stdout, stderr, code := runIn(t, tmp, "run", "--no-browser", "--clients", "lax,strict", "--no-echo",
		"--scenario", "valid-fullchain,origin-check,mixed-content,weak-rsa-1024", "--server-cmd", pythonCmd)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, w := range []string{
		"origin-check     connected  connected  not graded",
		"    not graded: expected values are wsslab's echo server with an Origin check; this is what your server did",
		"mixed-content    skipped    skipped    yes (lax, strict skipped)",
		"    skipped: the row needs a plain ws:// server; your server is given TLS files and dialed over wss://",
		"    skipped: your server did not start: ssl.SSLError: [SSL: EE_KEY_TOO_SMALL] ee key too small",
		" 2 not graded (your server, not wsslab's echo server).",
		"process backend.",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("matrix lacks %q:\n%s", w, stdout)
		}
	}
	if !strings.HasPrefix(stderr, "Note: --server-cmd: rows that differ only in their certificate are graded") {
		t.Errorf("progress does not start with the rule: %q", stderr)
	}
	nothingLeft(t, tmp)
}
