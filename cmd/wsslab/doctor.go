package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wsslab/wsslab/doctor"
	"github.com/wsslab/wsslab/harness"
)

func init() {
	register("doctor", "diagnose a live wss:// endpoint and predict what Chrome will say", cmdDoctor)
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

type doctorFlags struct {
	cas, resolves, protos, cookies listFlag
	timeout                        time.Duration
	warnDays                       int
	jsonOut, browser               bool
	noSystem                       bool
	origin                         string
	originSet                      bool // --origin given on the command line
}

const doctorUsage = `usage: wsslab doctor [flags] URL

Examines a wss:// (or https://, ws://) endpoint: the certificate chain it sends,
names, dates, keys, TLS versions, the WebSocket upgrade with and without an
Origin header. Prints what Chrome will do (connects, or the exact net::ERR_...)
and each finding with its fix.

--browser also dials with real headless Chromium and Firefox and prints one
line per browser: Chrome's real verdict (agreeing with the prediction or not)
and Firefox's, with its own reason (an NSS code such as
SEC_ERROR_UNKNOWN_ISSUER). A Note says when Firefox is skipped (not
installed, or --resolve sends a name elsewhere than 127.0.0.1).

--timeout bounds the whole examination, not each step: every dial, handshake,
fetch and read shares it, so doctor ends within about --timeout.

Exit status: 0 Chrome would connect (with --browser: real Chrome did), 1 it
would not, 2 doctor could not examine the endpoint (bad input, refused,
unreachable, no answer in time), 130 interrupted (SIGINT), 143 terminated
(SIGTERM).

Flags:
`

func doctorFlagSet(o *doctorFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	// Errors are reported by parseDoctorArgs as one ERROR line; --help prints
	// doctorUsage on stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.Var(&o.cas, "ca", "trust this PEM/DER root too (repeatable), e.g. a company CA or wsslab's root.pem")
	fs.Var(&o.resolves, "resolve", "HOST:PORT:ADDR: connect to ADDR for HOST:PORT, like curl (repeatable); SNI and name checks still use HOST")
	fs.Var(&o.protos, "subprotocol", "offer this WebSocket subprotocol, as new WebSocket(url, [proto]) does (repeatable)")
	fs.Var(&o.cookies, "cookie", "send this `NAME=VALUE` cookie with the handshake, as a browser holding it would (repeatable)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "limit for the whole examination (1ms to 5m); --browser adds the browsers' own dial to it")
	fs.IntVar(&o.warnDays, "warn-days", doctor.WarnDays, "warn when the certificate expires within this many days")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&o.browser, "browser", false, "also dial with real headless Chromium and Firefox (each its built-in roots plus --ca) and show their verdicts")
	fs.BoolVar(&o.noSystem, "no-system-roots", false, "trust only --ca roots (as a browser with an empty root store)")
	fs.StringVar(&o.origin, "origin", doctor.DefaultOrigin, "Origin header of the page that opens the socket")
	return fs
}

// parseDoctorArgs accepts flags before and after the URL.
func parseDoctorArgs(args []string, o *doctorFlags) (string, error) {
	var url string
	fs := doctorFlagSet(o)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", fmt.Errorf("doctor: %v (see wsslab doctor --help)", err)
		}
		if fs.NArg() == 0 {
			break
		}
		if url != "" {
			return "", fmt.Errorf("doctor: one URL at a time (got %q and %q)", url, fs.Arg(0))
		}
		url, args = fs.Arg(0), fs.Args()[1:]
	}
	if url == "" {
		return "", errors.New("doctor: no URL given: wsslab doctor wss://HOST[:PORT]/PATH")
	}
	fs.Visit(func(f *flag.Flag) { o.originSet = o.originSet || f.Name == "origin" })
	return url, nil
}

// Exit codes for a signal, 128 + its number as shells report it.
const (
	exitInterrupted = 130 // SIGINT
	exitTerminated  = 143 // SIGTERM
)

