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
	"slices"
	"strings"
	"syscall"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/container"
	"github.com/wsslab/wsslab/scenarios"
)

func init() {
	register("run", "run the scenario table with every client: real Chrome, a Postman-like client, a strict Go client", cmdRun)
}

// selectScenarios picks the rows to run. Tests replace it to run a row with
// a deliberately wrong expectation without touching the table.
var selectScenarios = scenarios.SelectFrom

const runUsage = `usage: wsslab run [flags]

Starts each scenario's WSS echo server (a certificate or server set up the
way real deployments get it wrong, or right for the controls), dials it with
every client and compares what each saw with what the real clients were
measured to do (the columns; --clients picks some, --list shows them):

  chrome   headless Chromium, trusting only this run's test root through a
           throwaway NSS database; its reason (net::ERR_...) is read from
           DevTools, because the page itself only sees close code 1006
  lax      verification off, no Origin header: Postman's defaults
  strict   a Go client verifying against the test root

Progress goes to stderr. Then stdout gets an aligned matrix with each
scenario's reasons, lesson and fix (or JSON / Markdown with --json /
--markdown).

Exit status: 0 every outcome as expected, 1 some outcome differed,
2 bad input or setup failure (no browser, no Docker for --backend container).

Examples:
  wsslab run
  wsslab run --scenario 'self-signed,ip-*' --clients chrome,strict
  wsslab run --list
  wsslab run --json > run.json           # fields documented in README.md
  wsslab run --html report.html          # self-contained, with screenshots
  wsslab run --backend container --scenario 'nginx-*'
  wsslab run --server-cmd 'node server.js --port {port} --cert {fullchain} --key {key}'

--server-cmd runs YOUR server (sh -c, its own process group) for each
scenario with that scenario's certificate in certbot's layout, waits until
its port answers TLS (or prints --server-ready TEXT), and stops it (SIGTERM,
then SIGKILL). Rows that differ only in their certificate are graded; rows
built on wsslab's echo server's behaviour (Origin check, subprotocols, auth)
run against your server as it is and are reported "not graded"; rows that
need a plain ws://, a TLS-1.0-only server or the echo server's /login are
skipped with the reason.

Flags:
`

type runFlags struct {
	scenario, clients, html   string
	noBrowser, json, markdown bool
	quiet, list               bool
	backend                   *backendFlags
}

