package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsslab/wsslab/certs"
)

// Process is a backend that runs YOUR server process for each scenario: it
// mints the row's certificate, writes it in certbot's layout (cert.pem,
// chain.pem, fullchain.pem, privkey.pem, root.pem) into a temp dir made by
// MkdirTemp, picks a free loopback port, and starts Cmd with `sh -c` in its
// own process group, placeholders expanded and WSSLAB_* set:
//
//	{port}      WSSLAB_PORT       the TCP port to listen on (bind 127.0.0.1 or 0.0.0.0)
//	{cert}      WSSLAB_CERT       cert.pem: the leaf alone
//	{chain}     WSSLAB_CHAIN      chain.pem: the intermediate(s)
//	{fullchain} WSSLAB_FULLCHAIN  fullchain.pem: leaf + intermediate(s), what a server must send
//	{key}       WSSLAB_KEY        privkey.pem
//	{dir}       WSSLAB_CERT_DIR   the directory of those files
//	{host}      WSSLAB_HOST       the scenario's host name (what clients put in the URL)
//
// It waits until the port completes a TLS handshake (or, with Ready, until
// that text appears on the server's stdout or stderr), within StartTimeout.
// Close sends SIGTERM to the whole group, then SIGKILL after StopGrace
// (saying so on Log), and removes the dir. The group is recorded
// (TrackProcess), so a killed run's leftovers are swept like a browser's.
//
// Which rows run: the table's rows are wsslab's echo server set up in
// different ways. A row whose server differs only in its certificate runs
// and is graded against the table (the clients' verdict depends on the
// certificate, not on which server sends it). A row that needs the echo
// server's behaviour (an Origin check, a required or forced subprotocol,
// an auth check) runs against your server as it is and is reported
// ungraded, as what your server did. A row whose defect is the chain the
// server sends (missing-intermediate) is ungraded too: which file your
// server sends is your command's choice. A row needing a plain ws://
// server or a server limited to old TLS versions is skipped with the
// reason (your server picks its own TLS set-up).
type Process struct {
	// Cmd is a shell command (sh -c), with the placeholders above.
	Cmd string
	// Ready, if set, is text the server prints (stdout or stderr) once it
	// listens; "" waits for a TLS handshake on the port instead.
	Ready string
	// NoEcho: the server does not echo; the clients only connect (a socket
	// that opens counts as connected, whatever comes back).
	NoEcho bool
	// Dir is the command's working directory ("" = this process's).
	Dir string
	// Env is added to the command's environment (KEY=VALUE).
	Env []string
	// TempDir is where the certificate dirs go ("" = os.TempDir()).
	TempDir string
	// StartTimeout bounds the wait for the server to answer (default 20s).
	StartTimeout time.Duration
	// StopGrace is how long Close waits after SIGTERM before SIGKILL
	// (default 3s).
	StopGrace time.Duration
	// Log gets one Warning line per server that had to be killed with
	// SIGKILL (nil = os.Stderr).
	Log io.Writer
}

// Name implements Backend.
func (p Process) Name() string { return "process" }

// ProcessError is a server command that did not come up: it exited, never
// listened, or listened without TLS. Its Error is one line ending with the
// command's last stderr lines.
type ProcessError struct {
	ID   string
	Addr string
	// Problem says what happened, in words.
	Problem string
	// Foreign: what answered on the port was not this row's server (a
	// certificate not the row's, or not TLS): the command's own mistake,
	// or another process on the port.
	Foreign bool
	// Stderr is the command's last lines of stderr (of stdout if stderr
	// was empty).
	Stderr []string
}

func (e *ProcessError) Error() string {
	msg := "your server " + e.Problem
	if len(e.Stderr) == 0 {
		return msg + "; it printed nothing"
	}
	return msg + "; its last output: " + strings.Join(e.Stderr, " | ")
}

