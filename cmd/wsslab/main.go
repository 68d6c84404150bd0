// Command wsslab shows, with a real browser, why a wss:// endpoint that works
// in Postman fails in Chrome.
//
//	wsslab run      run the scenario table: browser vs lax vs strict
//	wsslab serve    start every scenario server for manual poking
//	wsslab certs    write a scenario's PEM files (certbot layout)
//	wsslab doctor   diagnose a live wss:// endpoint
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitMismatch = 1 // run: an outcome differed; doctor: the browser would fail
	exitUsage    = 2 // bad input or setup failure
)

type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{}

func register(name, summary string, run func([]string) int) {
	commands[name] = command{summary, run}
}

func main() {
	os.Exit(mainCode(os.Args[1:]))
}

func mainCode(args []string) int {
	if len(args) == 0 {
		// No command is a usage error: the list goes to stderr.
		usage(os.Stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		// Asked for: stdout, like every command's --help.
		usage(os.Stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "ERROR: unknown command %q (want one of: %s); see wsslab --help\n", args[0], strings.Join(names(), ", "))
		return exitUsage
	}
	return c.run(args[1:])
}

func names() []string {
	var n []string
	for k := range commands {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: wsslab COMMAND [flags]\n\nCommands:")
	for _, n := range names() {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'wsslab COMMAND --help' for a command's flags.")
}

// fail prints one ERROR line and returns the usage exit code.
func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "ERROR: "+format+"\n", a...)
	return exitUsage
}
