package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/container"
	"github.com/wsslab/wsslab/scenarios"
)

func init() {
	register("run", "run the scenario table: real Chrome vs a Postman-like client vs a strict Go client", cmdRun)
}

// selectScenarios picks the rows to run. Tests replace it to run a row with
// a deliberately wrong expectation without touching the table.
var selectScenarios = scenarios.SelectFrom

const runUsage = `usage: wsslab run [flags]

Starts each scenario's WSS echo server (a certificate or server set up the
way real deployments get it wrong, or right for the controls), dials it with
three clients and compares what each saw with what real Chrome was measured
to do:

  browser  headless Chromium, trusting only this run's test root through a
           throwaway NSS database; its reason (net::ERR_...) is read from
           DevTools, because the page itself only sees close code 1006
  lax      verification off, no Origin header: Postman's defaults
  strict   a Go client verifying against the test root

Progress goes to stderr. Then stdout gets an aligned matrix with each
scenario's lesson and fix (or JSON / Markdown with --json / --markdown).

Exit status: 0 every outcome as expected, 1 some outcome differed,
2 bad input or setup failure (no browser, no Docker for --backend container).

Examples:
  wsslab run
  wsslab run --scenario 'self-signed,ip-*'
  wsslab run --json > run.json           # fields documented in README.md
  wsslab run --html report.html          # self-contained, with screenshots

Flags:
`

type runFlags struct {
	scenario, html            string
	noBrowser, json, markdown bool
	quiet                     bool
	backend                   *backendFlags
}

func cmdRun(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runMain(ctx, args, os.Stdout, os.Stderr)
}

// errorf prints one ERROR line and returns the usage exit code.
func errorf(w io.Writer, format string, a ...any) int {
	fmt.Fprintf(w, "ERROR: "+format+"\n", a...)
	return exitUsage
}

// parseFlags parses args quietly: a bad flag is one ERROR line, --help the
// full usage on stdout. ok is false when the caller should return code.
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	printUsage := func() {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, usage)
		fs.PrintDefaults()
	}
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage()
			return exitOK, false
		}
		return errorf(stderr, "%s: %v (see wsslab %s --help)", fs.Name(), err, fs.Name()), false
	}
	return 0, true
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.scenario, "scenario", "", "comma-separated scenario ids or globs, e.g. 'self-signed,ip-*' (default: all)")
	f.backend = addBackendFlags(fs)
	fs.BoolVar(&f.noBrowser, "no-browser", false, "do not start Chromium; the browser column is reported as skipped")
	fs.BoolVar(&f.json, "json", false, "print the results as JSON on stdout instead of the matrix")
	fs.BoolVar(&f.markdown, "markdown", false, "print the results as Markdown on stdout instead of the matrix")
	fs.StringVar(&f.html, "html", "", "also write a self-contained HTML report (chains, console lines, screenshots) to `FILE`")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	if code, ok := parseFlags(fs, runUsage, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return errorf(stderr, "run: unexpected argument %q (scenarios go in --scenario)", fs.Arg(0))
	}
	if f.json && f.markdown {
		return errorf(stderr, "run: choose one of --json and --markdown")
	}
	var patterns []string
	for _, p := range strings.Split(f.scenario, ",") {
		if p = strings.TrimSpace(p); p != "" {
			patterns = append(patterns, p)
		}
	}
	all := scenarios.Table
	if f.backend.ownContainers() {
		// With wsslab's own containers, the nginx and image rows run too.
		all = append(append([]scenarios.Scenario(nil), all...), scenarios.ContainerScenarios()...)
	}
	list, err := selectScenarios(all, patterns...)
	if err != nil {
		return errorf(stderr, "run: %v", err)
	}
	if f.html != "" {
		// Fail before minutes of work, not after.
		if err := checkWritable(f.html); err != nil {
			return errorf(stderr, "run: --html: %v", err)
		}
	}
	backend, release, err := f.backend.open(ctx)
	if err != nil {
		return errorf(stderr, "run: %v", err)
	}
	defer release()
	lab, err := scenarios.NewLab()
	if err != nil {
		return errorf(stderr, "run: %v", err)
	}
	lab.Backend = backend
	defer lab.Close()

	progress := stderr
	if f.quiet {
		progress = io.Discard
	}
	c := &collector{lab: lab, skipBrowser: "--no-browser"}
	if cb, ok := backend.(*container.Backend); ok {
		c.backendFor = func(sc scenarios.Scenario) harness.Backend { return scenarios.BackendFor(cb, sc) }
	}
	if !f.noBrowser {
		fmt.Fprintln(progress, "Starting headless Chromium (trusting only this run's test root) ...")
		lab.Screenshots = f.html != ""
		b, err := lab.Browser(ctx)
		if err != nil {
			if errors.Is(err, harness.ErrNoBrowser) {
				return errorf(stderr, "run: %v; or rerun with --no-browser to skip the browser column", err)
			}
			return errorf(stderr, "run: %v", err)
		}
		c.browser = b
	}
	c.progress = func(done, total int, r clientResult) {
		mark := "as expected"
		switch {
		case !r.Ran():
			mark = "skipped (" + r.Skip + ")"
		case !r.Matched:
			mark = "DIFFERS: want " + r.Expected.String()
		}
		fmt.Fprintf(progress, "[%2d/%d] %-22s %-8s %-40s %s\n", done, total, r.Scenario, r.Client, r.cell(), mark)
	}
	rep, err := c.collect(ctx, list)
	if err != nil {
		if ctx.Err() != nil {
			return errorf(stderr, "run: interrupted; the browser and every server are stopped, no report written")
		}
		return errorf(stderr, "run: %v", err)
	}
	switch {
	case f.json:
		err = writeJSON(stdout, rep)
	case f.markdown:
		err = writeMarkdown(stdout, rep)
	default:
		writeMatrix(stdout, rep)
	}
	if err != nil {
		return errorf(stderr, "run: %v", err)
	}
	if f.html != "" {
		if err := writeHTMLFile(f.html, rep); err != nil {
			return errorf(stderr, "run: --html: %v", err)
		}
		fmt.Fprintf(progress, "Wrote %s\n", f.html)
	}
	if rep.Mismatches() > 0 {
		return exitMismatch
	}
	return exitOK
}

