package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// The JSON fields README.md documents, exactly: adding one is fine (update
// the README and this list), renaming or dropping one breaks users' CI.
var (
	jsonTopFields    = []string{"backend", "clients", "results", "schema", "summary"}
	jsonClientFields = []string{"class", "id", "name", "reasons", "version"}
	jsonResultFields = []string{"client", "error", "evidence", "expected", "matched", "outcome", "reason", "scenario", "server", "skipped", "ungraded"}
)

func keys(m map[string]any) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// runJSON runs `wsslab run ARGS --json` in process and decodes stdout both
// ways: typed, and as maps to check the exact field names.
func runJSON(t *testing.T, args ...string) (jsonReport, map[string]any, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(t.Context(), append(args, "--json", "--quiet"), &out, &errb)
	if code == exitUsage {
		t.Fatalf("exit 2: %s", errb.String())
	}
	var rep jsonReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	var raw map[string]any
	json.Unmarshal(out.Bytes(), &raw)
	return rep, raw, code
}

func checkFields(t *testing.T, raw map[string]any) {
	t.Helper()
	if got := keys(raw); !slices.Equal(got, jsonTopFields) {
		t.Errorf("top-level fields %v, want %v", got, jsonTopFields)
	}
	for _, r := range raw["results"].([]any) {
		if got := keys(r.(map[string]any)); !slices.Equal(got, jsonResultFields) {
			t.Errorf("result fields %v, want %v", got, jsonResultFields)
		}
	}
	for _, c := range raw["clients"].([]any) {
		if got := keys(c.(map[string]any)); !slices.Equal(got, jsonClientFields) {
			t.Errorf("client fields %v, want %v", got, jsonClientFields)
		}
	}
}

// TestRunJSONWithoutBrowser: --no-browser reports the browser as skipped,
// one entry per scenario and client, never dropped; exit 0 when the rest
// matched.
func TestRunJSONWithoutBrowser(t *testing.T) {
	rep, raw, code := runJSON(t, "--no-browser", "--scenario", "valid-fullchain,self-signed")
	if code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
	checkFields(t, raw)
	n := len(scenarios.Clients)
	browsers := 0
	for _, c := range scenarios.Clients {
		if c.Class == harness.BrowserClass {
			browsers++
		}
	}
	if rep.Backend != "inprocess" || rep.Schema != 2 || len(rep.Clients) != n {
		t.Fatalf("header: %+v", rep)
	}
	for i, c := range rep.Clients {
		if c.ID != scenarios.ClientIDs()[i] {
			t.Errorf("client %d is %s, want %s", i, c.ID, scenarios.ClientIDs()[i])
		}
		if (c.Version == "") != (c.Class == harness.BrowserClass) || c.Name == "" || c.Class == "" {
			t.Errorf("client %+v (only the skipped browsers have no version)", c)
		}
	}
	if len(rep.Results) != 2*n {
		t.Fatalf("%d results, want %d (2 scenarios x %d clients)", len(rep.Results), 2*n, n)
	}
	for i, r := range rep.Results {
		wantClient := scenarios.ClientIDs()[i%n]
		if r.Client != wantClient {
			t.Errorf("result %d: client %s, want %s", i, r.Client, wantClient)
		}
		switch r.Client {
		case harness.ChromeID, harness.FirefoxID:
			if r.Outcome != scenarios.Skipped || r.Skipped != "--no-browser" || r.Matched {
				t.Errorf("browser not reported as skipped: %+v", r)
			}
		default:
			if !r.Matched || r.Skipped != "" {
				t.Errorf("%s/%s: %+v", r.Scenario, r.Client, r)
			}
		}
	}
	lax := rep.Results[n+slices.Index(scenarios.ClientIDs(), harness.LaxID)] // self-signed, lax
	if lax.Scenario != "self-signed" || lax.Outcome != harness.Connected || lax.Expected.Outcome != harness.Connected {
		t.Errorf("self-signed/lax: %+v", lax)
	}
	strict := rep.Results[n+slices.Index(scenarios.ClientIDs(), harness.StrictID)]
	if strict.Outcome != harness.CertUntrusted || strict.Reason != "x509.UnknownAuthorityError" || strict.Expected.Reason != strict.Reason ||
		!strings.Contains(strict.Error, "unknown authority") || len(strict.Evidence) == 0 {
		t.Errorf("self-signed/strict: %+v", strict)
	}
	if rep.Summary != (jsonSummary{Scenarios: 2, Results: 2 * (n - browsers), Mismatched: 0, Skipped: 2 * browsers}) {
		t.Errorf("summary %+v", rep.Summary)
	}
}

