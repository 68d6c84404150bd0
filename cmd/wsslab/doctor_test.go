package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/doctor"
	"github.com/wsslab/wsslab/harness"
)

// doctorLab is one PKI, its root.pem, and servers started per test.
type doctorLab struct {
	pki  *certs.PKI
	root string
}

func newDoctorLab(t *testing.T) *doctorLab {
	t.Helper()
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(root, certs.PEM(pki.Root.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	return &doctorLab{pki: pki, root: root}
}

// serve starts a WSS echo server for host with the request's certificate
// and returns doctor's arguments to reach it.
func (l *doctorLab) serve(t *testing.T, host string, req certs.Request, opts harness.ServerOptions) []string {
	t.Helper()
	leaf, err := l.pki.Mint(req)
	if err != nil {
		t.Fatal(err)
	}
	return l.serveCert(t, host, leaf.TLSCertificate(), opts)
}

func (l *doctorLab) serveCert(t *testing.T, host string, c tls.Certificate, opts harness.ServerOptions) []string {
	t.Helper()
	s, err := harness.NewServer(harness.ServerConfig{Host: host, Certificate: c, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return []string{"--ca", l.root, "--no-system-roots", "--timeout", "3s",
		"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", host, s.Port()), s.URL}
}

func doctorRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	start := time.Now()
	code = runDoctor(t.Context(), args, &out, &errb)
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("doctor took %s", d)
	}
	return code, out.String(), errb.String()
}

func TestDoctorExitCodes(t *testing.T) {
	l := newDoctorLab(t)
	cases := []struct {
		name   string
		req    certs.Request
		opts   harness.ServerOptions
		code   int
		inText string
	}{
		{"valid", certs.Request{DNSNames: []string{"ok.wsslab.test"}}, harness.ServerOptions{}, exitOK, "Chrome (predicted): connects"},
		{"self-signed", certs.Request{DNSNames: []string{"ok.wsslab.test"}, Defects: []certs.Defect{certs.SelfSigned}}, harness.ServerOptions{}, exitMismatch, "net::ERR_CERT_AUTHORITY_INVALID"},
		{"missing-intermediate", certs.Request{DNSNames: []string{"ok.wsslab.test"}, Defects: []certs.Defect{certs.MissingIntermediate}}, harness.ServerOptions{}, exitMismatch, "wsslab test intermediate"},
		{"wrong-name", certs.Request{DNSNames: []string{"other.wsslab.test"}}, harness.ServerOptions{}, exitMismatch, "net::ERR_CERT_COMMON_NAME_INVALID"},
		{"origin-403", certs.Request{DNSNames: []string{"ok.wsslab.test"}}, harness.ServerOptions{SameOrigin: true}, exitMismatch, "Unexpected response code: 403"},
		{"tls10-only", certs.Request{DNSNames: []string{"ok.wsslab.test"}}, harness.ServerOptions{MinTLS: tls.VersionTLS10, MaxTLS: tls.VersionTLS10}, exitMismatch, "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := doctorRun(t, l.serve(t, "ok.wsslab.test", c.req, c.opts)...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			if !strings.Contains(out, c.inText) {
				t.Errorf("output lacks %q:\n%s", c.inText, out)
			}
		})
	}
}