// Start implements Backend.
func (p Process) Start(ctx context.Context, spec ServerSpec) (*Endpoint, error) {
	if p.Cmd == "" {
		return nil, errors.New("harness: process backend: no command")
	}
	if spec.Topology != nil {
		return nil, fmt.Errorf("harness: %s: %w", spec.ID, ErrNeedsContainer)
	}
	if why := processDeclines(spec); why != "" {
		return nil, &SkipError{ID: spec.ID, Reason: why}
	}
	if spec.Leaf == nil {
		return nil, fmt.Errorf("harness: %s: no certificate", spec.ID)
	}
	sweepOnce(p.TempDir)
	dir, err := MkdirTemp(p.TempDir, "process")
	if err != nil {
		return nil, fmt.Errorf("harness: %s: %w", spec.ID, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if err := certs.WriteCertbot(dir, spec.Leaf); err != nil {
		return nil, fmt.Errorf("harness: %s: %w", spec.ID, err)
	}
	host := spec.Host
	if host == "" {
		host = "127.0.0.1"
	}
	var (
		port, addr string
		sp         *spawned
		ready      []*x509.Certificate
	)
	// The port is picked free and then released for the command to bind:
	// another process can take it in between (seen in CI, with other test
	// packages' servers: a plain HTTP server answered on the row's port).
	// A picked port whose answer is not this command's (Foreign) is picked
	// again, twice at most; a server that answers that way every time is
	// reported as it is.
	for attempt := 0; ; attempt++ {
		if port, err = freePort(spec.Listen); err != nil {
			return nil, fmt.Errorf("harness: %s: %w", spec.ID, err)
		}
		addr = net.JoinHostPort("127.0.0.1", port)
		vars := map[string]string{
			"port":      port,
			"cert":      filepath.Join(dir, certs.Files.Cert),
			"chain":     filepath.Join(dir, certs.Files.Chain),
			"fullchain": filepath.Join(dir, certs.Files.FullChain),
			"key":       filepath.Join(dir, certs.Files.PrivKey),
			"dir":       dir,
			"host":      host,
		}
		if sp, err = p.spawn(spec.ID, dir, vars); err != nil {
			return nil, err
		}
		if ready, err = p.waitReady(ctx, sp, spec, addr); err == nil {
			break
		}
		sp.stop(p.grace())
		var pe *ProcessError
		if errors.As(err, &pe) && pe.Foreign && spec.Listen == "" && attempt < 2 && ctx.Err() == nil {
			continue
		}
		if errors.As(err, &pe) {
			// This row's server did not come up: reported as the row's,
			// the run goes on (a weak key the server refuses to load).
			why := reasonLine(pe.Stderr)
			if why == "" {
				why = pe.Problem
			}
			return nil, &SkipError{ID: spec.ID, Reason: "your server did not start: " + why, Err: err}
		}
		return nil, err
	}
	ok = true
	ep := &Endpoint{
		URL:         "wss://" + net.JoinHostPort(host, port) + "/",
		Addr:        addr,
		ConnectOnly: p.NoEcho,
		Ungraded:    processUngraded(spec),
		Note:        servedNote(spec.Leaf, ready),
	}
	ep.Close = sync.OnceFunc(func() {
		if sp.stop(p.grace()) {
			fmt.Fprintf(p.log(), "Warning: %s: your server (pid %d) ignored SIGTERM for %s; killed its process group with SIGKILL%s\n",
				spec.ID, sp.cmd.Process.Pid, p.grace(), tailSuffix(sp.tail()))
		}
		KillTracked(dir)
		os.RemoveAll(dir)
	})
	return ep, nil
}

// processDeclines says why a row cannot be set up with a user's server:
// its premise is a server set-up the user's command does not have.
func processDeclines(spec ServerSpec) string {
	o := spec.Options
	switch {
	case o.Plain:
		return "the row needs a plain ws:// server; your server is given TLS files and dialed over wss://"
	case o.MinTLS != 0 || o.MaxTLS != 0:
		return "the row needs a server limited to old TLS versions; your server chooses its own"
	case spec.LoginPath != "":
		// Measured: Node's https server with only a ws WebSocketServer on
		// it never answers a plain GET, and the page's fetch of it holds
		// the browser's whole batch.
		return "the row's page first fetches " + spec.LoginPath + " from the server (wsslab's echo server sets the auth cookie there); your server has no such endpoint"
	}
	return ""
}

// processUngraded says why a row's expectation does not apply to a user's
// server, "" when it does (the row differs only in its certificate).
func processUngraded(spec ServerSpec) string {
	o := spec.Options
	var needs []string
	if o.SameOrigin {
		needs = append(needs, "an Origin check")
	}
	if len(o.Subprotocols) > 0 || o.RequireSubprotocol || o.ForceSubprotocol != "" {
		needs = append(needs, "its subprotocol handling")
	}
	if o.RequireAuth {
		needs = append(needs, "an auth check")
	}
	if len(needs) > 0 {
		return "expected values are wsslab's echo server with " + strings.Join(needs, " and ") + "; this is what your server did"
	}
	if spec.Leaf != nil && len(spec.Leaf.NotServed()) > 0 {
		return "the row's server leaves out the intermediate; which file your server sends (cert.pem or fullchain.pem) is your command's choice"
	}
	return ""
}

func (p Process) grace() time.Duration {
	if p.StopGrace > 0 {
		return p.StopGrace
	}
	return 3 * time.Second
}

func (p Process) log() io.Writer {
	if p.Log != nil {
		return p.Log
	}
	return os.Stderr
}

// freePort is listen's port, or a free loopback port (the kernel's choice,
// released for the server to take; another process could take it first,
// then the server fails to bind and says so).
func freePort(listen string) (string, error) {
	if listen != "" {
		_, port, err := net.SplitHostPort(listen)
		if err != nil || port == "" || port == "0" {
			return "", fmt.Errorf("listen %q: want HOST:PORT with a port", listen)
		}
		return port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// expand replaces {name} with vars[name], shell-quoted when needed; other
// braces are left alone.
func expand(cmd string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(cmd, '{')
		if i < 0 {
			b.WriteString(cmd)
			return b.String()
		}
		j := strings.IndexByte(cmd[i:], '}')
		if j < 0 {
			b.WriteString(cmd)
			return b.String()
		}
		v, ok := vars[cmd[i+1:i+j]]
		if !ok { // not a placeholder: a shell's { ...; } group, say
			b.WriteString(cmd[:i+1])
			cmd = cmd[i+1:]
			continue
		}
		b.WriteString(cmd[:i])
		b.WriteString(shellQuote(v))
		cmd = cmd[i+j+1:]
	}
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:+=@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// spawned is a running server command.
type spawned struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed once the command exited and was reaped
	err    error         // its exit, after done
	stderr *tailWriter
	stdout *tailWriter
	ready  chan struct{} // closed when Ready text appeared
}

func (p Process) spawn(id, dir string, vars map[string]string) (*spawned, error) {
	cmd := exec.Command("/bin/sh", "-c", expand(p.Cmd, vars))
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(),
		"WSSLAB_PORT="+vars["port"],
		"WSSLAB_CERT_DIR="+vars["dir"],
		"WSSLAB_CERT="+vars["cert"],
		"WSSLAB_CHAIN="+vars["chain"],
		"WSSLAB_FULLCHAIN="+vars["fullchain"],
		"WSSLAB_KEY="+vars["key"],
		"WSSLAB_HOST="+vars["host"],
	)
	cmd.Env = append(cmd.Env, p.Env...)
	// Its own group, so Close stops the server and its children; killed
	// with this process (the group's leader, at least: the sweep and
	// TrackProcess take care of the rest, their environment names dir).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	sp := &spawned{cmd: cmd, done: make(chan struct{}), ready: make(chan struct{})}
	var once sync.Once
	onReady := func() { once.Do(func() { close(sp.ready) }) }
	sp.stdout = newTailWriter(p.Ready, onReady)
	sp.stderr = newTailWriter(p.Ready, onReady)
	cmd.Stdout, cmd.Stderr = sp.stdout, sp.stderr
	// A child that keeps the pipes open (a daemon) must not hold Wait.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("harness: %s: start server command: %w", id, err)
	}
	if err := TrackProcess(dir, cmd.Process.Pid); err != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		return nil, err
	}
	go func() {
		sp.err = cmd.Wait()
		// The leader is gone; what is left of its group (a child it
		// started and did not wait for) goes with it. The group id cannot
		// have been reused while the leader was a zombie; now it is freed.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		close(sp.done)
	}()
	return sp, nil
}

