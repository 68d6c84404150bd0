// Package scriptclient runs the clients people test with that live in other
// runtimes, as table columns: Node.js with ws (node), Python's websockets
// (python), and the article's own check, openssl s_client (openssl).
//
// node and python are one long-lived process each, running a small script
// from fixtures/clients: targets go in on stdin as JSON lines, one raw JSON
// reply per dial comes out, and Go classifies it (never one process per
// dial: a runtime's start costs 50–100 ms). openssl s_client has no batch
// mode, so it is one short process per target, a few at a time. Every
// process is in its own process group, recorded in the client's temp dir
// (harness.MkdirTemp, harness.TrackProcess), so Close, or a later run's
// harness.SweepStale, kills it and nothing else.
package scriptclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// Client ids (stable: JSON, subtests, --clients) and their vocabularies.
const (
	NodeID    = "node"
	PythonID  = "python"
	OpenSSLID = "openssl"

	// NodeReasons: Node's err.code ("DEPTH_ZERO_SELF_SIGNED_CERT",
	// "ERR_TLS_CERT_ALTNAME_INVALID", …), "HTTP <status>", or ws's own
	// message where it gives no code.
	NodeReasons harness.Vocabulary = "node"
	// PythonReasons: the exception class, with OpenSSL's verify code and
	// text where there is one ("SSLCertVerificationError 18 (self-signed
	// certificate)"), "InvalidStatusCode: HTTP 403", ….
	PythonReasons harness.Vocabulary = "python"
	// OpenSSLReasons: s_client's "Verify return code" and its text ("21
	// (unable to verify the first certificate)"), plus a failed handshake.
	OpenSSLReasons harness.Vocabulary = "openssl"
)

// Config is what every client here needs from the run.
type Config struct {
	// Root is the PEM of the CA the client trusts (the run's root): the
	// only one, as for the strict Go client.
	Root []byte
	// TempDir is the parent of the client's temp dir ("" = os.TempDir()).
	TempDir string
	// Timeout bounds one dial (0: 10s, as the Go clients).
	Timeout time.Duration
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 10 * time.Second
}

// startTimeout bounds how long a script may take to say it is ready (a
// runtime's start is 50–150 ms on a quiet machine).
const startTimeout = 30 * time.Second

// request is one target as a script reads it (one JSON line).
type request struct {
	ID           int                 `json:"id"`
	URL          string              `json:"url"`
	Addr         string              `json:"addr,omitempty"`
	Subprotocols []string            `json:"subprotocols"`
	Message      string              `json:"message"`
	Headers      map[string][]string `json:"headers"`
	TimeoutMS    int64               `json:"timeout_ms"`
}

// reply is one dial as a script reports it: raw facts, classified in Go.
type reply struct {
	ID int `json:"id"`
	// Ready and Version: the first line, once the runtime has its library;
	// Missing names the library it could not load instead.
	Ready   bool   `json:"ready,omitempty"`
	Version string `json:"version,omitempty"`
	Missing string `json:"missing,omitempty"`

	OK          bool   `json:"ok,omitempty"`
	Echo        string `json:"echo,omitempty"`
	Subprotocol string `json:"subprotocol,omitempty"`
	// Status is a non-101 HTTP answer to the upgrade.
	Status int `json:"status,omitempty"`
	// Stage is where it failed: "connect", "handshake" (TLS or HTTP) or
	// "echo" (after the socket opened).
	Stage    string       `json:"stage,omitempty"`
	Error    *scriptError `json:"error,omitempty"`
	Evidence []string     `json:"evidence,omitempty"`
	MS       float64      `json:"ms,omitempty"`
}

// scriptError is an exception or error object, as the runtime describes it.
type scriptError struct {
	Class   string   `json:"class"`
	Classes []string `json:"classes,omitempty"` // Python: the class and its bases
	Code    string   `json:"code,omitempty"`    // Node: err.code; Python: errno
	Message string   `json:"message"`
	// Python's ssl.SSLCertVerificationError: OpenSSL's verify result.
	VerifyCode    *int   `json:"verify_code,omitempty"`
	VerifyMessage string `json:"verify_message,omitempty"`
	// Python's ssl.SSLError: OpenSSL's library and reason ("SSL",
	// "UNSUPPORTED_PROTOCOL").
	Library   string `json:"library,omitempty"`
	SSLReason string `json:"ssl_reason,omitempty"`
	Status    int    `json:"status,omitempty"` // Python: InvalidStatusCode's status_code
}