func TestDoctorJSON(t *testing.T) {
	l := newDoctorLab(t)
	args := l.serve(t, "ok.wsslab.test", certs.Request{DNSNames: []string{"ok.wsslab.test"}, Defects: []certs.Defect{certs.Expired}}, harness.ServerOptions{})
	code, out, errOut := doctorRun(t, append([]string{"--json"}, args...)...)
	if code != exitMismatch {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Schema     int `json:"schema"`
		Prediction struct {
			Verdict  string `json:"verdict"`
			NetError string `json:"net_error"`
		} `json:"prediction"`
		Findings []struct {
			Severity, Check, Message, Fix string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Prediction.Verdict != "fails" || rep.Prediction.NetError != "net::ERR_CERT_DATE_INVALID" {
		t.Errorf("prediction = %+v", rep.Prediction)
	}
	if rep.Schema != doctor.ReportSchema {
		t.Errorf("schema = %d, want %d", rep.Schema, doctor.ReportSchema)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Severity == "ERROR" && f.Check == "expired" && f.Fix != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("no ERROR expired finding with a fix: %+v", rep.Findings)
	}
	// A connecting endpoint: verdict connects, net_error present and empty.
	args = l.serve(t, "ok.wsslab.test", certs.Request{DNSNames: []string{"ok.wsslab.test"}}, harness.ServerOptions{})
	_, out, _ = doctorRun(t, append([]string{"--json"}, args...)...)
	var raw map[string]map[string]any
	json.Unmarshal([]byte(out), &raw)
	if raw["prediction"]["verdict"] != "connects" || raw["prediction"]["net_error"] != "" {
		t.Errorf("prediction = %v", raw["prediction"])
	}
	for _, old := range []string{"browser", "chrome"} {
		if _, ok := raw[old]; ok {
			t.Errorf("the JSON still has %q (schema 2 calls it prediction / observed)", old)
		}
	}
}

// TestDoctorBadInput: every bad input gives exit 2, one ERROR line, no
// stack trace, and never hangs.
func TestDoctorBadInput(t *testing.T) {
	l := newDoctorLab(t)
	cases := []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{"no-url", func(*testing.T) []string { return nil }, "no URL"},
		{"no-scheme", func(*testing.T) []string { return []string{"example.com:443"} }, "no scheme"},
		{"bad-scheme", func(*testing.T) []string { return []string{"ftp://example.com/"} }, "unsupported scheme"},
		{"http", func(*testing.T) []string { return []string{"http://example.com/"} }, "plain http"},
		{"space-in-host", func(*testing.T) []string { return []string{"wss://ex ample.com/"} }, "malformed URL"},
		{"bad-port", func(*testing.T) []string { return []string{"wss://example.com:99999/"} }, "port"},
		{"empty-host", func(*testing.T) []string { return []string{"wss:///path"} }, "no host"},
		{"credentials", func(*testing.T) []string { return []string{"wss://u:p@example.com/"} }, "credentials"},
		{"control-chars", func(*testing.T) []string { return []string{"wss://exa\x00mple.com/"} }, "malformed URL"},
		{"two-urls", func(*testing.T) []string { return []string{"wss://a.test/", "wss://b.test/"} }, "one URL"},
		{"bad-resolve", func(*testing.T) []string { return []string{"--resolve", "nope", "wss://a.test/"} }, "HOST:PORT:ADDR"},
		{"resolve-not-ip", func(*testing.T) []string { return []string{"--resolve", "a.test:443:example.com", "wss://a.test/"} }, "not an IP"},
		{"missing-ca", func(*testing.T) []string { return []string{"--ca", "/nonexistent.pem", "wss://a.test/"} }, "no such file"},
		{"ca-not-pem", func(t *testing.T) []string {
			f := filepath.Join(t.TempDir(), "x.pem")
			os.WriteFile(f, []byte("hello"), 0o644)
			return []string{"--ca", f, "wss://a.test/"}
		}, "neither PEM"},
		{"bad-timeout", func(*testing.T) []string { return []string{"--timeout", "-1s", "wss://a.test/"} }, "--timeout"},
		{"refused", func(t *testing.T) []string {
			return []string{"--timeout", "2s", "wss://127.0.0.1:" + closedPort(t) + "/"}
		}, "connection refused"},
		{"silent", func(t *testing.T) []string {
			return []string{"--timeout", "1s", "wss://127.0.0.1:" + listen(t, func(c net.Conn) { time.Sleep(3 * time.Second) }) + "/"}
		}, "sent nothing back"},
		{"tls-then-silence", func(t *testing.T) []string {
			leaf, _ := l.pki.Mint(certs.Request{DNSNames: []string{"ok.wsslab.test"}})
			port := listenTLS(t, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
			return []string{"--timeout", "1s", "--ca", l.root, "--resolve", "ok.wsslab.test:" + port + ":127.0.0.1", "wss://ok.wsslab.test:" + port + "/"}
		}, "did not answer"},
		{"ws-refused", func(t *testing.T) []string {
			return []string{"--timeout", "2s", "ws://127.0.0.1:" + closedPort(t) + "/"}
		}, "connection refused"},
		{"ws-silent", func(t *testing.T) []string {
			return []string{"--timeout", "1s", "ws://127.0.0.1:" + listen(t, func(c net.Conn) { time.Sleep(3 * time.Second) }) + "/"}
		}, "did not answer"},
		{"bogus-flag", func(*testing.T) []string { return []string{"--bogus", "wss://a.test/"} }, "flag provided but not defined: -bogus"},
		{"timeout-1ns", func(*testing.T) []string { return []string{"--timeout", "1ns", "wss://a.test/"} }, "--timeout 1ns"},
		{"timeout-too-long", func(*testing.T) []string { return []string{"--timeout", "1h", "wss://a.test/"} }, "between 1ms and 5m"},
		{"origin-crlf", func(*testing.T) []string { return []string{"--origin", "https://a.test\r\nX-Evil: 1", "wss://a.test/"} }, "--origin"},
		{"subprotocol-crlf", func(*testing.T) []string { return []string{"--subprotocol", "chat\r\nX-Evil: 1", "wss://a.test/"} }, "--subprotocol"},
		{"subprotocol-space", func(*testing.T) []string { return []string{"--subprotocol", "a b", "wss://a.test/"} }, "not a token"},
		{"cookie-lf", func(*testing.T) []string { return []string{"--cookie", "a=b\nX-Evil: 1", "wss://a.test/"} }, "--cookie"},
		{"ca-dev-zero", func(*testing.T) []string { return []string{"--ca", "/dev/zero", "wss://a.test/"} }, "--ca /dev/zero: not a certificate file: it is a device"},
		{"ca-directory", func(t *testing.T) []string { return []string{"--ca", t.TempDir(), "wss://a.test/"} }, "directory"},
		{"ca-huge", func(t *testing.T) []string {
			f := filepath.Join(t.TempDir(), "huge.pem")
			os.WriteFile(f, bytes.Repeat([]byte("A"), 9<<20), 0o644)
			return []string{"--ca", f, "wss://a.test/"}
		}, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := doctorRun(t, c.args(t)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitUsage, out, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "ERROR: ") || !strings.Contains(lines[0], c.want) {
				t.Errorf("stderr = %q, want one ERROR line containing %q", errOut, c.want)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace: %s", errOut)
			}
		})
	}
}

// TestDoctorHostileChains: a long chain, a loop of cross-signed CAs, and
// a huge SAN list are examined in bounded time.
func TestDoctorHostileChains(t *testing.T) {
	l := newDoctorLab(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// Two CAs with the same names signing each other: a loop.
	a := caCert(t, "loop A", "loop B", key, key)
	bb := caCert(t, "loop B", "loop A", key, key)
	leaf := leafCert(t, "loop.wsslab.test", "loop A", key, key, nil)
	var chain [][]byte
	chain = append(chain, leaf.Raw)
	for i := 0; i < 40; i++ {
		chain = append(chain, a.Raw, bb.Raw)
	}
	args := l.serveCert(t, "loop.wsslab.test", tls.Certificate{Certificate: chain, PrivateKey: key}, harness.ServerOptions{})
	code, out, errOut := doctorRun(t, args...)
	if code != exitMismatch || !strings.Contains(out, "net::ERR_CERT_AUTHORITY_INVALID") {
		t.Errorf("loop: exit %d\n%s%s", code, out, errOut)
	}
	// A leaf with 2000 SAN entries, none of them the host.
	var names []string
	for i := 0; i < 2000; i++ {
		names = append(names, fmt.Sprintf("n%d.wsslab.test", i))
	}
	big := leafCert(t, "big.wsslab.test", "big", key, key, names)
	args = l.serveCert(t, "big.wsslab.test", tls.Certificate{Certificate: [][]byte{big.Raw}, PrivateKey: key}, harness.ServerOptions{})
	code, out, _ = doctorRun(t, args...)
	if code != exitMismatch || strings.Count(out, "\n") > 80 {
		t.Errorf("big SAN list: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
}

func caCert(t *testing.T, subject, issuer string, key, signer *ecdsa.PrivateKey) *x509.Certificate {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: subject}, Issuer: pkix.Name{CommonName: issuer},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: issuer}, PublicKey: signer.Public()}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func leafCert(t *testing.T, host, issuer string, key, signer *ecdsa.PrivateKey, names []string) *x509.Certificate {
	if names == nil {
		names = []string{host}
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: issuer}, PublicKey: signer.Public()}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// oddCert is a self-signed certificate with an encoding Go's parser rejects:
// a negative serial number. crypto/x509 refuses to create one, so a valid
// certificate is minted with a recognizable serial and the DER is patched
// (the signature no longer matches, but parsing fails before that matters).
func oddCert(t *testing.T, host string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}
	tmpl := &x509.Certificate{SerialNumber: new(big.Int).SetBytes(serial), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	// INTEGER, length 8, then the serial: set the sign bit.
	i := bytes.Index(der, append([]byte{0x02, 0x08}, serial...))
	if i < 0 {
		t.Fatal("serial not found in the DER")
	}
	der[i+2] |= 0x80
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Fatal("patched certificate still parses: the test would prove nothing")
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// listen serves each connection with handle, then closes it.
func listen(t *testing.T, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// listenTLS completes TLS handshakes and then never answers HTTP.
func listenTLS(t *testing.T, cfg *tls.Config) string {
	return listen(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			time.Sleep(3 * time.Second)
		}
	})
}

// TestDoctorWrongServer: a server that is not what the URL says gets the
// exact error real Chromium 156 reported for it (measured in
// doctor's probe cases), exit 1, and a finding naming the cause.
func TestDoctorWrongServer(t *testing.T) {
	l := newDoctorLab(t)
	plainWS := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: harness.EchoHandler(harness.ServerOptions{}, &harness.Recorder{}), ErrorLog: log.New(io.Discard, "", 0)}
		t.Cleanup(func() { srv.Close() })
		go srv.Serve(ln)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		return port
	}
	cases := []struct {
		name string
		url  func(t *testing.T) []string
		want []string
	}{
		// The article's snippet: ssl=None serves ws:// where the page dials wss://.
		{"plain-ws-behind-wss", func(t *testing.T) []string { return []string{"wss://127.0.0.1:" + plainWS(t) + "/"} },
			[]string{"fails with net::ERR_SSL_PROTOCOL_ERROR", "[not-tls]", "plain WebSocket (ws://)", "load_cert_chain() returns None"}},
		{"plain-http-behind-wss", func(t *testing.T) []string {
			return []string{"wss://127.0.0.1:" + listen(t, func(c net.Conn) {
				c.Read(make([]byte, 1024))
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			}) + "/"}
		}, []string{"net::ERR_SSL_PROTOCOL_ERROR", "[not-tls]", "plain HTTP"}},
		{"garbage-behind-wss", func(t *testing.T) []string {
			return []string{"wss://127.0.0.1:" + listen(t, func(c net.Conn) { c.Write(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 300)) }) + "/"}
		}, []string{"net::ERR_SSL_PROTOCOL_ERROR", "[not-tls]"}},
		// Go's TLS client refuses a negative serial number before doctor
		// sees the chain; Chrome accepts it (and rejects the patched
		// certificate's signature): doctor reads the chain from the wire.
		{"negative-serial", func(t *testing.T) []string {
			return l.serveCert(t, "ok.wsslab.test", oddCert(t, "ok.wsslab.test"), harness.ServerOptions{})
		}, []string{"fails with net::ERR_CERT_AUTHORITY_INVALID", "[signature-invalid]"}},
		{"closes-behind-wss", func(t *testing.T) []string {
			return []string{"wss://127.0.0.1:" + listen(t, func(c net.Conn) {}) + "/"}
		}, []string{"fails with net::ERR_CONNECTION_", "[tls-closed]"}},
		{"ssh-behind-ws", func(t *testing.T) []string {
			return []string{"ws://127.0.0.1:" + listen(t, func(c net.Conn) {
				c.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n"))
				c.Read(make([]byte, 1024))
			}) + "/"}
		}, []string{"fails with net::ERR_INVALID_HTTP_RESPONSE", "[ws-not-http]", "SSH"}},
		{"garbage-behind-ws", func(t *testing.T) []string {
			return []string{"ws://127.0.0.1:" + listen(t, func(c net.Conn) { c.Write(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 300)) }) + "/"}
		}, []string{"net::ERR_INVALID_HTTP_RESPONSE"}},
		{"tls-behind-ws", func(t *testing.T) []string {
			args := l.serve(t, "ok.wsslab.test", certs.Request{DNSNames: []string{"ok.wsslab.test"}}, harness.ServerOptions{})
			u := args[len(args)-1]
			return []string{"ws://127.0.0.1:" + u[strings.LastIndex(u, ":")+1:]}
		}, []string{"fails with Unexpected response code: 400", "[ws-plain-to-tls]", "wss://127.0.0.1:"}},
		{"endless-headers", func(t *testing.T) []string {
			return []string{"ws://127.0.0.1:" + listen(t, func(c net.Conn) {
				c.Read(make([]byte, 1024))
				c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n"))
				for i := 0; i < 1024; i++ {
					if _, err := c.Write([]byte("X-Filler: " + strings.Repeat("a", 1000) + "\r\n")); err != nil {
						return
					}
				}
			}) + "/"}
		}, []string{"net::ERR_RESPONSE_HEADERS_TOO_BIG", "256 KiB"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := doctorRun(t, append([]string{"--timeout", "3s", "--no-system-roots", "--ca", l.root}, c.url(t)...)...)
			if code != exitMismatch {
				t.Errorf("exit %d, want %d\n%s%s", code, exitMismatch, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}

// TestDoctorTimeoutBoundsAll: --timeout is one budget for the whole
// examination. A server that answers only its first connection used to
// cost a full --timeout per later step (6 of them), and a stalling AIA URL
// more on top. The guard is wide (3x) and catches only the old behaviour.
func TestDoctorTimeoutBoundsAll(t *testing.T) {
	l := newDoctorLab(t)
	// A stalling caIssuers URL, on loopback.
	aia := listen(t, func(c net.Conn) { c.Read(make([]byte, 1024)); time.Sleep(10 * time.Second) })
	leaf, err := l.pki.Mint(certs.Request{DNSNames: []string{"first.wsslab.test"}, Defects: []certs.Defect{certs.MissingIntermediate}})
	if err != nil {
		t.Fatal(err)
	}
	tc := leaf.TLSCertificate()
	tc.Certificate = [][]byte{aiaLeaf(t, l, "first.wsslab.test", "http://aia.wsslab.test:"+aia+"/i.der", tc)}
	var mu sync.Mutex
	served := 0
	port := listen(t, func(c net.Conn) {
		mu.Lock()
		served++
		first := served == 1
		mu.Unlock()
		if !first {
			time.Sleep(10 * time.Second) // accepts, never answers
			return
		}
		s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{tc}})
		if s.Handshake() == nil {
			s.Read(make([]byte, 4096))
			s.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
		}
	})
	const budget = 2 * time.Second
	start := time.Now()
	code, out, errOut := doctorRun(t, "--timeout", budget.String(), "--ca", l.root, "--no-system-roots",
		"--resolve", "first.wsslab.test:"+port+":127.0.0.1", "--resolve", "aia.wsslab.test:"+aia+":127.0.0.1", "wss://first.wsslab.test:"+port+"/")
	if d := time.Since(start); d > 3*budget {
		t.Errorf("doctor took %s with --timeout %s\n%s%s", d, budget, out, errOut)
	}
	if code != exitMismatch || !strings.Contains(out, "net::ERR_CERT_AUTHORITY_INVALID") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// aiaLeaf re-issues tc's leaf with a caIssuers URL, signed by the run's
// intermediate.
func aiaLeaf(t *testing.T, l *doctorLab, host, aia string, tc tls.Certificate) []byte {
	t.Helper()
	old, err := x509.ParseCertificate(tc.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: old.Subject, DNSNames: []string{host},
		NotBefore: old.NotBefore, NotAfter: old.NotAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IssuingCertificateURL: []string{aia}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.pki.Intermediate.Cert, old.PublicKey, l.pki.Intermediate.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestDoctorInterrupt: SIGINT and SIGTERM end doctor at once while it
// waits on a server that never answers, with one line saying so.
func TestDoctorInterrupt(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitInterrupted}, {syscall.SIGTERM, exitTerminated}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			accepted := make(chan struct{}, 16)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			port := listen(t, func(net.Conn) {
				accepted <- struct{}{}
				<-release
			})
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := wsslab(ctx, "doctor", "--timeout", "60s", "wss://127.0.0.1:"+port+"/")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			<-accepted // doctor is now waiting for a ServerHello that never comes
			cmd.Process.Signal(c.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second): // hang guard: doctor would wait 60 s
				cmd.Process.Kill()
				<-done
				t.Fatalf("doctor still running 20 s after %s", c.sig)
			}
			if got := cmd.ProcessState.ExitCode(); got != c.code {
				t.Errorf("exit %d, want %d; stderr %q", got, c.code, errb.String())
			}
			oneErrorLine(t, errb.String(), "interrupted")
		})
	}
}