// tail is the command's last lines: stderr's, or stdout's if stderr had none.
func (sp *spawned) tail() []string {
	if t := sp.stderr.lines(); len(t) > 0 {
		return t
	}
	return sp.stdout.lines()
}

// stop ends the group: SIGTERM, then SIGKILL after grace. It reports
// whether SIGKILL was needed.
func (sp *spawned) stop(grace time.Duration) (killed bool) {
	pgid := sp.cmd.Process.Pid
	select {
	case <-sp.done:
		return false
	default:
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-sp.done:
		return false
	case <-time.After(grace):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-sp.done
	return true
}

// waitReady waits until the server answers TLS on addr (or prints Ready),
// the command exits, or the deadline passes. It returns the chain the
// server sent (nil when Ready decided).
func (p Process) waitReady(ctx context.Context, sp *spawned, spec ServerSpec, addr string) ([]*x509.Certificate, error) {
	timeout := p.StartTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	fail := func(problem string) error {
		// Stop it first: its last words (a log line about the request
		// that failed) are written by then, and cmd.Wait has copied them.
		sp.stop(p.grace())
		return &ProcessError{ID: spec.ID, Addr: addr, Problem: problem, Stderr: sp.tail()}
	}
	foreign := func(problem string) error {
		err := fail(problem)
		err.(*ProcessError).Foreign = true
		return err
	}
	var last error
	for {
		if p.Ready == "" {
			chain, err := probeTLS(ctx, addr, spec.Host)
			if err == nil && len(chain) > 0 && spec.Leaf != nil && !chain[0].Equal(spec.Leaf.Cert) {
				// What answers is not serving this row's certificate: the
				// command ignores {fullchain}/{key}, or another process
				// took the port before the command bound it. Either way its
				// results would be some other certificate's.
				return nil, foreign(fmt.Sprintf("answers TLS on %s with a certificate that is not this row's (%s): serve the files it is given ({fullchain}, {key}), and let it bind {port} itself", addr, chain[0].Subject))
			}
			if err == nil {
				return chain, nil
			}
			last = err
			var rh tls.RecordHeaderError
			if errors.As(err, &rh) {
				what := "plain TCP"
				if looksHTTP(rh.RecordHeader[:]) {
					what = "plain HTTP"
				}
				return nil, foreign(fmt.Sprintf("listens on %s but speaks %s, not TLS (it answered a TLS ClientHello with %q): give it the certificate ({fullchain}, {key})", addr, what, rh.RecordHeader[:]))
			}
		}
		select {
		case <-sp.ready:
			return nil, nil
		case <-sp.done:
			return nil, fail(fmt.Sprintf("exited (%v) before %s answered TLS", exitText(sp.err), addr))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			if p.Ready != "" {
				return nil, fail(fmt.Sprintf("never printed %q within %s", p.Ready, timeout))
			}
			return nil, fail(fmt.Sprintf("never answered TLS on %s within %s (last: %v); it must listen on that port ({port} or $WSSLAB_PORT) on 127.0.0.1 or 0.0.0.0", addr, timeout, shortNetErr(last)))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// shortNetErr drops the dial's repeated address: "connection refused".
func shortNetErr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return sys.Err.Error()
		}
		return op.Err.Error()
	}
	if err == nil {
		return "none"
	}
	return err.Error()
}

// probeTLS completes one TLS handshake with addr (SNI host) and returns the
// chain the server sent. It is the harness's own readiness probe, not a
// client under test: it does not verify (the clients do).
func probeTLS(ctx context.Context, addr, host string) ([]*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if net.ParseIP(host) != nil {
		host = ""
	}
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, ServerName: host}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates, nil
}