func (e *scriptError) is(class string) bool {
	if e.Class == class {
		return true
	}
	for _, c := range e.Classes {
		if c == class {
			return true
		}
	}
	return false
}

// runtime is what differs between the node and python columns.
type runtime struct {
	info harness.ClientInfo
	// script and its file name in the client's dir.
	script     []byte
	scriptName string
	// args go before the script's path and the root's on the command line.
	args []string
	// find returns the interpreter and the extra environment, or an error
	// wrapping harness.ErrNotInstalled that names the install command.
	find func() (bin string, env []string, err error)
	// install names the packages that bring the script's library.
	install string
	// classify turns a reply into an outcome and a reason in the
	// runtime's vocabulary.
	classify func(reply) (harness.Outcome, string)
}

// Process is a client whose dials run in one script process: it implements
// harness.Client. Safe for concurrent DialAll calls.
type Process struct {
	rt      runtime
	info    harness.ClientInfo
	dir     string
	cmd     *exec.Cmd
	timeout time.Duration
	stderr  *tailBuffer

	mu      sync.Mutex
	stdin   io.WriteCloser
	next    int
	pending map[int]chan reply
	exited  chan struct{} // closed when stdout ends
	exitErr error         // why, once exited is closed
	closed  bool
}

// start runs rt's script, trusting cfg.Root, and waits for its ready line.
func start(ctx context.Context, rt runtime, cfg Config) (_ *Process, err error) {
	bin, env, err := rt.find()
	if err != nil {
		return nil, err
	}
	dir, err := harness.MkdirTemp(cfg.TempDir, rt.info.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rt.info.ID, err)
	}
	p := &Process{rt: rt, info: rt.info, dir: dir, timeout: cfg.timeout(), stderr: &tailBuffer{max: 4096},
		pending: map[int]chan reply{}, exited: make(chan struct{})}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	root, script := filepath.Join(dir, "root.pem"), filepath.Join(dir, rt.scriptName)
	if err := os.WriteFile(root, cfg.Root, 0o600); err != nil {
		return nil, fmt.Errorf("%s: %w", rt.info.ID, err)
	}
	if err := os.WriteFile(script, rt.script, 0o600); err != nil {
		return nil, fmt.Errorf("%s: %w", rt.info.ID, err)
	}
	// The command line names dir: that is how KillTracked and SweepStale
	// recognize the group's processes as this client's.
	p.cmd = exec.Command(bin, append(append([]string(nil), rt.args...), script, root)...)
	p.cmd.Dir = dir
	p.cmd.Env = cleanEnv(env...)
	p.cmd.Stderr = p.stderr
	// Its own group (Close kills it whole), and it dies with this process,
	// as the browsers do, so a killed run leaves no client running.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("%s: %w", rt.info.ID, err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rt.info.ID, err)
	}
	if err := p.cmd.Start(); err != nil {
		p.cmd = nil
		return nil, fmt.Errorf("%s: start %s: %w", rt.info.ID, bin, err)
	}
	if err := harness.TrackProcess(dir, p.cmd.Process.Pid); err != nil {
		return nil, fmt.Errorf("%s: %w", rt.info.ID, err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 4<<20)
	first := make(chan reply, 1)
	go p.read(lines, first)
	// A script that neither starts nor fails (a runtime waiting on
	// something) is a start error, not a hang.
	ready := time.NewTimer(startTimeout)
	defer ready.Stop()
	select {
	case <-ready.C:
		return nil, fmt.Errorf("%s: %s was not ready after %v; stderr: %s", rt.info.ID, bin, startTimeout, oneLine(p.stderr.String()))
	case r, ok := <-first:
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: %s exited before it was ready: %v", rt.info.ID, bin, p.exitErr)
		case r.Missing != "":
			return nil, fmt.Errorf("%s: %s cannot load %s: %w: run: sudo apt-get install -y %s", rt.info.ID, bin, r.Missing, harness.ErrNotInstalled, rt.install)
		case !r.Ready:
			return nil, fmt.Errorf("%s: unexpected first line from %s", rt.info.ID, bin)
		}
		p.info.Version = r.Version
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: waiting for %s: %w", rt.info.ID, bin, ctx.Err())
	}
	return p, nil
}