func cmdRun(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
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
	fs.StringVar(&f.clients, "clients", "", "comma-separated client ids, the matrix's columns, e.g. 'chrome,strict' (default: all: "+strings.Join(scenarios.ClientIDs(), ",")+")")
	fs.BoolVar(&f.list, "list", false, "list the scenario ids (with their kind) and the client ids, and exit")
	f.backend = addBackendFlags(fs)
	fs.BoolVar(&f.noBrowser, "no-browser", false, "do not start a browser; browser columns are reported as skipped")
	fs.BoolVar(&f.json, "json", false, "print the results as JSON on stdout instead of the matrix")
	fs.BoolVar(&f.markdown, "markdown", false, "print the results as Markdown on stdout instead of the matrix")
	fs.StringVar(&f.html, "html", "", "also write a self-contained HTML report (chains, console lines, screenshots) to `FILE`")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	if code, ok := parseFlags(fs, runUsage, args, stdout, stderr); !ok {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if fs.NArg() > 0 {
		return errorf(stderr, "run: unexpected argument %q (scenarios go in --scenario)", fs.Arg(0))
	}
	if err := f.backend.check(set); err != nil {
		return errorf(stderr, "run: %v", err)
	}
	if f.json && f.markdown {
		return errorf(stderr, "run: choose one of --json and --markdown")
	}
	if f.list {
		writeList(stdout)
		return exitOK
	}
	patterns, err := splitList(f.scenario, set["scenario"])
	if err != nil {
		return errorf(stderr, "run: --scenario: %v", err)
	}
	ids, err := splitList(f.clients, set["clients"])
	if err != nil {
		return errorf(stderr, "run: --clients: %v", err)
	}
	clients, err := scenarios.SelectClients(ids...)
	if err != nil {
		return errorf(stderr, "run: --clients: %v", err)
	}
	// Container rows run only in wsslab's own containers.
	all := scenarios.Table
	if f.backend.ownContainers() {
		all = scenarios.All()
	}
	list, err := selectScenarios(all, patterns...)
	if err != nil {
		var only *scenarios.ContainerOnlyError
		if errors.As(err, &only) {
			return errorf(stderr, "run: %v: add --backend container", err)
		}
		return errorf(stderr, "run: %v", err)
	}
	if set["html"] {
		// Fail before minutes of work, not after.
		if err := checkWritable(f.html); err != nil {
			return errorf(stderr, "run: --html: %v", err)
		}
	}
	backend, release, err := f.backend.open(ctx, stderr)
	if err != nil {
		return errorf(stderr, "run: %v", err)
	}
	defer release()
	lab, err := scenarios.NewLab()
	if err != nil {
		return errorf(stderr, "run: %v", err)
	}
	lab.Backend = backend
	if cb, ok := backend.(*container.Backend); ok {
		lab.Backend = cb.Topologies()
	}
	lab.Screenshots = f.html != ""
	defer lab.Close()

	progress := stderr
	if f.quiet {
		progress = io.Discard
	}
	if f.backend.serverCmd() {
		wrap(progress, "", "Note: --server-cmd: rows that differ only in their certificate are graded against the table; rows "+
			"that need wsslab's echo server (Origin check, subprotocols, auth, missing-intermediate's leaf-only chain) run against "+
			"your server as it is and are reported ungraded; rows needing a plain ws:// or TLS-1.0-only server, or the echo server's /login, are skipped.")
	}
	// A column whose runtime is missing is skipped, naming the install
	// command; under CI=true it fails the run.
	cfg := scenarios.RunConfig{Scenarios: list, Clients: clients, Skip: map[string]string{}, SkipMissing: true}
	for _, c := range clients {
		if f.noBrowser && c.Class == harness.BrowserClass {
			cfg.Skip[c.ID] = "--no-browser"
		} else if c.Class == harness.BrowserClass {
			fmt.Fprintf(progress, "Starting %s (trusting only this run's test root) ...\n", c.Name)
		}
	}
	total, done := len(list)*len(clients), 0
	cfg.Progress = func(r scenarios.Result) {
		done++
		cr := clientResult{Result: r}
		mark := "as expected"
		switch {
		case !cr.Ran():
			mark = "skipped (" + r.Skip + ")"
		case r.Ungraded != "":
			mark = "not graded (your server)"
		case !r.Matched:
			mark = "DIFFERS: want " + r.Expected.String()
		}
		fmt.Fprintf(progress, "[%2d/%d] %-24s %-7s %-38s %s\n", done, total, r.Scenario, r.Client, strings.TrimSpace(cr.cell()+" "+r.Reason), mark)
	}
	rep, err := collect(ctx, lab, cfg)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return errorf(stderr, "run: interrupted; the browser and every server are stopped, no report written")
		case errors.Is(err, harness.ErrNoBrowser):
			return errorf(stderr, "run: %v; or rerun with --no-browser to skip the browser column", err)
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

// splitList splits a comma-separated flag value. A flag given but naming
// nothing ("" or ",") is an error, not "all".
func splitList(v string, given bool) ([]string, error) {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if given && len(out) == 0 {
		return nil, fmt.Errorf("%q names nothing (leave the flag out for all)", v)
	}
	return out, nil
}

// writeList prints every scenario id with its kind (container rows marked)
// and every client id with its class.
func writeList(w io.Writer) {
	fmt.Fprintln(w, "SCENARIOS (--scenario)")
	for _, sc := range scenarios.All() {
		note := ""
		if sc.Topology != nil {
			note = "  (--backend container)"
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-28s %-16s%s", sc.ID, sc.Kind, note), " "))
	}
	fmt.Fprintln(w, "CLIENTS (--clients)")
	for _, c := range scenarios.Clients {
		fmt.Fprintf(w, "  %-28s %-16s%s\n", c.ID, c.Class, c.Name)
	}
}

// checkWritable fails at once when path cannot be written: no name, a
// directory that does not exist or is not writable. The messages name the
// user's path, never the probe file.
func checkWritable(path string) error {
	if path == "" {
		return errors.New("needs a file name")
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%s: directory %s does not exist", path, dir)
	} else if !fi.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	f, err := os.CreateTemp(dir, ".wsslab-check-*")
	if err != nil {
		return fmt.Errorf("%s: directory %s is not writable", path, dir)
	}
	f.Close()
	return os.Remove(f.Name())
}

// matrixWidth is what the matrix and the lines under its rows keep within.
const matrixWidth = 120

// shortOutcome are the outcome classes in at most 10 letters, for a matrix
// with many columns; outcomeOrder is the legend's order.
var (
	shortOutcome = map[harness.Outcome]string{
		harness.Connected: "connected", harness.CertUntrusted: "untrusted", harness.CertNameMismatch: "bad-name",
		harness.CertDateInvalid: "bad-date", harness.CertInvalid: "bad-cert", harness.TLSFailed: "tls-failed",
		harness.HandshakeRejected: "rejected", harness.HandshakeInvalid: "bad-101", harness.Blocked: "blocked",
		harness.Unreachable: "no-connect", harness.NoEcho: "no-echo", harness.Failed: "failed",
	}
	outcomeOrder = []harness.Outcome{
		harness.Connected, harness.CertUntrusted, harness.CertNameMismatch, harness.CertDateInvalid, harness.CertInvalid,
		harness.TLSFailed, harness.HandshakeRejected, harness.HandshakeInvalid, harness.Blocked, harness.Unreachable,
		harness.NoEcho, harness.Failed,
	}
)

// writeMatrix prints one row per scenario (each client's outcome, whether it
// was as expected), with the reasons, the lesson and the fix under it, then
// a summary. Columns are the report's clients, by id.
func writeMatrix(w io.Writer, rep *report) {
	header := []string{"SCENARIO"}
	for _, c := range rep.Clients {
		header = append(header, strings.ToUpper(c.ID))
	}
	rows := [][]string{append(header, "AS EXPECTED")}
	for _, s := range rep.Scenarios {
		row := []string{s.Scenario.ID}
		for _, r := range s.Results {
			cell := r.cell()
			if r.Mismatched() {
				cell = "!" + cell
			}
			row = append(row, cell)
		}
		rows = append(rows, append(row, expectedCell(s)))
	}
	widths := make([]int, len(rows[0]))
	measure := func() int {
		clear(widths)
		for _, row := range rows {
			for i, c := range row {
				widths[i] = max(widths[i], len(c))
			}
		}
		total := 0
		for _, n := range widths {
			total += n + 2
		}
		return total - 2
	}
	// Too wide for the terminal (many columns): outcomes in short words
	// (a legend says which), "as expected" as one word with its clients on
	// the line under the row.
	var notes []string
	compact := measure() > matrixWidth
	if compact {
		notes = make([]string, len(rows))
		for _, row := range rows[1:] {
			for i := 1; i < len(row)-1; i++ {
				mark, out := "", row[i]
				if strings.HasPrefix(out, "!") {
					mark, out = "!", out[1:]
				}
				if short, ok := shortOutcome[harness.Outcome(out)]; ok {
					row[i] = mark + short
				}
			}
		}
		for i, row := range rows[1:] {
			last := len(row) - 1
			if word, rest, ok := strings.Cut(row[last], " ("); ok {
				row[last], notes[i+1] = word, strings.TrimSuffix(rest, ")")
			}
		}
		rows[0][len(rows[0])-1] = "OK?"
		measure()
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
	var legend []string
	for _, c := range rep.Clients {
		legend = append(legend, fmt.Sprintf("%s = %s [%s]", c.ID, c.Name, c.Class))
	}
	wrap(w, "", "Columns: "+strings.Join(legend, "; ")+".")
	if compact {
		var words []string
		for _, o := range outcomeOrder {
			if shortOutcome[o] != string(o) {
				words = append(words, shortOutcome[o]+" = "+string(o))
			}
		}
		wrap(w, "", "Outcomes, shortened to fit: "+strings.Join(words, ", ")+"; ! = not as expected; OK? = as expected.")
	}
	fmt.Fprintln(w)
	line(rows[0])
	for i, s := range rep.Scenarios {
		line(rows[i+1])
		if compact && notes[i+1] != "" {
			wrap(w, "    ", "as expected: "+rows[i+1][len(rows[i+1])-1]+" ("+notes[i+1]+")")
		}
		var reasons []string
		for _, r := range s.Results {
			if r.Ran() && r.Reason != "" {
				reasons = append(reasons, r.Client+": "+r.Reason)
			}
		}
		if len(reasons) > 0 {
			wrap(w, "    ", "reason: "+strings.Join(reasons, "; "))
		}
		if s.Note != "" {
			wrap(w, "    ", "server: "+s.Note)
		}
		if s.Skip != "" {
			wrap(w, "    ", "skipped: "+s.Skip)
		} else if why := s.ungraded(); why != "" {
			wrap(w, "    ", "not graded: "+why)
		}
		wrap(w, "    ", "why: "+firstSentence(s.Scenario.Lesson))
		wrap(w, "    ", "fix: "+firstSentence(s.Scenario.Fix))
	}
	fmt.Fprintln(w)
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			if r.Mismatched() {
				wrap(w, "", fmt.Sprintf("DIFFERS %s/%s: got %s, want %s", s.Scenario.ID, r.Client, r.got(), r.Expected))
			}
		}
	}
	wrap(w, "", summaryLine(rep))
}

// wrap prints text in lines of at most matrixWidth columns, each starting
// with indent (continuations indented two more). A word longer than a line
// gets a line of its own.
func wrap(w io.Writer, indent, text string) {
	cur := indent
	for _, word := range strings.Fields(text) {
		if len(cur) > len(indent) && !strings.HasSuffix(cur, " ") && len(cur)+1+len(word) > matrixWidth {
			fmt.Fprintln(w, cur)
			cur = indent + "  "
		}
		if len(cur) > 0 && !strings.HasSuffix(cur, " ") {
			cur += " "
		}
		cur += word
	}
	fmt.Fprintln(w, cur)
}

func expectedCell(s scenarioRun) string {
	var bad, skipped, ungraded []string
	for _, r := range s.Results {
		switch {
		case !r.Ran():
			skipped = append(skipped, r.Client)
		case r.Ungraded != "":
			ungraded = append(ungraded, r.Client)
		case !r.Matched:
			bad = append(bad, r.Client)
		}
	}
	switch {
	case len(ungraded) > 0 && len(bad) == 0 && len(skipped) == 0:
		return "not graded"
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
	ungraded := rep.Ungraded()
	if n := rep.Mismatches(); n > 0 {
		fmt.Fprintf(&b, "%d of %d results differed from expectation.", n, ran-ungraded)
	} else {
		fmt.Fprintf(&b, "%d scenarios, %d results, all as expected.", len(rep.Scenarios), ran-ungraded)
	}
	if ungraded > 0 {
		fmt.Fprintf(&b, " %d not graded (your server, not wsslab's echo server).", ungraded)
	}
	if skipped > 0 {
		var why []string
		for _, s := range rep.Scenarios {
			if s.Skip != "" { // the backend did not run the row's server
				why = append(why, s.Scenario.ID+": "+s.Skip)
				continue
			}
			for _, r := range s.Results {
				if !r.Ran() && !slices.Contains(why, r.Client+": "+r.Skip) {
					why = append(why, r.Client+": "+r.Skip)
				}
			}
		}
		fmt.Fprintf(&b, " %d skipped (%s).", skipped, strings.Join(why, "; "))
	}
	fmt.Fprintf(&b, " %s, %s backend.", rep.versions(), rep.Backend)
	return b.String()
}
