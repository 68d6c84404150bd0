package scriptclient

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// OpenSSLInfo is the openssl column before it runs.
var OpenSSLInfo = harness.ClientInfo{ID: OpenSSLID, Name: "openssl s_client, the article's check (TLS only: no WebSocket upgrade)", Class: harness.VerifyingClass, Reasons: OpenSSLReasons}

// OpenSSL is the article's check as a client: `openssl s_client -connect
// ADDR -servername HOST -CAfile root.pem </dev/null`, read the way the
// article tells its readers to read it: "Verify return code: 0 (ok)" means
// OK (Connected), whatever else s_client printed. It does no WebSocket
// upgrade and checks no host name (that needs -verify_hostname), exactly
// like the command the article prints.
type OpenSSL struct {
	info     harness.ClientInfo
	bin      string
	dir      string
	root     string
	timeout  time.Duration
	parallel int

	mu     sync.Mutex
	closed bool
	procs  map[int]bool // running s_client process groups
}

// StartOpenSSL finds openssl ($WSSLAB_OPENSSL, else on PATH) and writes
// the root it trusts to its temp dir.
func StartOpenSSL(ctx context.Context, cfg Config) (_ *OpenSSL, err error) {
	bin, err := findBinary("WSSLAB_OPENSSL", nil, "openssl")
	if err != nil {
		return nil, fmt.Errorf("openssl: %w: run: sudo apt-get install -y openssl", err)
	}
	v, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return nil, fmt.Errorf("openssl: %s version: %w", bin, err)
	}
	dir, err := harness.MkdirTemp(cfg.TempDir, OpenSSLID)
	if err != nil {
		return nil, fmt.Errorf("openssl: %w", err)
	}
	c := &OpenSSL{info: OpenSSLInfo, bin: bin, dir: dir, root: filepath.Join(dir, "root.pem"),
		timeout: cfg.timeout(), parallel: 3, procs: map[int]bool{}}
	// "OpenSSL 3.0.19 27 Jan 2026 (Library: …)": name and number.
	if f := strings.Fields(string(v)); len(f) >= 2 {
		c.info.Version = f[0] + " " + f[1]
	}
	if err := os.WriteFile(c.root, cfg.Root, 0o600); err != nil {
		c.Close()
		return nil, fmt.Errorf("openssl: %w", err)
	}
	return c, nil
}

// Info implements harness.Client.
func (c *OpenSSL) Info() harness.ClientInfo { return c.info }

// DialAll implements harness.Client: one s_client per target (it has no
// batch mode), a few at a time.
func (c *OpenSSL) DialAll(ctx context.Context, targets []harness.Target) []harness.Observation {
	return harness.DialEach(ctx, c.parallel, targets, c.Dial)
}

// Command is the check for t: the article's command with -CAfile, its
// arguments after "openssl".
func (c *OpenSSL) Command(t harness.Target) ([]string, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, err
	}
	addr := t.Addr
	if addr == "" {
		port := u.Port()
		if port == "" {
			port = map[string]string{"ws": "80", "http": "80"}[u.Scheme]
		}
		if port == "" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	return []string{"s_client", "-connect", addr, "-servername", u.Hostname(), "-CAfile", c.root}, nil
}

// Dial runs the check for one target.
func (c *OpenSSL) Dial(ctx context.Context, t harness.Target) (obs harness.Observation) {
	start := time.Now()
	obs = harness.Observation{Client: c.info.ID, URL: t.URL}
	defer func() { obs.Duration = time.Since(start) }()
	args, err := c.Command(t)
	if err != nil {
		obs.Outcome, obs.Reason, obs.Error = harness.Failed, "bad URL", err.Error()
		return obs
	}
	obs.Evidence = append(obs.Evidence,
		"openssl "+strings.ReplaceAll(strings.Join(args, " "), c.dir+string(filepath.Separator), "")+" </dev/null",
		"TLS only: s_client does no WebSocket upgrade and checks no host name (no -verify_hostname)")
	output, err := c.run(ctx, args)
	if err != nil && len(output) == 0 {
		obs.Outcome, obs.Reason, obs.Error = harness.Failed, "openssl did not run", err.Error()
		return obs
	}
	res := ParseSClient(string(output))
	obs.Evidence = append(obs.Evidence, res.Lines...)
	obs.Outcome, obs.Reason = res.Classify()
	obs.Error = res.Summary()
	return obs
}

// run runs openssl in its own process group, recorded in c's dir, with
// stdin from /dev/null, and returns what it printed (stdout and stderr).
func (c *OpenSSL) run(ctx context.Context, args []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = cleanEnv()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf // Stdin nil: /dev/null, as in the article's check
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("openssl: client closed")
	}
	err := cmd.Start()
	if err == nil {
		c.procs[cmd.Process.Pid] = true
		err = harness.TrackProcess(c.dir, cmd.Process.Pid)
	}
	c.mu.Unlock()
	if err != nil {
		if cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		}
		return nil, err
	}
	err = cmd.Wait()
	c.mu.Lock()
	delete(c.procs, cmd.Process.Pid)
	c.mu.Unlock()
	return buf.Bytes(), err
}