// TestRunMismatchExitsOne runs a row whose expectation is deliberately
// wrong (through the selectScenarios hook, not by editing the table): exit
// 1, the result marked, the matrix saying which client differed.
func TestRunMismatchExitsOne(t *testing.T) {
	orig := selectScenarios
	t.Cleanup(func() { selectScenarios = orig })
	selectScenarios = func([]scenarios.Scenario, ...string) ([]scenarios.Scenario, error) {
		sc, err := scenarios.Lookup("valid-fullchain")
		// Wrong on purpose.
		sc.Want.Except = map[string]scenarios.Expect{harness.LaxID: {Outcome: harness.CertUntrusted, Reason: "x509.UnknownAuthorityError"}}
		return []scenarios.Scenario{sc}, err
	}
	rep, _, code := runJSON(t, "--no-browser")
	if code != exitMismatch {
		t.Errorf("exit %d, want %d", code, exitMismatch)
	}
	if r := rep.Results[slices.Index(scenarios.ClientIDs(), harness.LaxID)]; r.Client != harness.LaxID || r.Matched || r.Outcome != harness.Connected || r.Expected.Outcome != harness.CertUntrusted {
		t.Errorf("lax result: %+v", r)
	}
	if rep.Summary.Mismatched != 1 {
		t.Errorf("summary %+v", rep.Summary)
	}
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"--no-browser", "--quiet"}, &out, &errb); code != exitMismatch {
		t.Errorf("matrix run: exit %d", code)
	}
	ran := len(scenarios.Clients) - browsers() // --no-browser
	for _, want := range []string{"!connected", "NO (lax)", "DIFFERS valid-fullchain/lax: got connected, want cert-untrusted (x509.UnknownAuthorityError)", fmt.Sprintf("1 of %d results differed", ran)} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("matrix lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunBadInput: one ERROR line and exit 2, before any work.
func TestRunBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "no-such"}, `unknown scenario "no-such"`},
		{[]string{"--scenario", "nginx-proxy-ok"}, `scenario "nginx-proxy-ok" runs only with a container backend: add --backend container`},
		{[]string{"--scenario", "nginx-*"}, `scenario "nginx-*" runs only with a container backend: add --backend container`},
		{[]string{"--scenario", ""}, `--scenario: "" names nothing`},
		{[]string{"--scenario", " , "}, `--scenario: " , " names nothing`},
		{[]string{"--clients", "chrome,nope"}, `--clients: unknown client "nope" (known: ` + strings.Join(scenarios.ClientIDs(), ", ") + `)`},
		{[]string{"--clients", ","}, `--clients: "," names nothing`},
		{[]string{"--html", ""}, "--html: needs a file name"},
		{[]string{"--html", "/no/such/dir/report.html"}, "--html: /no/such/dir/report.html: directory /no/such/dir does not exist"},
		{[]string{"--html", os.TempDir()}, "is a directory"},
		{[]string{"--scenario", "[x"}, "bad scenario pattern"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"self-signed"}, "unexpected argument"},
		{[]string{"--json", "--markdown"}, "choose one of --json and --markdown"},
		{[]string{"--backend", "vm"}, `--backend "vm": want inprocess or container`},
		{[]string{"--backend", "inprocess", "--image", "x"}, "--image x needs --backend container"},
		{[]string{"--backend", "container", "--image", "x", "--image-env", "novalue"}, `--image-env "novalue": want KEY=VALUE`},
	} {
		var out, errb bytes.Buffer
		if code := runMain(t.Context(), append(tc.args, "--no-browser"), &out, &errb); code != exitUsage {
			t.Errorf("run %q: exit %d, want 2", tc.args, code)
		}
		oneErrorLine(t, errb.String(), tc.want)
		if strings.Contains(errb.String(), ".wsslab-") {
			t.Errorf("run %q names an internal file: %s", tc.args, errb.String())
		}
		if out.Len() > 0 {
			t.Errorf("run %q: stdout %q", tc.args, out.String())
		}
	}
}

