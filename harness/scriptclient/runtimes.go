package scriptclient

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/wsslab/wsslab/fixtures"
	"github.com/wsslab/wsslab/harness"
)

// NodeInfo is the node column before it runs (no Version yet).
var NodeInfo = harness.ClientInfo{ID: NodeID, Name: "Node.js ws client (verifies against the run's root)", Class: harness.VerifyingClass, Reasons: NodeReasons}

// PythonInfo is the python column before it runs.
var PythonInfo = harness.ClientInfo{ID: PythonID, Name: "Python websockets client (verifies against the run's root)", Class: harness.VerifyingClass, Reasons: PythonReasons}

// nodeModules is where Debian's node-ws installs ws.
const nodeModules = "/usr/share/nodejs"

// StartNode starts the node column: $WSSLAB_NODE, else node (or nodejs) on
// PATH, with NODE_PATH including Debian's /usr/share/nodejs for ws.
func StartNode(ctx context.Context, cfg Config) (*Process, error) {
	return start(ctx, nodeRuntime, cfg)
}

// StartPython starts the python column: $WSSLAB_PYTHON, else Debian's
// /usr/bin/python3 (the first python3 on PATH may be an interpreter
// without Debian's python3-websockets), else python3 on PATH.
func StartPython(ctx context.Context, cfg Config) (*Process, error) {
	return start(ctx, pythonRuntime, cfg)
}

var nodeRuntime = runtime{
	info: NodeInfo, script: fixtures.NodeClient, scriptName: "node_client.js",
	install: "nodejs node-ws",
	find: func() (string, []string, error) {
		bin, err := findBinary("WSSLAB_NODE", nil, "node", "nodejs")
		if err != nil {
			return "", nil, fmt.Errorf("node: %w: run: sudo apt-get install -y nodejs node-ws (or set WSSLAB_NODE)", err)
		}
		path := nodeModules
		if p := os.Getenv("NODE_PATH"); p != "" {
			path = p + string(os.PathListSeparator) + nodeModules
		}
		return bin, []string{"NODE_PATH=" + path}, nil
	},
	classify: classifyNode,
}

var pythonRuntime = runtime{
	info: PythonInfo, script: fixtures.PythonClient, scriptName: "python_client.py",
	install: "python3-websockets (for Debian's /usr/bin/python3; or set WSSLAB_PYTHON to a python3 that imports websockets)",
	find: func() (string, []string, error) {
		bin, err := findBinary("WSSLAB_PYTHON", []string{"/usr/bin/python3"}, "python3")
		if err != nil {
			return "", nil, fmt.Errorf("python: %w: run: sudo apt-get install -y python3 python3-websockets (or set WSSLAB_PYTHON)", err)
		}
		// Unbuffered, and no .pyc written next to the script.
		return bin, []string{"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"}, nil
	},
	classify: classifyPython,
}

// findBinary returns $env if set (it must exist), else the first of paths
// that is executable, else the first of names on PATH.
func findBinary(env string, paths []string, names ...string) (string, error) {
	if v := os.Getenv(env); v != "" {
		bin, err := exec.LookPath(v)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w (%v)", env, v, harness.ErrNotInstalled, err)
		}
		return bin, nil
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	for _, n := range names {
		if bin, err := exec.LookPath(n); err == nil {
			return bin, nil
		}
	}
	return "", fmt.Errorf("%s %w", strings.Join(names, " or "), harness.ErrNotInstalled)
}