// checkWritable fails at once when path's directory cannot take a file.
func checkWritable(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".wsslab-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeMatrix prints one row per scenario (each client's outcome, whether it
// was as expected) with the lesson and the fix under it, then a summary.
func writeMatrix(w io.Writer, rep *report) {
	rows := [][]string{{"SCENARIO", "BROWSER (Chrome; reason from DevTools)", "LAX (Postman)", "STRICT (Go)", "AS EXPECTED"}}
	for _, s := range rep.Scenarios {
		row := []string{s.Scenario.ID}
		for _, c := range clientOrder {
			r := s.Result(c)
			cell := r.cell()
			if r.Mismatched() {
				cell = "!" + cell
			}
			row = append(row, cell)
		}
		rows = append(rows, append(row, expectedCell(s)))
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		for i, c := range row {
			if i == len(row)-1 {
				b.WriteString(c)
				break
			}
			fmt.Fprintf(&b, "%-*s  ", widths[i], c)
		}
		fmt.Fprintln(w, b.String())
	}
	line(rows[0])
	for i, s := range rep.Scenarios {
		line(rows[i+1])
		fmt.Fprintf(w, "    why: %s\n    fix: %s\n", firstSentence(s.Scenario.Lesson), firstSentence(s.Scenario.Fix))
	}
	fmt.Fprintln(w)
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			if r.Mismatched() {
				fmt.Fprintf(w, "DIFFERS %s/%s: got %s, want %s\n", s.Scenario.ID, r.Client, r.got(), r.Expected)
			}
		}
	}
	fmt.Fprintln(w, summaryLine(rep))
}

func expectedCell(s scenarioRun) string {
	var bad, skipped []string
	for _, r := range s.Results {
		switch {
		case !r.Ran():
			skipped = append(skipped, r.Client)
		case !r.Matched:
			bad = append(bad, r.Client)
		}
	}
	switch {
	case len(bad) > 0:
		return "NO (" + strings.Join(bad, ", ") + ")"
	case len(skipped) > 0:
		return "yes (" + strings.Join(skipped, ", ") + " skipped)"
	}
	return "yes"
}

func summaryLine(rep *report) string {
	ran, skipped := rep.Count()
	var b strings.Builder
	if n := rep.Mismatches(); n > 0 {
		fmt.Fprintf(&b, "%d of %d results differed from expectation.", n, ran)
	} else {
		fmt.Fprintf(&b, "%d scenarios, %d results, all as expected.", len(rep.Scenarios), ran)
	}
	if skipped > 0 {
		fmt.Fprintf(&b, " %d skipped (browser column: --no-browser).", skipped)
	}
	chrome := rep.ChromeVersion
	if chrome == "" {
		chrome = "no browser"
	}
	fmt.Fprintf(&b, " %s, %s, %s backend.", chrome, rep.GoVersion, rep.Backend)
	return b.String()
}