// TestRunExitCodes runs the real binary: 0 when all matched, 2 on bad input,
// --help complete and exit 0 for every subcommand.
func TestRunExitCodes(t *testing.T) {
	if _, stderr, code := runWsslab(t, "run", "--no-browser", "--scenario", "expired"); code != exitOK {
		t.Errorf("run --no-browser: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runWsslab(t, "run", "--scenario", "nope"); code != exitUsage {
		t.Errorf("run --scenario nope: exit %d", code)
	} else {
		oneErrorLine(t, stderr, "unknown scenario")
	}
	for _, c := range []string{"run", "serve", "certs", "doctor"} {
		out, _, code := runWsslab(t, c, "--help")
		if code != exitOK || !strings.HasPrefix(out, "usage: wsslab "+c) || !strings.Contains(out, "Exit status") {
			t.Errorf("%s --help: exit %d:\n%s", c, code, out)
		}
	}
}

// TestRunNoBrowserIsSetupFailure: without Chromium, under CI=true, the run
// stops with one line naming the install command (unless --no-browser). On
// a laptop (neither CI nor WSSLAB_REQUIRE) the column is skipped instead,
// naming the install command (TestRunNoBrowserSkipsOnALaptop).
func TestRunNoBrowserIsSetupFailure(t *testing.T) {
	t.Setenv("WSSLAB_CHROMIUM", "/nonexistent/chromium")
	t.Setenv("CI", "true")
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"--scenario", "expired"}, &out, &errb); code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "ERROR: ") || !strings.Contains(last, "apt-get install") || !strings.Contains(last, "--no-browser") {
		t.Errorf("stderr %q", errb.String())
	}
}

// TestRunNoBrowserSkipsOnALaptop: the same run outside CI reports the
// chrome column skipped, with the install command, and the other columns ran.
func TestRunNoBrowserSkipsOnALaptop(t *testing.T) {
	t.Setenv("WSSLAB_CHROMIUM", "/nonexistent/chromium")
	t.Setenv("CI", "")
	t.Setenv("WSSLAB_REQUIRE", "")
	t.Setenv("WSSLAB_REQUIRE_BROWSER", "")
	var out, errb bytes.Buffer
	code := runMain(t.Context(), []string{"--scenario", "expired", "--clients", "chrome,strict"}, &out, &errb)
	if code != exitOK {
		t.Errorf("exit %d, want 0\n%s", code, errb.String())
	}
	var chrome, strict bool
	for _, l := range strings.Split(errb.String(), "\n") {
		chrome = chrome || strings.Contains(l, " chrome ") && strings.Contains(l, "skipped") && strings.Contains(l, "apt-get install")
		strict = strict || strings.Contains(l, " strict ") && strings.Contains(l, "as expected")
	}
	if !chrome || !strict {
		t.Errorf("want chrome skipped naming apt-get install, strict as expected:\n%s", errb.String())
	}
}

