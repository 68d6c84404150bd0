package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// writeMarkdown renders the report for a README, an issue or a blog post:
// the matrix as a table, then each scenario's lesson, fix and the browser's
// console line.
func writeMarkdown(w io.Writer, rep *report) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# wsslab: browser vs Postman\n\n%s\n\n", summaryLine(rep))
	fmt.Fprintln(b, "| scenario | browser (Chrome) | lax (Postman) | strict (Go) | as expected |")
	fmt.Fprintln(b, "|---|---|---|---|---|")
	for _, s := range rep.Scenarios {
		fmt.Fprintf(b, "| [`%s`](#%s) |", s.Scenario.ID, s.Scenario.ID)
		for _, c := range clientOrder {
			r := s.Result(c)
			cell := string(r.Outcome)
			if !r.Ran() {
				cell = string(Skipped)
			}
			if r.NetError != "" {
				cell += " `" + mdEscape(r.NetError) + "`"
			}
			if r.Mismatched() {
				cell = "**" + cell + "** (want " + mdEscape(r.Expected.String()) + ")"
			}
			fmt.Fprintf(b, " %s |", cell)
		}
		fmt.Fprintf(b, " %s |\n", expectedCell(s))
	}
	for _, s := range rep.Scenarios {
		sc := s.Scenario
		fmt.Fprintf(b, "\n## %s\n\n%s (%s)\n\n", sc.ID, sc.Description, sc.Kind)
		if br := s.Result("browser"); br.Ran() && br.Err != "" {
			fmt.Fprintf(b, "Browser console:\n\n```\n%s\n```\n\n", br.Err)
		}
		fmt.Fprintf(b, "**Why.** %s\n\n**Fix.** %s\n", sc.Lesson, sc.Fix)
	}
	return b.Flush()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