// servedNote says which of the certbot files the server sends, judged from
// the chain the probe got.
func servedNote(l *certs.Leaf, chain []*x509.Certificate) string {
	if len(chain) == 0 || l == nil {
		return ""
	}
	inters := 0
	if n := len(l.Issuers); n > 0 {
		inters = n - 1
	}
	// Said when it matters: a chain short of what was issued, or the row
	// whose defect is the served chain (missing-intermediate).
	switch {
	case !chain[0].Equal(l.Cert):
		return "your server sends a certificate that is not this row's"
	case inters == 0:
		return ""
	case len(chain) == 1:
		return "your server sends the leaf alone (cert.pem, not fullchain.pem)"
	case len(l.NotServed()) == 0:
		return ""
	case len(chain) == 1+inters:
		return "your server sends leaf + intermediate (fullchain.pem)"
	}
	return fmt.Sprintf("your server sends %d certificates", len(chain))
}

func tailSuffix(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "; its last output: " + strings.Join(lines, " | ")
}

// tailWriter keeps the last lines written to it and calls onMatch when a
// line contains match.
type tailWriter struct {
	match   string
	onMatch func()

	mu      sync.Mutex
	partial []byte
	last    []string
	// errLine is the last line that reads like an error ("Error: ...",
	// "ssl.SSLError: ..."): a runtime's stack trace can push it out of last.
	errLine string
}