// TestRunWithBrowser runs the whole table with the browser: exit 0, every
// failing browser result carrying Chrome's net error and console line.
func TestRunWithBrowser(t *testing.T) {
	needBrowser(t)
	html := filepath.Join(t.TempDir(), "report.html")
	rep, raw, code := runJSON(t, "--html", html)
	if code != exitOK {
		t.Errorf("exit %d, want 0: %+v", code, rep.Summary)
	}
	checkFields(t, raw)
	if v := rep.Clients[0].Version; rep.Clients[0].ID != harness.ChromeID || !strings.Contains(v, "Chrom") {
		t.Errorf("chrome's version %q", v)
	}
	if len(rep.Results) != len(scenarios.Clients)*len(scenarios.Table) {
		t.Errorf("%d results", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Client != harness.ChromeID || r.Outcome == harness.Connected {
			continue
		}
		// Chrome names every failure: a net error, a handshake error, or
		// (mixed content: no socket) the constructor's exception.
		if r.Reason == "" || r.Reason != r.Expected.Reason {
			t.Errorf("%s: browser reason %q, want %q", r.Scenario, r.Reason, r.Expected.Reason)
		}
		if !strings.Contains(r.Error, "WebSocket connection to") && !strings.HasPrefix(r.Error, "Mixed Content:") {
			t.Errorf("%s: browser console line %q", r.Scenario, r.Error)
		}
	}
	if fi, err := os.Stat(html); err != nil || fi.Size() == 0 {
		t.Errorf("--html: %v", err)
	}
}

func TestMarkdown(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"--no-browser", "--quiet", "--markdown", "--scenario", "self-signed"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	header := "| scenario | " + strings.Join(scenarios.ClientIDs(), " | ") + " | as expected |"
	for _, want := range []string{header, "| [`self-signed`](#self-signed) | skipped | skipped | connected | cert-untrusted `x509.UnknownAuthorityError` |", "## self-signed", "**Fix.**", "`chrome` = Chrome (headless Chromium)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, out.String())
		}
	}
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"One. Two.": "One.",
		`Put it in the SAN: openssl req ... -addext "x". Better: a name.`: `Put it in the SAN: openssl req ... -addext "x".`,
		"No period":             "No period",
		"Use v1.2 please. Then": "Use v1.2 please.",
	} {
		if got := firstSentence(in); got != want {
			t.Errorf("firstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRunInterrupted: Ctrl-C in the middle of a run stops it with exit 2 and
// leaves nothing behind (the browser's temp dir, Chromium's own TMPDIR files).
func TestRunInterrupted(t *testing.T) {
	needBrowser(t)
	tmp := t.TempDir()
	cmd := wsslab(t.Context(), "run")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "[ 1/") {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage {
		t.Errorf("exit: %v, want 2", err)
	}
	if !strings.Contains(rest.String(), "ERROR: run: interrupted") {
		t.Errorf("stderr after SIGINT: %q", rest.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestRunList: --list prints every scenario id (container rows marked) and
// every client id, and runs nothing.
func TestRunList(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"--list"}, &out, &errb); code != exitOK || errb.Len() > 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, sc := range scenarios.All() {
		if !strings.Contains(out.String(), "  "+sc.ID+" ") {
			t.Errorf("--list lacks %s", sc.ID)
		}
	}
	for _, id := range scenarios.ClientIDs() {
		if !strings.Contains(out.String(), "  "+id+" ") {
			t.Errorf("--list lacks client %s", id)
		}
	}
	for _, l := range strings.Split(out.String(), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && (f[0] == "nginx-proxy-ok") != strings.HasSuffix(l, "(--backend container)") && (f[0] == "nginx-proxy-ok" || f[0] == "valid-fullchain") {
			t.Errorf("container rows must be marked, others not: %q", l)
		}
	}
}

// TestRunClients: --clients picks the columns, in the order given.
func TestRunClients(t *testing.T) {
	rep, _, code := runJSON(t, "--clients", "strict,lax", "--scenario", "self-signed")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if len(rep.Clients) != 2 || rep.Clients[0].ID != "strict" || rep.Clients[1].ID != "lax" || len(rep.Results) != 2 {
		t.Errorf("clients %+v, %d results", rep.Clients, len(rep.Results))
	}
}

// browsers is how many registered clients are browsers (--no-browser skips
// them).
func browsers() int { return len(browserClients()) }

// A column whose runtime is missing is skipped on a laptop, naming the
// install command, and fails the run (one ERROR line, exit 2) under CI=true
// or when WSSLAB_REQUIRE names it.
func TestRunMissingRuntime(t *testing.T) {
	t.Setenv("WSSLAB_NODE", "/nonexistent/node")
	for _, env := range []struct{ ci, require string }{{"", ""}, {"true", ""}, {"", "node"}} {
		t.Setenv("CI", env.ci)
		t.Setenv("WSSLAB_REQUIRE", env.require)
		var out, errb bytes.Buffer
		code := runMain(t.Context(), []string{"--no-browser", "--quiet", "--json", "--scenario", "self-signed"}, &out, &errb)
		if env.ci == "" && env.require == "" {
			var rep jsonReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil || code != exitOK {
				t.Fatalf("laptop: exit %d, %v: %s", code, err, errb.String())
			}
			for _, r := range rep.Results {
				if r.Client == "node" && (r.Matched || !strings.Contains(r.Skipped, "apt-get install -y nodejs")) {
					t.Errorf("laptop: node %+v, want skipped naming the install command", r)
				}
			}
			continue
		}
		if code != exitUsage {
			t.Errorf("CI=%q WSSLAB_REQUIRE=%q: exit %d, want 2", env.ci, env.require, code)
		}
		oneErrorLine(t, errb.String(), "apt-get install -y nodejs")
	}
}