// read dispatches the script's lines to the dials waiting for them; the
// first line goes to first.
func (p *Process) read(lines *bufio.Scanner, first chan<- reply) {
	for lines.Scan() {
		var r reply
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			continue // not a reply (a runtime's warning on stdout): ignored
		}
		if first != nil {
			first <- r
			close(first)
			first = nil
			continue
		}
		p.mu.Lock()
		ch := p.pending[r.ID]
		delete(p.pending, r.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	err := lines.Err()
	if err == nil {
		err = errors.New("its output ended")
	}
	if s := p.stderr.String(); s != "" {
		err = fmt.Errorf("%v; stderr: %s", err, oneLine(s))
	}
	p.exitErr = err
	close(p.exited)
	if first != nil {
		close(first)
	}
}

// Info implements harness.Client.
func (p *Process) Info() harness.ClientInfo { return p.info }

// DialAll implements harness.Client: every target goes to the script at
// once; the script dials them concurrently.
func (p *Process) DialAll(ctx context.Context, targets []harness.Target) []harness.Observation {
	out := make([]harness.Observation, len(targets))
	waits := make([]chan reply, len(targets))
	sent := time.Now()
	for i, t := range targets {
		waits[i] = make(chan reply, 1)
		if err := p.send(t, waits[i]); err != nil {
			out[i] = p.broken(t, err)
			waits[i] = nil
		}
	}
	for i, t := range targets {
		if waits[i] == nil {
			continue
		}
		select {
		case r := <-waits[i]:
			out[i] = p.observe(t, r)
		case <-p.exited:
			out[i] = p.broken(t, fmt.Errorf("%s exited: %v", p.info.ID, p.exitErr))
		case <-ctx.Done():
			out[i] = p.broken(t, ctx.Err())
		}
		if out[i].Duration == 0 {
			out[i].Duration = time.Since(sent)
		}
	}
	return out
}

// send writes one target to the script.
func (p *Process) send(t harness.Target, wait chan reply) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New(p.info.ID + ": client closed")
	}
	p.next++
	req := request{ID: p.next, URL: t.URL, Addr: t.Addr, Subprotocols: t.Subprotocols, Message: t.Message,
		Headers: t.Header, TimeoutMS: p.timeout.Milliseconds()}
	if req.Subprotocols == nil {
		req.Subprotocols = []string{}
	}
	if req.Headers == nil {
		req.Headers = map[string][]string{}
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	p.pending[req.ID] = wait
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		delete(p.pending, req.ID)
		return fmt.Errorf("%s: write target: %w", p.info.ID, err)
	}
	return nil
}

// observe turns a script's reply into an Observation.
func (p *Process) observe(t harness.Target, r reply) harness.Observation {
	obs := harness.Observation{Client: p.info.ID, URL: t.URL, Echo: r.Echo, Subprotocol: r.Subprotocol,
		Duration: time.Duration(r.MS * float64(time.Millisecond))}
	obs.Evidence = append(obs.Evidence, r.Evidence...)
	if t.Login != "" {
		obs.Evidence = append(obs.Evidence, "did not fetch "+t.Login+": its credential goes in the headers")
	}
	obs.Outcome, obs.Reason = p.rt.classify(r)
	switch {
	case r.OK && r.Echo != t.Message:
		obs.Outcome, obs.Reason = harness.NoEcho, "no echo: a different message came back"
		obs.Error = fmt.Sprintf("echo %q, sent %q", r.Echo, t.Message)
	case r.Error != nil:
		obs.Error = r.Error.Class + ": " + r.Error.Message
		obs.Evidence = append(obs.Evidence, obs.Error)
	}
	if obs.Outcome == harness.Connected {
		obs.Reason = ""
	}
	return obs
}

// broken is the observation of a dial the script never answered.
func (p *Process) broken(t harness.Target, err error) harness.Observation {
	return harness.Observation{Client: p.info.ID, URL: t.URL, Outcome: harness.Failed,
		Reason: p.info.ID + " client failed", Error: err.Error(), Evidence: []string{err.Error()}}
}

// Close stops the script: closes its stdin, kills its process group and
// removes its dir. Dials still waiting end as failures.
func (p *Process) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.stdin != nil {
		p.stdin.Close()
	}
	p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Wait()
	}
	harness.KillTracked(p.dir)
	return os.RemoveAll(p.dir)
}

// Exited reports whether the script has ended (crashed, or killed by
// someone): its owner starts a new one.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Dir is the client's temp dir (for tests: it is gone after Close).
func (p *Process) Dir() string { return p.dir }

// Pid is the script process's id (its process group's too).
func (p *Process) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