// errorish reports whether an output line names an error.
func errorish(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "error") || strings.Contains(l, "exception") || strings.Contains(l, "fatal")
}

const tailLines, tailLineMax = 5, 200

// printable is one output line fit for a one-line error: control bytes and
// invalid UTF-8 replaced, trimmed, at most tailLineMax bytes.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(strings.TrimSpace(s), "?"))
	if len(s) > tailLineMax {
		i := tailLineMax
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return s
}

func newTailWriter(match string, onMatch func()) *tailWriter {
	return &tailWriter{match: match, onMatch: onMatch}
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 64<<10 { // a line without end: keep its tail
		w.partial = w.partial[len(w.partial)-tailLineMax:]
	}
	if w.match != "" && bytes.Contains(w.partial, []byte(w.match)) {
		w.onMatch()
	}
	return len(b), nil
}

func (w *tailWriter) line(s string) {
	if w.match != "" && strings.Contains(s, w.match) {
		w.onMatch()
	}
	s = printable(s)
	if s == "" {
		return
	}
	if errorish(s) {
		w.errLine = s
	}
	w.last = append(w.last, s)
	if len(w.last) > tailLines {
		w.last = w.last[len(w.last)-tailLines:]
	}
}

// lines is the last lines, led by the last error line if it is older.
func (w *tailWriter) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	if w.errLine != "" && !slices.Contains(w.last, w.errLine) {
		out = append(out, w.errLine, "…")
	}
	out = append(out, w.last...)
	if s := printable(string(w.partial)); s != "" {
		out = append(out, s)
	}
	return out
}

// reasonLine is the line of a tail that says best why it failed: the last
// error line, else the last line.
func reasonLine(tail []string) string {
	for i := len(tail) - 1; i >= 0; i-- {
		if errorish(tail[i]) {
			return tail[i]
		}
	}
	if len(tail) == 0 {
		return ""
	}
	return tail[len(tail)-1]
}

// looksHTTP reports whether a server's first bytes are HTTP: a status line,
// or an HTML body without one (an HTTP/0.9-style error answer, which is
// what Python's http.server sends a TLS ClientHello).
func looksHTTP(b []byte) bool {
	for _, p := range []string{"HTTP/", "<!DOC", "<!doc", "<html", "<HTML"} {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

// swept holds the temp parents this process has swept (SweepStale) once:
// a killed run's servers and cert dirs go before new ones start.
var swept sync.Map

func sweepOnce(parent string) {
	once, _ := swept.LoadOrStore(parent, new(sync.Once))
	once.(*sync.Once).Do(func() { SweepStale(parent) })
}