// classifyNode reads a ws dial: the HTTP status of a refused upgrade, else
// Node's err.code (OpenSSL's verify result by name, Node's own
// ERR_TLS_CERT_ALTNAME_INVALID for a name that does not match, ERR_SSL_…
// for a failed handshake, E… for the socket), else ws's own message (ws
// raises plain Errors, without a code, for an upgrade answer it refuses).
func classifyNode(r reply) (harness.Outcome, string) {
	e := r.Error
	switch {
	case r.OK:
		return harness.Connected, ""
	case r.Status != 0:
		return harness.HandshakeRejected, "HTTP " + strconv.Itoa(r.Status)
	case e == nil:
		return harness.Failed, "no error reported"
	case r.Stage == "echo":
		return harness.NoEcho, "no echo: " + firstOf(e.Code, e.Message)
	}
	if v, ok := verifyByName[e.Code]; ok {
		return v.outcome, e.Code
	}
	switch {
	case e.Code == "UNSPECIFIED":
		// A verify result Node has no name for (its list stops at
		// HOSTNAME_MISMATCH): the message is OpenSSL's text for it.
		if v, ok := verifyByText[e.Message]; ok {
			return v.outcome, e.Code + ": " + e.Message
		}
		return harness.CertInvalid, e.Code + ": " + e.Message
	case e.Code == "ERR_TLS_CERT_ALTNAME_INVALID":
		return harness.CertNameMismatch, e.Code
	case strings.HasPrefix(e.Code, "ERR_SSL_"), e.Code == "EPROTO":
		// EPROTO's message carries OpenSSL's error line: its reason says
		// which ("tlsv1 alert protocol version").
		if m := openSSLError.FindStringSubmatch(e.Message); m != nil {
			return harness.TLSFailed, e.Code + ": " + m[1]
		}
		return harness.TLSFailed, e.Code
	case unreachableErrno[e.Code]:
		return harness.Unreachable, e.Code
	case e.Code != "":
		return harness.Failed, e.Code
	case e.Message == "Opening handshake has timed out":
		return harness.Unreachable, "timeout"
	case r.Stage == "handshake":
		// ws's abortHandshake: the server's 101 broke a rule ("Server sent a
		// subprotocol but none was requested", "Invalid Sec-WebSocket-Accept
		// header").
		return harness.HandshakeInvalid, e.Message
	}
	return harness.Failed, e.Message
}

var (
	// openSSLError is the reason field of an OpenSSL 3 error line
	// (THREAD:error:CODE:LIBRARY:FUNCTION:REASON:FILE:LINE:).
	openSSLError = regexp.MustCompile(`:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+):`)
	// pySourceLine is the " (_ssl.c:992)" Python appends to ssl errors.
	pySourceLine = regexp.MustCompile(` \(_ssl\.c:\d+\)$`)
)

// unreachableErrno are socket errors before any TLS or HTTP.
var unreachableErrno = map[string]bool{"ECONNREFUSED": true, "EHOSTUNREACH": true, "ENETUNREACH": true, "ETIMEDOUT": true, "ENOTFOUND": true, "EAI_AGAIN": true}

// classifyPython reads a websockets dial by the exception's class: ssl's
// SSLCertVerificationError carries OpenSSL's verify code, other SSLErrors
// OpenSSL's library and reason, websockets' InvalidStatusCode the HTTP
// status, the rest of its InvalidHandshake family a broken upgrade answer.
func classifyPython(r reply) (harness.Outcome, string) {
	e := r.Error
	switch {
	case r.OK:
		return harness.Connected, ""
	case e == nil:
		return harness.Failed, "no error reported"
	case r.Stage == "echo":
		return harness.NoEcho, "no echo: " + e.Class
	case e.is("SSLCertVerificationError") && e.VerifyCode != nil:
		return verifyOutcome(*e.VerifyCode), fmt.Sprintf("%s %d (%s)", e.Class, *e.VerifyCode, stableVerifyMessage(e.VerifyMessage))
	case e.is("SSLError"):
		if e.SSLReason != "" {
			return harness.TLSFailed, fmt.Sprintf("%s [%s: %s]", e.Class, e.Library, e.SSLReason)
		}
		// An OpenSSL 3 reason Python has no name for: its message, "[SSL]
		// legacy sigalg disallowed or unsupported (_ssl.c:992)", without
		// the source line.
		return harness.TLSFailed, e.Class + ": " + pySourceLine.ReplaceAllString(e.Message, "")
	case e.is("InvalidStatusCode"):
		return harness.HandshakeRejected, fmt.Sprintf("%s: HTTP %d", e.Class, e.Status)
	case e.is("InvalidHandshake"):
		return harness.HandshakeInvalid, e.Class + ": " + e.Message
	case e.is("TimeoutError"):
		return harness.Unreachable, e.Class
	case e.is("ConnectionRefusedError"), e.is("gaierror"):
		return harness.Unreachable, e.Class
	}
	return harness.Failed, e.Class
}

// stableVerifyMessage drops the name Python's ssl module appends to a
// hostname or IP mismatch ("Hostname mismatch, certificate is not valid for
// 'HOST'.", Modules/_ssl.c): the reason names the rule, not the address.
func stableVerifyMessage(m string) string {
	if before, _, ok := strings.Cut(m, ", certificate is not valid for"); ok {
		return before
	}
	return m
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