// Close kills any s_client still running and removes the client's dir.
func (c *OpenSSL) Close() error {
	c.mu.Lock()
	c.closed = true
	for pid := range c.procs {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	c.mu.Unlock()
	harness.KillTracked(c.dir)
	return os.RemoveAll(c.dir)
}

// Dir is the client's temp dir.
func (c *OpenSSL) Dir() string { return c.dir }

// SClient is what one s_client run printed, parsed.
type SClient struct {
	// Verify is set when s_client printed "Verify return code: N (text)"
	// (it does even when the handshake failed before any certificate).
	Verify     bool
	VerifyCode int
	VerifyText string
	// Connected: "CONNECTED(…)", the TCP connection was made.
	Connected bool
	// Errors are OpenSSL's error reasons, in order ("unsupported
	// protocol", "tlsv1 alert protocol version").
	Errors []string
	// ConnectFailed: the TCP connection failed ("connect:errno=111").
	ConnectFailed bool
	// Protocol and Cipher of a finished handshake ("TLSv1.3",
	// "TLS_AES_128_GCM_SHA256"); "" when it did not finish.
	Protocol, Cipher string
	// Lines are the lines worth keeping as evidence.
	Lines []string
}

var (
	verifyLine = regexp.MustCompile(`^\s*Verify return code: (\d+) \((.*)\)\s*$`)
	// OpenSSL 3 error lines: THREAD:error:CODE:LIBRARY:FUNCTION:REASON:FILE:LINE:DATA.
	errorLine  = regexp.MustCompile(`^[0-9A-Fa-f]+:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+):`)
	newLine    = regexp.MustCompile(`^(New|Reused), (\S+), Cipher is (\S+)`)
	keepPrefix = []string{"CONNECTED", "depth=", "verify error:", "verify return:", "Verification error:", "Verification: ", "Verify return code:", "New, ", "Reused, ", "no peer certificate", "connect:", "Protocol  :", "Peer signature type", "Server Temp Key"}
)

// ParseSClient parses s_client's output.
func ParseSClient(out string) SClient {
	var s SClient
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if m := verifyLine.FindStringSubmatch(line); m != nil {
			s.Verify = true
			s.VerifyCode, _ = strconv.Atoi(m[1])
			s.VerifyText = m[2]
		}
		if m := errorLine.FindStringSubmatch(trimmed); m != nil {
			s.Errors = append(s.Errors, m[1])
			s.Lines = append(s.Lines, trimmed)
			continue
		}
		if m := newLine.FindStringSubmatch(trimmed); m != nil && m[2] != "(NONE)" {
			s.Protocol, s.Cipher = m[2], m[3]
		}
		switch {
		case strings.HasPrefix(trimmed, "CONNECTED"):
			s.Connected = true
		case strings.HasPrefix(trimmed, "connect:errno="):
			s.ConnectFailed = true
		}
		for _, p := range keepPrefix {
			if strings.HasPrefix(trimmed, p) && !seen[trimmed] {
				seen[trimmed] = true
				s.Lines = append(s.Lines, trimmed)
				break
			}
		}
	}
	return s
}

// Classify is the article reader's conclusion and its reason: "Verify
// return code: 0 (ok)" is Connected, whatever else happened; another code
// is that certificate failure, with a failed handshake added to the
// reason; no verify line at all is the connection or the handshake failing.
func (s SClient) Classify() (harness.Outcome, string) {
	switch {
	case s.Verify && s.VerifyCode == 0:
		return harness.Connected, ""
	case s.Verify:
		r := fmt.Sprintf("%d (%s)", s.VerifyCode, s.VerifyText)
		if s.Protocol == "" && len(s.Errors) > 0 {
			r += "; handshake failed: " + s.Errors[0]
		}
		return verifyOutcome(s.VerifyCode), r
	case s.ConnectFailed || !s.Connected:
		if len(s.Errors) > 0 {
			return harness.Unreachable, "connect failed: " + s.Errors[0]
		}
		return harness.Unreachable, "connect failed"
	case len(s.Errors) > 0:
		return harness.TLSFailed, "handshake failed: " + s.Errors[0]
	}
	return harness.Failed, "no Verify return code"
}

// Summary is the one line a reader acts on: the verify line, and the
// handshake's failure if there was one.
func (s SClient) Summary() string {
	var parts []string
	if s.Verify {
		parts = append(parts, fmt.Sprintf("Verify return code: %d (%s)", s.VerifyCode, s.VerifyText))
	}
	switch {
	case s.Protocol != "":
		parts = append(parts, "handshake done: "+s.Protocol+", "+s.Cipher)
	case s.ConnectFailed || !s.Connected:
		parts = append(parts, "connect failed: "+strings.Join(s.Errors, "; "))
	case len(s.Errors) > 0:
		parts = append(parts, "handshake failed: "+strings.Join(s.Errors, "; "))
	}
	return strings.Join(parts, "; ")
}
