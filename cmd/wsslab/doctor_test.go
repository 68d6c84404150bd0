package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
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
	code = runDoctor(args, &out, &errb)
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
		Browser struct {
			Verdict  string `json:"verdict"`
			NetError string `json:"net_error"`
		} `json:"browser"`
		Findings []struct {
			Severity, Check, Message, Fix string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Browser.Verdict != "fails" || rep.Browser.NetError != "net::ERR_CERT_DATE_INVALID" {
		t.Errorf("browser = %+v", rep.Browser)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Severity == "ERROR" && f.Check == "validity" && f.Fix != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("no ERROR validity finding with a fix: %+v", rep.Findings)
	}
	// A connecting endpoint: verdict connects, net_error present and empty.
	args = l.serve(t, "ok.wsslab.test", certs.Request{DNSNames: []string{"ok.wsslab.test"}}, harness.ServerOptions{})
	_, out, _ = doctorRun(t, append([]string{"--json"}, args...)...)
	var raw map[string]map[string]any
	json.Unmarshal([]byte(out), &raw)
	if raw["browser"]["verdict"] != "connects" || raw["browser"]["net_error"] != "" {
		t.Errorf("browser = %v", raw["browser"])
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
		{"plain-http-port", func(t *testing.T) []string {
			return []string{"--timeout", "2s", "wss://127.0.0.1:" + listen(t, func(c net.Conn) {
				buf := make([]byte, 1024)
				c.Read(buf)
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			}) + "/"}
		}, "does not speak TLS"},
		{"silent", func(t *testing.T) []string {
			return []string{"--timeout", "1s", "wss://127.0.0.1:" + listen(t, func(c net.Conn) { time.Sleep(3 * time.Second) }) + "/"}
		}, "sent nothing back"},
		{"garbage", func(t *testing.T) []string {
			return []string{"--timeout", "2s", "wss://127.0.0.1:" + listen(t, func(c net.Conn) {
				c.Write(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 300))
			}) + "/"}
		}, "does not speak TLS"},
		{"closes", func(t *testing.T) []string {
			return []string{"--timeout", "2s", "wss://127.0.0.1:" + listen(t, func(c net.Conn) {}) + "/"}
		}, "closed the connection"},
		{"tls-then-silence", func(t *testing.T) []string {
			leaf, _ := l.pki.Mint(certs.Request{DNSNames: []string{"ok.wsslab.test"}})
			cfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
			return []string{"--timeout", "1s", "--ca", l.root, "--resolve", "ok.wsslab.test:" + listenTLS(t, cfg) + ":127.0.0.1", "wss://ok.wsslab.test:" + lastPort + "/"}
		}, "did not answer in time"},
		{"negative-serial", func(t *testing.T) []string {
			return l.serveCert(t, "ok.wsslab.test", oddCert(t, "ok.wsslab.test"), harness.ServerOptions{})
		}, "cannot be parsed"},
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

var lastPort string

// listenTLS completes TLS handshakes and then never answers HTTP.
func listenTLS(t *testing.T, cfg *tls.Config) string {
	lastPort = listen(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			time.Sleep(3 * time.Second)
		}
	})
	return lastPort
}
