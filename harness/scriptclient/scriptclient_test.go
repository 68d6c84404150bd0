package scriptclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/wsslab/wsslab/harness"
)

// The fake script: this test binary, run as the script's interpreter with
// WSSLAB_FAKE_SCRIPT set to how it behaves. It speaks the protocol the real
// scripts speak (fixtures/clients), so the Go side is tested without a
// runtime: "echo" answers every target (the first after the second); "missing" cannot load its library; "crash" exits on its
// first target; "hang" answers nothing, with a child in its process group;
// "noise" prints a line that is not JSON first.
func TestMain(m *testing.M) {
	if mode := os.Getenv("WSSLAB_FAKE_SCRIPT"); mode != "" {
		fakeScript(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func fakeScript(mode string) {
	out := json.NewEncoder(os.Stdout)
	switch mode {
	case "missing":
		out.Encode(reply{Missing: "ws"})
		os.Exit(3)
	case "hang":
		// A child in the same process group, naming the client's dir (the
		// script's path, os.Args[1], as its $0) on its command line.
		child := exec.Command("sh", "-c", "sleep 300; exit 0", os.Args[1])
		if child.Start() != nil {
			os.Exit(1)
		}
		out.Encode(reply{Ready: true, Version: fmt.Sprintf("fake child %d", child.Process.Pid)})
	case "noise":
		// A runtime's warning on stdout before the ready line.
		fmt.Println("(node:1) ExperimentalWarning: something")
		out.Encode(reply{Ready: true, Version: "fake 1.0"})
	default:
		out.Encode(reply{Ready: true, Version: "fake 1.0"})
	}
	in := bufio.NewScanner(os.Stdin)
	var held []request
	for in.Scan() {
		var r request
		if json.Unmarshal(in.Bytes(), &r) != nil {
			continue
		}
		switch mode {
		case "crash":
			os.Exit(1)
		case "hang":
			continue
		}
		// The first reply comes after the second: the client matches
		// replies by id, not by order.
		if r.ID == 1 && mode == "echo" {
			held = append(held, r)
			continue
		}
		out.Encode(fakeReply(r))
		for _, h := range held {
			out.Encode(fakeReply(h))
		}
		held = nil
	}
}

// fakeReply: a URL ending in /fail is refused with HTTP 403; others echo.
func fakeReply(r request) reply {
	names := []string{}
	for k := range r.Headers {
		names = append(names, k)
	}
	ev := []string{"headers " + strings.Join(names, ",")}
	if strings.HasSuffix(r.URL, "/fail") {
		return reply{ID: r.ID, Status: 403, Stage: "handshake", Evidence: ev}
	}
	return reply{ID: r.ID, OK: true, Echo: r.Message, Evidence: ev, MS: 5}
}

func fakeRuntime(t *testing.T, mode string) runtime {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rt := nodeRuntime
	rt.info.ID = "fake"
	rt.find = func() (string, []string, error) { return self, []string{"WSSLAB_FAKE_SCRIPT=" + mode}, nil }
	return rt
}

func startFake(t *testing.T, mode string) (*Process, error) {
	t.Helper()
	p, err := start(t.Context(), fakeRuntime(t, mode), Config{Root: []byte("root"), TempDir: t.TempDir()})
	if p != nil {
		t.Cleanup(func() { p.Close() })
	}
	return p, err
}

// TestProtocol: every target goes in as one JSON line, every reply is
// matched to its target by id whatever the order, and DialAll returns them
// in target order, classified, with the headers the script says it sent.
func TestProtocol(t *testing.T) {
	p, err := startFake(t, "echo")
	if err != nil {
		t.Fatal(err)
	}
	if v := p.Info().Version; v != "fake 1.0" {
		t.Errorf("version %q", v)
	}
	targets := []harness.Target{
		{URL: "wss://a.test/ok", Message: "one", Header: map[string][]string{"Authorization": {"Bearer x"}}},
		{URL: "wss://b.test/fail", Message: "two"},
		{URL: "wss://c.test/ok", Message: "three"},
	}
	obs := p.DialAll(t.Context(), targets)
	if len(obs) != 3 {
		t.Fatalf("%d observations", len(obs))
	}
	want := []struct {
		out    harness.Outcome
		reason string
	}{{harness.Connected, ""}, {harness.HandshakeRejected, "HTTP 403"}, {harness.Connected, ""}}
	for i, o := range obs {
		if o.URL != targets[i].URL || o.Outcome != want[i].out || o.Reason != want[i].reason || o.Client != "fake" {
			t.Errorf("target %d: %+v, want %v %q", i, o, want[i].out, want[i].reason)
		}
	}
	if obs[0].Echo != "one" || !strings.Contains(strings.Join(obs[0].Evidence, "\n"), "Authorization") {
		t.Errorf("first: echo %q evidence %q", obs[0].Echo, obs[0].Evidence)
	}
	// The same process serves the next batch, and batches at once.
	done := make(chan []harness.Observation)
	for range 2 {
		go func() { done <- p.DialAll(t.Context(), targets[:1]) }()
	}
	for range 2 {
		if o := <-done; o[0].Outcome != harness.Connected {
			t.Errorf("concurrent batch: %+v", o[0])
		}
	}
}

// A line that is not JSON (a runtime's warning) is not the ready line.
func TestNoiseBeforeReady(t *testing.T) {
	p, err := startFake(t, "noise")
	if err != nil || p.Info().Version != "fake 1.0" {
		t.Fatalf("start: %v", err)
	}
	if o := p.DialAll(t.Context(), []harness.Target{{URL: "wss://a.test/", Message: "x"}})[0]; o.Outcome != harness.Connected {
		t.Errorf("%+v", o)
	}
}

func TestLibraryMissing(t *testing.T) {
	_, err := startFake(t, "missing")
	if !harness.IsNotInstalled(err) || !strings.Contains(err.Error(), "apt-get install -y nodejs node-ws") {
		t.Fatalf("err = %v, want ErrNotInstalled naming the packages", err)
	}
}

func TestRuntimeMissing(t *testing.T) {
	for _, c := range []struct {
		env   string
		start func() error
		fix   string
	}{
		{"WSSLAB_NODE", func() error { _, err := StartNode(t.Context(), Config{}); return err }, "apt-get install -y nodejs node-ws"},
		{"WSSLAB_PYTHON", func() error { _, err := StartPython(t.Context(), Config{}); return err }, "apt-get install -y python3 python3-websockets"},
		{"WSSLAB_OPENSSL", func() error { _, err := StartOpenSSL(t.Context(), Config{}); return err }, "apt-get install -y openssl"},
	} {
		t.Setenv(c.env, "/nonexistent/wsslab-no-such-binary")
		err := c.start()
		if !harness.IsNotInstalled(err) || !strings.Contains(err.Error(), c.fix) || !strings.Contains(err.Error(), c.env) {
			t.Errorf("%s: err = %v, want ErrNotInstalled naming %q", c.env, err, c.fix)
		}
	}
}

// TestScriptExits: a script that dies answers its pending dials as
// failures, with what it printed, instead of hanging.
func TestScriptExits(t *testing.T) {
	p, err := startFake(t, "crash")
	if err != nil {
		t.Fatal(err)
	}
	obs := p.DialAll(t.Context(), []harness.Target{{URL: "wss://a.test/", Message: "x"}})
	if obs[0].Outcome != harness.Failed || !strings.Contains(obs[0].Error, "exited") {
		t.Errorf("%+v", obs[0])
	}
}

// TestCloseKillsGroup: Close ends the script and every process of its
// group and removes its dir; dials still waiting end as failures; a
// canceled context ends DialAll.
func TestCloseKillsGroup(t *testing.T) {
	p, err := startFake(t, "hang")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if o := p.DialAll(ctx, []harness.Target{{URL: "wss://a.test/"}}); o[0].Outcome != harness.Failed || !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("canceled: %+v", o[0])
	}
	var child int
	if _, err := fmt.Sscanf(p.Info().Version, "fake child %d", &child); err != nil || !harness.ProcessAlive(child) {
		t.Fatalf("no child: %q %v", p.Info().Version, err)
	}
	waiting := make(chan harness.Observation)
	go func() { waiting <- p.DialAll(t.Context(), []harness.Target{{URL: "wss://a.test/"}})[0] }()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if o := <-waiting; o.Outcome != harness.Failed {
		t.Errorf("pending dial after Close: %+v", o)
	}
	for _, pid := range []int{child, p.Pid()} {
		if harness.ProcessAlive(pid) {
			t.Errorf("process %d alive after Close", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if _, err := os.Stat(p.Dir()); !os.IsNotExist(err) {
		t.Errorf("dir %s left: %v", p.Dir(), err)
	}
	if o := p.DialAll(t.Context(), []harness.Target{{URL: "wss://a.test/"}}); o[0].Outcome != harness.Failed {
		t.Errorf("dial after Close: %+v", o[0])
	}
}

// Replies as the real scripts wrote them (fixtures/clients, measured
// against wsslab's rows), and what they classify as.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name     string
		classify func(reply) (harness.Outcome, string)
		line     string
		out      harness.Outcome
		reason   string
	}{
		{"node ok", classifyNode, `{"id":1,"ok":true,"echo":"hi","subprotocol":""}`, harness.Connected, ""},
		{"node self-signed", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"DEPTH_ZERO_SELF_SIGNED_CERT","message":"self-signed certificate"}}`, harness.CertUntrusted, "DEPTH_ZERO_SELF_SIGNED_CERT"},
		{"node name", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"ERR_TLS_CERT_ALTNAME_INVALID","message":"Hostname/IP does not match certificate's altnames: Host: wrong-san.wsslab.test. is not in the cert's altnames: DNS:other.wsslab.test"}}`, harness.CertNameMismatch, "ERR_TLS_CERT_ALTNAME_INVALID"},
		{"node expired", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"CERT_HAS_EXPIRED","message":"certificate has expired"}}`, harness.CertDateInvalid, "CERT_HAS_EXPIRED"},
		{"node sha1", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"UNSPECIFIED","message":"CA signature digest algorithm too weak"}}`, harness.CertInvalid, "UNSPECIFIED: CA signature digest algorithm too weak"},
		{"node tls version", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"EPROTO","message":"write EPROTO 808CE5DB197F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 70\n"}}`, harness.TLSFailed, "EPROTO: tlsv1 alert protocol version"},
		{"node status", classifyNode, `{"id":1,"stage":"handshake","status":400}`, harness.HandshakeRejected, "HTTP 400"},
		{"node subprotocol", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"","message":"Server sent a subprotocol but none was requested"}}`, harness.HandshakeInvalid, "Server sent a subprotocol but none was requested"},
		{"node refused", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"ECONNREFUSED","message":"connect ECONNREFUSED 127.0.0.1:1"}}`, harness.Unreachable, "ECONNREFUSED"},
		{"node timeout", classifyNode, `{"id":1,"stage":"handshake","error":{"class":"Error","code":"","message":"Opening handshake has timed out"}}`, harness.Unreachable, "timeout"},
		{"node echo", classifyNode, `{"id":1,"stage":"echo","error":{"class":"Error","message":"closed (1006) before the echo"}}`, harness.NoEcho, "no echo: closed (1006) before the echo"},
		{"python ok", classifyPython, `{"id":1,"ok":true,"echo":"hi"}`, harness.Connected, ""},
		{"python self-signed", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"SSLCertVerificationError","classes":["SSLCertVerificationError","SSLError","OSError","ValueError","Exception","BaseException","object"],"message":"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:992)","verify_code":18,"verify_message":"self-signed certificate","library":"SSL","ssl_reason":"CERTIFICATE_VERIFY_FAILED"}}`, harness.CertUntrusted, "SSLCertVerificationError 18 (self-signed certificate)"},
		{"python hostname", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"SSLCertVerificationError","classes":["SSLCertVerificationError","SSLError"],"message":"...","verify_code":62,"verify_message":"Hostname mismatch, certificate is not valid for 'wrong-san.wsslab.test'.","library":"SSL","ssl_reason":"CERTIFICATE_VERIFY_FAILED"}}`, harness.CertNameMismatch, "SSLCertVerificationError 62 (Hostname mismatch)"},
		{"python ip", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"SSLCertVerificationError","classes":["SSLCertVerificationError","SSLError"],"message":"...","verify_code":64,"verify_message":"IP address mismatch, certificate is not valid for '127.0.0.1'.","library":"SSL","ssl_reason":"CERTIFICATE_VERIFY_FAILED"}}`, harness.CertNameMismatch, "SSLCertVerificationError 64 (IP address mismatch)"},
		{"python weak key", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"SSLCertVerificationError","classes":["SSLCertVerificationError","SSLError"],"message":"...","verify_code":66,"verify_message":"EE certificate key too weak"}}`, harness.CertInvalid, "SSLCertVerificationError 66 (EE certificate key too weak)"},
		{"python ssl reason", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"SSLError","classes":["SSLError","OSError"],"message":"[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol (_ssl.c:992)","library":"SSL","ssl_reason":"UNSUPPORTED_PROTOCOL"}}`, harness.TLSFailed, "SSLError [SSL: UNSUPPORTED_PROTOCOL]"},
		{"python ssl no reason", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"SSLError","classes":["SSLError","OSError"],"message":"[SSL] legacy sigalg disallowed or unsupported (_ssl.c:992)","library":"SSL","ssl_reason":null}}`, harness.TLSFailed, "SSLError: [SSL] legacy sigalg disallowed or unsupported"},
		{"python status", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"InvalidStatusCode","classes":["InvalidStatusCode","InvalidHandshake","WebSocketException","Exception"],"message":"server rejected WebSocket connection: HTTP 400","status":400}}`, harness.HandshakeRejected, "InvalidStatusCode: HTTP 400"},
		{"python handshake", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"InvalidHandshake","classes":["InvalidHandshake","WebSocketException","Exception"],"message":"no subprotocols supported"}}`, harness.HandshakeInvalid, "InvalidHandshake: no subprotocols supported"},
		{"python refused", classifyPython, `{"id":1,"stage":"handshake","error":{"class":"ConnectionRefusedError","classes":["ConnectionRefusedError","ConnectionError","OSError"],"message":"[Errno 111] Connect call failed ('127.0.0.1', 1)","code":"111"}}`, harness.Unreachable, "ConnectionRefusedError"},
		{"python echo", classifyPython, `{"id":1,"stage":"echo","error":{"class":"ConnectionClosedError","classes":["ConnectionClosedError","ConnectionClosed"],"message":"no close frame received or sent"}}`, harness.NoEcho, "no echo: ConnectionClosedError"},
	} {
		var r reply
		if err := json.Unmarshal([]byte(c.line), &r); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if out, reason := c.classify(r); out != c.out || reason != c.reason {
			t.Errorf("%s: %s %q, want %s %q", c.name, out, reason, c.out, c.reason)
		}
	}
}

// TestParseSClient reads s_client's real output (testdata, captured from
// OpenSSL 3.0 against s_server and a plain HTTP server) the way the
// article's reader does.
func TestParseSClient(t *testing.T) {
	for _, c := range []struct {
		file    string
		out     harness.Outcome
		reason  string
		summary string
	}{
		{"sclient-ok.txt", harness.Connected, "", "Verify return code: 0 (ok); handshake done: TLSv1.3, TLS_AES_256_GCM_SHA384"},
		{"sclient-self-signed.txt", harness.CertUntrusted, "18 (self-signed certificate)", "Verify return code: 18 (self-signed certificate); handshake done: TLSv1.3, TLS_AES_256_GCM_SHA384"},
		// The article's reader sees 0 (ok) although the handshake failed.
		{"sclient-tls11.txt", harness.Connected, "", "Verify return code: 0 (ok); handshake failed: legacy sigalg disallowed or unsupported"},
		// And for a server without TLS: no certificate, nothing verified, 0 (ok).
		{"sclient-plain-http.txt", harness.Connected, "", "Verify return code: 0 (ok); handshake failed: wrong version number"},
		{"sclient-refused.txt", harness.Unreachable, "connect failed: Connection refused", "connect failed: Connection refused; connect error"},
	} {
		b, err := os.ReadFile("testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		s := ParseSClient(string(b))
		out, reason := s.Classify()
		if out != c.out || reason != c.reason || s.Summary() != c.summary {
			t.Errorf("%s: %s %q, summary %q; want %s %q, %q", c.file, out, reason, s.Summary(), c.out, c.reason, c.summary)
		}
	}
	// A verify failure on a handshake that also failed names both.
	s := ParseSClient("CONNECTED(00000003)\n40:error:0A000126:SSL routines::unexpected eof while reading:../ssl/record/rec_layer_s3.c:308:\nVerify return code: 21 (unable to verify the first certificate)\n")
	if out, reason := s.Classify(); out != harness.CertUntrusted || reason != "21 (unable to verify the first certificate); handshake failed: unexpected eof while reading" {
		t.Errorf("both: %s %q", out, reason)
	}
}

// TestOpenSSLCommand is the article's command, with the run's root.
func TestOpenSSLCommand(t *testing.T) {
	c := &OpenSSL{root: "/r/root.pem"}
	for _, tc := range []struct {
		t    harness.Target
		want string
	}{
		{harness.Target{URL: "wss://ws.example.test:3500/", Addr: "127.0.0.1:3500"}, "s_client -connect 127.0.0.1:3500 -servername ws.example.test -CAfile /r/root.pem"},
		{harness.Target{URL: "wss://ws.example.test/"}, "s_client -connect ws.example.test:443 -servername ws.example.test -CAfile /r/root.pem"},
		{harness.Target{URL: "wss://127.0.0.1:8443/?token=x"}, "s_client -connect 127.0.0.1:8443 -servername 127.0.0.1 -CAfile /r/root.pem"},
	} {
		args, err := c.Command(tc.t)
		if got := strings.Join(args, " "); err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.t.URL, got, err, tc.want)
		}
	}
}

func ExampleParseSClient() {
	s := ParseSClient("CONNECTED(00000003)\nVerification error: unable to verify the first certificate\nNew, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256\nVerify return code: 21 (unable to verify the first certificate)\n")
	fmt.Println(s.Classify())
	// Output: cert-untrusted 21 (unable to verify the first certificate)
}
