package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

func init() {
	register("run", "run the scenario table: real Chrome vs a Postman-like client vs a strict Go client", cmdRun)
}

func cmdRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	scen := fs.String("scenario", "", "comma-separated scenario ids or globs (e.g. 'self-signed,ip-*'); default all")
	noBrowser := fs.Bool("no-browser", false, "skip the browser column (it is reported as skipped)")
	bf := addBackendFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: wsslab run [flags]\n\nRuns each scenario's server and dials it with the browser, the lax and the strict client.\nExit status: 0 all outcomes as expected, 1 some differed, 2 bad input or setup failure.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		return fail("run: unexpected argument %q", fs.Arg(0))
	}
	var patterns []string
	if *scen != "" {
		patterns = strings.Split(*scen, ",")
	}
	list, err := scenarios.Select(patterns...)
	if err != nil {
		return fail("run: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	lab, err := scenarios.NewLab()
	if err != nil {
		return fail("run: %v", err)
	}
	defer lab.Close()
	backend, release, err := bf.open(ctx)
	if err != nil {
		return fail("run: %v", err)
	}
	defer release()
	lab.Backend = backend
	var clients []harness.Client
	if !*noBrowser {
		fmt.Fprintln(os.Stderr, "starting headless Chromium ...")
		b, err := lab.Browser(ctx)
		if err != nil {
			return fail("run: %v", err)
		}
		clients = append(clients, b)
	}
	clients = append(clients, lab.Lax, lab.Strict)
	n := 0
	results, err := lab.Run(ctx, list, clients, func(r scenarios.Result) {
		n++
		fmt.Fprintf(os.Stderr, "[%d/%d] %s %s: %s\n", n, len(list)*len(clients), r.Scenario, r.Client, r.Outcome)
	})
	if err != nil {
		return fail("run: %v", err)
	}
	printMatrix(os.Stdout, list, results)
	for _, r := range results {
		if !r.Matched {
			return exitMismatch
		}
	}
	return exitOK
}

// printMatrix prints one row per scenario: each client's outcome, the
// browser's net error, whether everything matched expectation.
func printMatrix(w io.Writer, list []scenarios.Scenario, results []scenarios.Result) {
	by := map[string]map[string]scenarios.Result{}
	for _, r := range results {
		if by[r.Scenario] == nil {
			by[r.Scenario] = map[string]scenarios.Result{}
		}
		by[r.Scenario][r.Client] = r
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tBROWSER (Chrome)\tNET ERROR (hidden from the page)\tLAX (Postman)\tSTRICT (Go)\tAS EXPECTED")
	for _, sc := range list {
		row := by[sc.ID]
		cell := func(client string) string {
			r, ok := row[client]
			if !ok {
				return "skipped"
			}
			return string(r.Outcome)
		}
		matched := "yes"
		for _, r := range row {
			if !r.Matched {
				matched = "NO"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", sc.ID, cell(harness.BrowserClient), row[harness.BrowserClient].NetError,
			cell(harness.LaxClient), cell(harness.StrictClient), matched)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, sc := range list {
		fmt.Fprintf(w, "%s: %s\n  why: %s\n  fix: %s\n", sc.ID, sc.Description, sc.Lesson, sc.Fix)
	}
}