func cmdDoctor(args []string) int {
	// SIGINT and SIGTERM cancel the examination (every dial and read) and
	// the browser at once.
	intCtx, stopInt := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stopInt()
	ctx, stopTerm := signal.NotifyContext(intCtx, syscall.SIGTERM)
	defer stopTerm()
	code := runDoctor(ctx, args, os.Stdout, os.Stderr)
	if ctx.Err() != nil {
		if intCtx.Err() != nil {
			return exitInterrupted
		}
		return exitTerminated
	}
	return code
}

// validateDoctorFlags checks what the flags hold before anything connects.
func validateDoctorFlags(o *doctorFlags) error {
	if o.timeout < time.Millisecond || o.timeout > 5*time.Minute {
		return fmt.Errorf("doctor: --timeout %s: must be between 1ms and 5m", o.timeout)
	}
	if !doctor.ValidHeaderValue(o.origin) {
		return fmt.Errorf("doctor: --origin %q: control characters (CR, LF) are not allowed in a header", oneLine(o.origin))
	}
	for _, c := range o.cookies {
		if !doctor.ValidHeaderValue(c) {
			return fmt.Errorf("doctor: --cookie %q: control characters (CR, LF) are not allowed in a header", oneLine(c))
		}
	}
	for _, p := range o.protos {
		if !doctor.ValidSubprotocol(p) {
			return fmt.Errorf("doctor: --subprotocol %q: not a token (letters, digits and !#$%%&'*+-.^_`|~ only); new WebSocket() throws a SyntaxError for it", oneLine(p))
		}
	}
	return nil
}

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o doctorFlags
	url, err := parseDoctorArgs(args, &o)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, doctorUsage)
			fs := doctorFlagSet(&doctorFlags{})
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return exitOK
		}
		fmt.Fprintln(stderr, "ERROR: "+err.Error())
		return exitUsage
	}
	if err := validateDoctorFlags(&o); err != nil {
		fmt.Fprintln(stderr, "ERROR: "+err.Error())
		return exitUsage
	}
	cfg := doctor.Config{URL: url, Timeout: o.timeout, WarnDays: o.warnDays, Origin: o.origin, Subprotocols: o.protos, Cookie: strings.Join(o.cookies, "; "), NoSystemRoots: o.noSystem}
	for _, r := range o.resolves {
		res, err := doctor.ParseResolve(r)
		if err != nil {
			fmt.Fprintln(stderr, "ERROR: doctor: --resolve "+err.Error())
			return exitUsage
		}
		cfg.Resolve = append(cfg.Resolve, res)
	}
	for _, f := range o.cas {
		certs, err := doctor.LoadCA(f)
		if err != nil {
			fmt.Fprintln(stderr, "ERROR: doctor: --ca "+err.Error())
			return exitUsage
		}
		cfg.Private = append(cfg.Private, certs...)
	}
	if _, err := doctor.ParseURL(url); err != nil {
		fmt.Fprintln(stderr, "ERROR: doctor: "+err.Error())
		return exitUsage
	}
	interrupted := func() int {
		fmt.Fprintln(stderr, "ERROR: doctor: interrupted")
		return exitUsage
	}
	var bc *doctor.BrowserCheck
	var ff *firefoxStart
	if o.browser {
		// Firefox starts beside Chromium (each takes seconds), when it can
		// dial as Chrome does; otherwise one Note says why not.
		ff = startFirefoxCheck(ctx, stderr, url, &o, cfg)
		defer ff.close()
		bc, err = doctor.StartBrowserCheck(ctx, cfg.Private, cfg.Resolve, o.timeout+5*time.Second, o.origin)
		if err != nil {
			if ctx.Err() != nil {
				return interrupted()
			}
			if errors.Is(err, harness.ErrNoBrowser) {
				fmt.Fprintln(stderr, "ERROR: doctor: --browser: "+err.Error())
			} else {
				fmt.Fprintln(stderr, "ERROR: doctor: --browser: cannot start Chromium: "+oneLine(err.Error()))
			}
			return exitUsage
		}
		defer bc.Close()
		// doctor's page is served at --origin, so Chrome sends it; an
		// origin no page can have (http://, an IP, a path) cannot be, and
		// doctor says so rather than drop it silently.
		if o.originSet && o.origin != bc.Origin() {
			fmt.Fprintf(stderr, "Note: --browser: Chrome cannot send the Origin %s (doctor serves its page only at an https://NAME[:PORT] origin), so it sends %s and the prediction uses it too; run without --browser to check --origin %s\n", o.origin, bc.Origin(), o.origin)
		}
		cfg.Origin = bc.Origin()
	}
	rep, err := doctor.Examine(ctx, cfg)
	if ctx.Err() != nil {
		return interrupted()
	}
	if err != nil {
		fmt.Fprintln(stderr, examineErrorLine(err))
		return exitUsage
	}
	var firefox *doctor.FirefoxResult
	if bc != nil {
		if strings.HasPrefix(rep.URL, "https://") {
			fmt.Fprintln(stderr, "Note: --browser dials WebSocket URLs only; skipped for https://")
		} else {
			// Both browsers dial at once; each has its own page and state.
			ffDone := make(chan struct{})
			go func() {
				defer close(ffDone)
				firefox = ff.dial(ctx, stderr, rep, cfg.Subprotocols, bc.Origin())
			}()
			rep.Observed = bc.Dial(ctx, rep, cfg.Subprotocols)
			<-ffDone
			if ctx.Err() != nil {
				return interrupted()
			}
		}
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doctorJSON{rep, firefox}); err != nil {
			fmt.Fprintln(stderr, "ERROR: doctor: "+err.Error())
			return exitUsage
		}
	} else {
		printReport(stdout, rep, firefox)
	}
	verdict := rep.Prediction.Verdict
	if rep.Observed != nil {
		verdict = rep.Observed.Verdict
	}
	if verdict == "connects" {
		return exitOK
	}
	return exitMismatch
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func printReport(w io.Writer, r *doctor.Report, firefox *doctor.FirefoxResult) {
	fmt.Fprintf(w, "wsslab doctor %s\n", r.URL)
	addr := r.Address
	if r.SNI != "" {
		addr += " (SNI " + r.SNI + ")"
	}
	fmt.Fprintf(w, "  address    %s\n", addr)
	if t := r.TLS; t != nil {
		var acc []string
		for _, v := range []string{"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"} {
			if t.Versions[v] {
				acc = append(acc, v)
			}
		}
		got := t.Version + " " + t.CipherSuite
		if t.Version == "" {
			got = "no handshake completed"
		}
		fmt.Fprintf(w, "  tls        %s; server accepts %s\n", got, orNone(strings.Join(acc, ", ")))
	}
	if c := r.Chain; c != nil {
		for i, ci := range c.Served {
			label := "  sent"
			if i > 0 {
				label = "      "
			}
			if ci.Error != "" {
				fmt.Fprintf(w, "%s #%d   unparseable: %s\n", label, i, ci.Error)
				continue
			}
			fmt.Fprintf(w, "%s #%d   %s  [%s, %s, until %s] issuer %s\n", label, i, ci.Subject, ci.Position, ci.Key, ci.NotAfter.Format("2006-01-02"), ci.Issuer)
			if i == 0 && len(ci.SANs) > 0 {
				fmt.Fprintf(w, "             SAN %s\n", strings.Join(ci.SANs, ", "))
			}
		}
		root := "no trusted root"
		if c.Anchored {
			root = "root " + c.Path[len(c.Path)-1].Subject
			if !c.KnownRoot {
				root += " (--ca)"
			}
		}
		fmt.Fprintf(w, "  path       %d certificate(s) to %s\n", len(c.Path), root)
	}
	if ws := r.WebSocket; ws != nil {
		for _, h := range []*doctor.Handshake{ws.WithOrigin, ws.WithoutOrigin} {
			if h == nil {
				continue
			}
			who := "without Origin (like Postman)"
			if h.Origin != "" {
				who = "with Origin " + h.Origin
			}
			res := fmt.Sprintf("HTTP %d", h.Status)
			if h.Status == 0 {
				res = fmt.Sprintf("no HTTP response (%d bytes)", h.Received)
			}
			switch {
			case h.Err != "":
				res = h.Err
			case h.ChromeError != "":
				res += ": Chrome would say " + h.ChromeError
			}
			fmt.Fprintf(w, "  upgrade    %s: %s\n", who, res)
		}
	}
	if o := r.OpenSSL; o != nil {
		res := fmt.Sprintf("Verify return code: %d (%s)", o.Code, o.Text)
		if o.Code < 0 {
			res = o.Text
		}
		fmt.Fprintf(w, "  openssl    %s says %s\n", o.Command, res)
		if o.Misleads != "" {
			fmt.Fprintf(w, "             %s\n", o.Misleads)
		}
		if o.Honest != "" {
			fmt.Fprintf(w, "             honest: %s\n", o.Honest)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Chrome (predicted): %s\n", verdictLine(r.Prediction.Verdict, r.Prediction.NetError, r.Prediction.Outcome))
	if r.Prediction.Console != "" && !r.Prediction.Connects() {
		fmt.Fprintf(w, "  console: %s\n", r.Prediction.Console)
	}
	if c := r.Observed; c != nil {
		versions := c.Version
		if firefox != nil && firefox.Version != "" {
			versions += ", " + firefox.Version
		}
		fmt.Fprintf(w, "Real browsers (%s):\n", versions)
		agree := "agrees with the prediction"
		if !c.Agrees {
			agree = "DISAGREES with the prediction: doctor's model is wrong here, please report it"
		}
		browserLine(w, "chrome", observedLine(c.Verdict, c.NetError, c.Outcome), agree)
		if f := firefox; f != nil {
			switch {
			case f.Skipped != "":
				// The Note on stderr says why, in full (JSON: skipped).
				browserLine(w, "firefox", "skipped", "see the Note on stderr")
			default:
				same := "differs from Chrome's prediction"
				if *f.SameVerdict {
					same = "same verdict as Chrome's prediction"
				}
				browserLine(w, "firefox", observedLine(f.Verdict, f.Reason, f.Outcome), same)
			}
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
	}
	for _, sev := range []doctor.Severity{doctor.Error, doctor.Warn, doctor.Info} {
		for _, f := range r.Findings {
			if f.Severity != sev {
				continue
			}
			fmt.Fprintf(w, "%s: [%s] %s\n", f.Severity, f.Check, f.Message)
			if f.Fix != "" {
				fmt.Fprintf(w, "  fix: %s\n", f.Fix)
			}
			if rc := recheckCommand(f.Recheck, r.URL); rc != "" {
				fmt.Fprintf(w, "  re-check: %s\n", rc)
			}
		}
	}
}

// recheckCommand words a finding's Recheck as the doctor command line.
func recheckCommand(r doctor.Recheck, url string) string {
	flag := map[doctor.Recheck]string{
		doctor.RecheckCA:          "--ca root.pem",
		doctor.RecheckOrigin:      "--origin https://your.app",
		doctor.RecheckSubprotocol: "--subprotocol NAME",
	}[r]
	if flag == "" {
		return ""
	}
	return "wsslab doctor " + flag + " " + url
}

// examineErrorLine is the ERROR line for an examination that could not
// run, with the flag that helps where there is one.
func examineErrorLine(err error) string {
	line := "ERROR: doctor: " + oneLine(err.Error())
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		line += "; to connect somewhere else: --resolve HOST:PORT:ADDR"
	}
	return line
}

// verdictLine is the prediction: "connects", "fails with NET_ERROR".
func verdictLine(verdict, netErr string, o harness.Outcome) string {
	return outcomeLine(verdict, netErr, o, "fails with ")
}

// observedLine is a real browser's verdict: "connects", "fails: REASON".
func observedLine(verdict, reason string, o harness.Outcome) string {
	return outcomeLine(verdict, reason, o, "fails: ")
}

// outcomeLine is a verdict in one phrase: a failure names its reason after
// lead, or its outcome when there is no reason.
func outcomeLine(verdict, reason string, o harness.Outcome, lead string) string {
	switch {
	case verdict == "connects":
		return "connects"
	case reason == "":
		return "fails (" + string(o) + ")"
	}
	return lead + reason
}

// browserLine prints one browser's line, its comment on the next line when
// both would not fit in 119 columns.
func browserLine(w io.Writer, name, verdict, comment string) {
	line := fmt.Sprintf("  %-10s %s (%s)", name, verdict, comment)
	if len(line) < 120 {
		fmt.Fprintln(w, line)
		return
	}
	fmt.Fprintf(w, "  %-10s %s\n             (%s)\n", name, verdict, comment)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// doctorJSON is --json's report: doctor.Report's fields, then
// observed_firefox (what real Firefox did, or why it was skipped) when
// --browser ran. Adding the field kept the schema at 2.
type doctorJSON struct {
	*doctor.Report
	ObservedFirefox *doctor.FirefoxResult `json:"observed_firefox,omitempty"`
}

// firefoxStart is Firefox starting beside Chromium for --browser; nil when
// it does not run (a Note said why).
type firefoxStart struct {
	done chan struct{}
	fc   *doctor.FirefoxCheck
	err  error
	why  string // why Firefox's Origin is not Chrome's, when it is not
	skip string // set before the start: why Firefox does not run
}

// startFirefoxCheck starts Firefox in the background, or prints the one
// Note saying why it does not run and returns a firefoxStart that says
// skipped.
func startFirefoxCheck(ctx context.Context, stderr io.Writer, url string, o *doctorFlags, cfg doctor.Config) *firefoxStart {
	if strings.HasPrefix(url, "https://") {
		// --browser dials WebSocket URLs only: nothing to start.
		return nil
	}
	s := &firefoxStart{done: make(chan struct{})}
	if err := harness.CheckFirefoxTools(); err != nil {
		s.skip = "Firefox not installed (" + oneLine(err.Error()) + ")"
		fmt.Fprintln(stderr, "Note: --browser: "+s.skip+"; Chrome only")
		close(s.done)
		return s
	}
	if why := doctor.FirefoxSkip(ctx, url, cfg.Resolve); why != "" {
		s.skip = "Firefox skipped: " + why
		fmt.Fprintln(stderr, "Note: --browser: "+s.skip+"; Chrome only")
		close(s.done)
		return s
	}
	pageOrigin, why := doctor.FirefoxPageOrigin(o.origin, url)
	s.why = why
	go func() {
		defer close(s.done)
		s.fc, s.err = doctor.StartFirefoxCheck(ctx, cfg.Private, o.timeout+5*time.Second, pageOrigin)
	}()
	return s
}

// dial waits for Firefox and dials with it; the result says skipped (and a
// Note why) when Firefox did not start.
func (s *firefoxStart) dial(ctx context.Context, stderr io.Writer, rep *doctor.Report, protos []string, chromeOrigin string) *doctor.FirefoxResult {
	if s == nil {
		return nil
	}
	<-s.done
	if s.skip != "" {
		return &doctor.FirefoxResult{Skipped: s.skip}
	}
	if s.err != nil {
		if ctx.Err() != nil {
			return nil
		}
		skip := "Firefox skipped: cannot start Firefox: " + oneLine(s.err.Error())
		fmt.Fprintln(stderr, "Note: --browser: "+skip+"; Chrome only")
		return &doctor.FirefoxResult{Skipped: skip}
	}
	if o := s.fc.Origin(); o != chromeOrigin {
		why := s.why
		if why == "" {
			why = "doctor could not serve its page at Chrome's origin"
		}
		fmt.Fprintf(stderr, "Note: --browser: Firefox sends a different Origin, %s, than Chrome's %s: %s\n", o, chromeOrigin, why)
	}
	return s.fc.Dial(ctx, rep, protos)
}

// close stops Firefox, waiting for a start still under way.
func (s *firefoxStart) close() {
	if s == nil {
		return
	}
	<-s.done
	if s.fc != nil {
		s.fc.Close()
	}
}