// TestDoctorHelp: --help is the full usage on stdout, exit 0, like every
// other command's; so is wsslab --help.
func TestDoctorHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runDoctor(t.Context(), []string{"--help"}, &out, &errb); code != exitOK || errb.Len() > 0 ||
		!strings.HasPrefix(out.String(), "usage: wsslab doctor") || !strings.Contains(out.String(), "-timeout") {
		t.Errorf("doctor --help: exit %d\nstdout %q\nstderr %q", code, out.String(), errb.String())
	}
	stdout, stderr, code := runWsslab(t, "--help")
	if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "usage: wsslab COMMAND") {
		t.Errorf("wsslab --help: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	// The real binary: a bad flag is one ERROR line, no usage dump.
	stdout, stderr, code = runWsslab(t, "doctor", "--bogus", "wss://a.test/")
	if code != exitUsage || stdout != "" {
		t.Errorf("doctor --bogus: exit %d, stdout %q", code, stdout)
	}
	oneErrorLine(t, stderr, "flag provided but not defined: -bogus")
}

// TestDoctorRootNotInstalled: a server sending leaf + intermediate whose
// root the browser lacks is not told to "serve fullchain.pem": it does.
func TestDoctorRootNotInstalled(t *testing.T) {
	l := newDoctorLab(t)
	args := l.serve(t, "ok.wsslab.test", certs.Request{DNSNames: []string{"ok.wsslab.test"}}, harness.ServerOptions{})
	args = args[2:] // drop --ca ROOT: --no-system-roots, --timeout, --resolve and the URL remain
	code, out, errOut := doctorRun(t, args...)
	if code != exitMismatch || !strings.Contains(out, "net::ERR_CERT_AUTHORITY_INVALID") || !strings.Contains(out, "[issuer-unknown]") ||
		strings.Contains(out, "[missing-intermediate]") || strings.Contains(out, "Serve the full chain") {
		t.Errorf("exit %d, want 1 with [issuer-unknown] and no fullchain advice:\n%s%s", code, out, errOut)
	}
}

// TestDoctorBrowserOrigin: with --browser, real Chrome sends --origin (doctor
// serves its page there), so a server that allows only the front end's
// origin connects for it and refuses another, and real Chrome agrees with
// the prediction both times; an origin no page can have gets a note.
func TestDoctorBrowserOrigin(t *testing.T) {
	needBrowser(t)
	l := newDoctorLab(t)
	const front = "https://front.wsslab.test"
	leaf, err := l.pki.Mint(certs.Request{DNSNames: []string{"ok.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echo := harness.EchoHandler(harness.ServerOptions{}, &harness.Recorder{})
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && o != front {
			http.Error(w, "origin "+o+" not allowed", http.StatusForbidden)
			return
		}
		echo.ServeHTTP(w, r)
	})}
	go srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}))
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	args := []string{"--browser", "--ca", l.root, "--no-system-roots", "--timeout", "3s",
		"--resolve", fmt.Sprintf("ok.wsslab.test:%d:127.0.0.1", port), fmt.Sprintf("wss://ok.wsslab.test:%d/", port)}
	for _, c := range []struct {
		origin, want, note string
		code               int
	}{
		{front, "Chrome (predicted): connects", "", exitOK},
		{"https://other.wsslab.test", "Unexpected response code: 403", "", exitMismatch},
		{"http://front.wsslab.test", "Unexpected response code: 403", "Note: --browser: Chrome cannot send the Origin http://front.wsslab.test", exitMismatch},
	} {
		code, out, errOut := doctorRun(t, append([]string{"--origin", c.origin}, args...)...)
		// Without Firefox, --browser says so and goes on with Chrome:
		// this test is Chrome's.
		errOut = withoutFirefoxNote(errOut)
		if code != c.code || !strings.Contains(out, c.want) || !strings.Contains(out, "agrees with the prediction") {
			t.Errorf("--origin %s: exit %d, want %d with %q, agreeing\n%s%s", c.origin, code, c.code, c.want, out, errOut)
		}
		if (c.note == "") != (errOut == "") || !strings.Contains(errOut, c.note) {
			t.Errorf("--origin %s: stderr %q, want note %q", c.origin, errOut, c.note)
		}
	}
}
