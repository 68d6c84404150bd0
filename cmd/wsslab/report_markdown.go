package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/wsslab/wsslab/harness"
)

// writeMarkdown renders the report for a README, an issue or a blog post:
// the matrix as a table (a column per client), then each scenario's lesson,
// fix and each browser's console line.
func writeMarkdown(w io.Writer, rep *report) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# wsslab: browser vs Postman\n\n%s\n\n", summaryLine(rep))
	head, rule := "| scenario |", "|---|"
	var legend []string
	for _, c := range rep.Clients {
		head += " " + mdEscape(c.ID) + " |"
		rule += "---|"
		legend = append(legend, fmt.Sprintf("`%s` = %s (%s)", c.ID, c.Name, c.Class))
	}
	fmt.Fprintf(b, "Columns: %s.\n\n", strings.Join(legend, "; "))
	fmt.Fprintln(b, head+" as expected |")
	fmt.Fprintln(b, rule+"---|")
	for _, s := range rep.Scenarios {
		fmt.Fprintf(b, "| [`%s`](#%s) |", s.Scenario.ID, s.Scenario.ID)
		for _, r := range s.Results {
			cell := r.cell()
			if r.Ran() && r.Reason != "" {
				cell += " `" + mdEscape(r.Reason) + "`"
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
		for i, r := range s.Results {
			if c := rep.Clients[i]; c.Class == harness.BrowserClass && r.Ran() && r.Error != "" {
				fmt.Fprintf(b, "%s console:\n\n```\n%s\n```\n\n", c.Name, r.Error)
			}
		}
		fmt.Fprintf(b, "**Why.** %s\n\n**Fix.** %s\n", sc.Lesson, sc.Fix)
	}
	return b.Flush()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
