package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/scenarios"
)

func init() {
	register("certs", "write a scenario's PEM files (certbot layout) and the openssl commands that show its defect", cmdCerts)
}

const certsUsage = `usage: wsslab certs [--force] SCENARIO DIR

Mints the scenario's certificate under a fresh test PKI and writes, in DIR:

  cert.pem          the leaf alone
  chain.pem         the intermediate(s): what cert.pem is missing
  fullchain.pem     leaf + intermediate(s): what a server must send
  privkey.pem       the leaf's private key
  root.pem          the root the leaf's own chain ends at (the leaf itself
                    when self-signed)
  served.pem        exactly what the scenario's server sends
  trusted-root.pem  the only root wsslab's browser and strict client trust:
                    stand-in for a browser's trust store

Then prints the openssl commands that show the defect (names in the SAN,
dates, verifying the served chain as a browser would) and what each prints.
Each run mints a new PKI, so files from different runs do not chain.

Files that exist in DIR are left alone and nothing is written, unless
--force: then each is replaced (a symlink, such as certbot's live/ links
into archive/, is replaced itself; its target is never written). Each file
is written to a temporary file first and renamed into place, so a failure
(a full disk) leaves the old files as they were and no empty ones.

Exit status: 0 written, 2 bad input (unknown scenario, a file exists
without --force, unwritable DIR).

Example:
  wsslab certs missing-intermediate /tmp/mi

Scenarios: ` // + ids, appended at run time

// Names of the files certs writes besides certbot's.
const (
	servedFile      = "served.pem"
	trustedRootFile = "trusted-root.pem"
)

func cmdCerts(args []string) int { return certsMain(args, os.Stdout, os.Stderr) }

func certsMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	force := fs.Bool("force", false, "replace files that exist in DIR (a symlink is replaced itself, never written through)")
	usage := certsUsage + strings.Join(scenarios.IDs(), ", ") + "\n\nFlags:\n"
	// Flags may follow the arguments too: one adds --force to the line just
	// run, and Go's flag package alone would take it for a third argument.
	var pos []string
	for rest := args; ; {
		if code, ok := parseFlags(fs, usage, rest, stdout, stderr); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		if n := len(rest) - fs.NArg(); n > 0 && rest[n-1] == "--" {
			pos = append(pos, fs.Args()...) // after "--" nothing is a flag
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 2 {
		return errorf(stderr, "certs: want SCENARIO DIR, got %d argument(s) (see wsslab certs --help)", len(pos))
	}
	sc, err := scenarios.Lookup(pos[0])
	if err != nil {
		return errorf(stderr, "certs: %v", err)
	}
	if sc.Server.Plain {
		return errorf(stderr, "certs: scenario %s serves plain ws:// and has no certificate (its lesson is mixed content)", sc.ID)
	}
	dir := pos[1]
	pki, err := certs.NewPKI()
	if err != nil {
		return errorf(stderr, "certs: %v", err)
	}
	leaf, err := pki.Mint(sc.Cert)
	if err != nil {
		return errorf(stderr, "certs: %v", err)
	}
	if err := writeScenarioPEM(dir, pki, leaf, *force); err != nil {
		var ex *certs.ExistsError
		var pe *os.PathError
		switch {
		case errors.As(err, &ex):
			return errorf(stderr, "certs: %s exists; nothing was written (--force replaces the files in %s; a symlink is replaced, not followed)", ex.Path, dir)
		case errors.As(err, &pe):
			return errorf(stderr, "certs: %s %s: %v", pe.Op, pe.Path, pe.Err)
		}
		return errorf(stderr, "certs: %v", err)
	}
	fmt.Fprintf(stdout, "Wrote %s's certificate to %s: cert.pem chain.pem fullchain.pem privkey.pem root.pem %s %s\n",
		sc.ID, dir, servedFile, trustedRootFile)
	fmt.Fprintf(stdout, "Scenario: %s.\nThe server sends %s.\n\n", sc.Description, servedWords(leaf))
	fmt.Fprintln(stdout, "See it with openssl:")
	for _, c := range opensslChecks(sc, dir) {
		fmt.Fprintf(stdout, "\n  # %s\n  %s\n", c.Why, c.Command())
		switch {
		case c.Look != "" && c.Note != "":
			fmt.Fprintf(stdout, "  #   -> prints %q: %s\n", c.Look, c.Note)
		case c.Look != "":
			fmt.Fprintf(stdout, "  #   -> prints %q\n", c.Look)
		case c.Note != "":
			fmt.Fprintf(stdout, "  #   -> %s\n", c.Note)
		}
	}
	sc2 := sClientCheck(sc, defaultBasePort+tableIndex(sc.ID), serveRootFile)
	fmt.Fprintf(stdout, "\n  # %s\n  %s </dev/null\n", sc2.Why, sc2.Command())
	if sc2.Note != "" {
		fmt.Fprintf(stdout, "  #   -> prints %q: %s\n", sc2.Look, sc2.Note)
	} else {
		fmt.Fprintf(stdout, "  #   -> prints %q\n", sc2.Look)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(defaultBasePort+tableIndex(sc.ID)))
	printArticleChecklist(stdout, sc, articleChecklist(sc, dir, addr, serveRootFile))
	fmt.Fprintf(stdout, "\nWhy: %s\nFix: %s\n", sc.Lesson, sc.Fix)
	return exitOK
}

// writeScenarioPEM writes certbot's files and certs' own two in one
// certs.WriteFiles call: all are checked before any is written, and a failed
// write leaves the old files as they were.
func writeScenarioPEM(dir string, pki *certs.PKI, leaf *certs.Leaf, force bool) error {
	files, err := certs.CertbotFiles(leaf)
	if err != nil {
		return err
	}
	files = append(files,
		certs.File{Name: servedFile, Data: certs.PEM(leaf.Served...)},
		certs.File{Name: trustedRootFile, Data: certs.PEM(pki.Root.Cert)})
	return certs.WriteFiles(dir, files, certs.WriteOptions{Force: force})
}

func servedWords(l *certs.Leaf) string {
	var roles []string
	for _, c := range l.Served {
		roles = append(roles, certs.Describe(c).Role())
	}
	s := strings.Join(roles, " + ")
	if n := l.NotServed(); len(n) > 0 {
		s += fmt.Sprintf(" (NOT the intermediate: served.pem = cert.pem, %d certificate)", len(l.Served))
	}
	return s
}

// opensslCheck is one command `wsslab certs` prints. The tests run every one
// of them and check Fails and Look, so what the command prints is what the
// user will see.
type opensslCheck struct {
	Why  string
	Args []string // openssl's arguments
	// Fails: openssl exits non-zero.
	Fails bool
	// Look is text the output contains; Note explains it.
	Look, Note string
}

// Command is the check as a shell command line.
func (c opensslCheck) Command() string {
	q := make([]string, len(c.Args))
	for i, a := range c.Args {
		q[i] = shellQuote(a)
	}
	return "openssl " + strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '=' || r == ',' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// opensslChecks returns the commands that show sc's defect on the files in
// dir, with what OpenSSL 3 prints (measured with Debian 12's 3.0). Verification
// stops at the first error, in OpenSSL's order: building the chain, the
// purpose, the security level (-auth_level), the name, then dates.
func opensslChecks(sc scenarios.Scenario, dir string) []opensslCheck {
	f := func(name string) string { return filepath.Join(dir, name) }
	req := sc.Cert
	san := opensslCheck{
		Why:  "Which names is it for? Browsers read only the subjectAltName, never the Common Name.",
		Args: []string{"x509", "-in", f(certs.Files.Cert), "-noout", "-subject", "-issuer", "-ext", "subjectAltName"},
	}
	san.Look, san.Note = sanLook(req)
	out := []opensslCheck{san}
	dates := opensslCheck{
		Why:  "When is it valid? (-checkend 0: has it already expired?)",
		Args: []string{"x509", "-in", f(certs.Files.Cert), "-noout", "-dates", "-checkend", "0"},
		Look: "Certificate will not expire",
	}
	if req.Has(certs.Expired) {
		dates.Fails, dates.Look = true, "Certificate will expire"
	}
	if req.Has(certs.NotYetValid) {
		dates.Note = "-checkend looks only at notAfter; here notBefore (above) is still in the future"
	}
	out = append(out, dates)

	nameFlag := "-verify_hostname"
	if net.ParseIP(sc.Host) != nil {
		nameFlag = "-verify_ip"
	}
	// `openssl verify` checks no security level unless asked: without
	// -auth_level it passes a SHA-1 signature that every browser refuses.
	// Level 1 refuses what browsers refuse (SHA-1, RSA under 1024 bits) and
	// no more; level 2 is what Debian's OpenSSL applies in a TLS handshake.
	verifyAt := func(level, untrusted string) []string {
		args := []string{"verify", "-purpose", "sslserver"}
		if level != "" {
			args = append(args, "-auth_level", level)
		}
		args = append(args, "-CAfile", f(trustedRootFile))
		if untrusted != "" {
			args = append(args, "-untrusted", f(untrusted))
		}
		return append(args, nameFlag, sc.Host, f(certs.Files.Cert))
	}
	verify := func(untrusted string) []string { return verifyAt("1", untrusted) }
	v := opensslCheck{
		Why:  "Verify like a browser: the chain the server sends, to the trusted root, for the host clients dial (-auth_level 1: refuse SHA-1 and RSA under 1024 bits, as browsers do).",
		Args: verify(servedFile),
	}
	v.Fails, v.Look = verifyExpectation(sc)
	switch {
	case req.Has(certs.SHA1Signature):
		v.Note = "error 68: the leaf's signature uses SHA-1"
	case req.Has(certs.LongValidity):
		v.Note = "OpenSSL has no limit on the validity period; browsers apply the 398 days only to publicly trusted CAs"
	case req.Has(certs.NoSAN) && !v.Fails:
		v.Note = "OpenSSL falls back to the Common Name; browsers do not"
	}
	out = append(out, v)
	switch {
	case req.Has(certs.SHA1Signature):
		out = append(out, opensslCheck{
			Why:  "Without -auth_level, openssl verify checks no security level at all: the article's check passes what every browser refuses.",
			Args: verifyAt("", servedFile),
			Look: "OK",
		})
	case req.Has(certs.WeakKey):
		out = append(out, opensslCheck{
			Why:   "At security level 2, the default of Debian's OpenSSL in a TLS handshake (openssl s_client, Python's ssl), the 1024-bit key is refused although Chrome accepts it.",
			Args:  verifyAt("2", servedFile),
			Fails: true,
			Look:  "EE certificate key too weak",
			Note:  "error 66: level 2 wants RSA keys of 2048 bits or more",
		})
	}
	if req.Has(certs.MissingIntermediate) {
		out = append(out,
			opensslCheck{
				Why:   "cert.pem alone does not reach the root ...",
				Args:  verify(""),
				Fails: true,
				Look:  "unable to get local issuer certificate",
				Note:  "error 20: no path from the leaf to the root",
			},
			opensslCheck{
				Why:  "... with the intermediate (chain.pem; fullchain.pem = cert.pem + chain.pem) it does: serve fullchain.pem.",
				Args: verify(certs.Files.Chain),
				Look: "OK",
			})
	}
	return out
}

// serveRootFile stands for the root `wsslab serve` writes and prints.
const serveRootFile = "SERVE_DIR/root.pem"

// sClientCheck is the handshake with the scenario's server on 127.0.0.1:port,
// trusting rootFile, and what Debian 12's openssl (3.0, security level 2 in
// a handshake) prints, measured against `wsslab serve`. s_client checks the
// name only when asked (-verify_hostname, -verify_ip), and reports a failed
// verification but completes the handshake anyway (exit 0).
func sClientCheck(sc scenarios.Scenario, port int, rootFile string) opensslCheck {
	args := []string{"s_client", "-connect", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	if net.ParseIP(sc.Host) != nil {
		args = append(args, "-noservername", "-verify_ip", sc.Host) // clients send no SNI for an IP address
	} else {
		args = append(args, "-servername", sc.Host, "-verify_hostname", sc.Host)
	}
	c := opensslCheck{
		Why:  "Against `wsslab serve` (default ports; it mints its own root and prints where): the chain the server really sends, verified for the host.",
		Args: append(args, "-showcerts", "-CAfile", rootFile),
	}
	req := sc.Cert
	if sc.Server.MaxTLS != 0 && sc.Server.MaxTLS < tls.VersionTLS12 {
		c.Fails, c.Look = true, "legacy sigalg disallowed or unsupported"
		c.Note = "the handshake fails: below TLS 1.2 the server signs its handshake with SHA-1, which OpenSSL 3 refuses at its default security level (the \"Verify return code: 0 (ok)\" it also prints is about the certificate only)"
		return c
	}
	c.Look = sClientVerifyCode(sc, true)
	switch {
	case strings.HasSuffix(c.Look, "(ok)") && req.Has(certs.NoSAN):
		c.Note = "OpenSSL falls back to the Common Name; browsers do not"
	case req.Has(certs.MissingIntermediate):
		c.Note = "-showcerts lists only the leaf: the server does not send the intermediate"
	case req.Has(certs.WeakKey):
		c.Note = "refused at Debian's default security level 2, accepted by Chrome"
	}
	return c
}

// sClientVerifyCode is the "Verify return code" line s_client prints for
// sc's certificate as served (Debian 12's OpenSSL 3.0, security level 2 in a
// handshake): the first check that fails in OpenSSL's order. With
// nameChecked (-verify_hostname / -verify_ip) a name the certificate does
// not cover is 62 (64 for an IP); without, as the article runs it, the
// name is not looked at.
func sClientVerifyCode(sc scenarios.Scenario, nameChecked bool) string {
	req := sc.Cert
	code := func(n int, msg string) string { return fmt.Sprintf("Verify return code: %d (%s)", n, msg) }
	switch {
	case req.Has(certs.SelfSigned):
		return code(18, "self-signed certificate")
	case req.Has(certs.UntrustedRoot):
		return code(19, "self-signed certificate in certificate chain")
	case req.Has(certs.MissingIntermediate):
		return code(21, "unable to verify the first certificate")
	case req.Has(certs.NoServerAuth):
		return code(26, "unsuitable certificate purpose")
	case req.Has(certs.SHA1Signature):
		return code(68, "CA signature digest algorithm too weak")
	case req.Has(certs.WeakKey):
		return code(66, "EE certificate key too weak")
	case nameChecked && !nameCovered(sc):
		if net.ParseIP(sc.Host) != nil {
			return code(64, "IP address mismatch")
		}
		return code(62, "hostname mismatch")
	case req.Has(certs.Expired):
		return code(10, "certificate has expired")
	case req.Has(certs.NotYetValid):
		return code(9, "certificate is not yet valid")
	}
	return code(0, "ok")
}

func sanLook(req certs.Request) (look, note string) {
	if req.Has(certs.NoSAN) {
		return "No extensions in certificate", "there is no subjectAltName at all; the name is only in the subject's CN, which browsers ignore"
	}
	var sans []string
	for _, n := range req.DNSNames {
		sans = append(sans, "DNS:"+n)
	}
	for _, ip := range req.IPs {
		sans = append(sans, "IP Address:"+opensslIP(ip))
	}
	return strings.Join(sans, ", "), "the host clients dial must be one of these"
}

// opensslIP prints an address as openssl x509 -text does: IPv6 as eight
// uncompressed groups (::1 is 0:0:0:0:0:0:0:1).
func opensslIP(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	var groups []string
	for i := 0; i < 16; i += 2 {
		groups = append(groups, strconv.FormatUint(uint64(ip[i])<<8|uint64(ip[i+1]), 16))
	}
	return strings.ToUpper(strings.Join(groups, ":"))
}

// verifyExpectation is what `openssl verify -auth_level 1` prints for the
// scenario's certificate as served: OpenSSL 3's message for the first check
// that fails. A 1024-bit RSA key and a 5-year validity pass at level 1.
func verifyExpectation(sc scenarios.Scenario) (fails bool, look string) {
	req := sc.Cert
	switch {
	case req.Has(certs.SelfSigned):
		return true, "self-signed certificate"
	case req.Has(certs.UntrustedRoot):
		return true, "self-signed certificate in certificate chain"
	case req.Has(certs.MissingIntermediate):
		return true, "unable to get local issuer certificate"
	case req.Has(certs.NoServerAuth):
		return true, "unsuitable certificate purpose"
	case req.Has(certs.SHA1Signature):
		return true, "CA signature digest algorithm too weak"
	case !nameCovered(sc):
		if net.ParseIP(sc.Host) != nil {
			return true, "IP address mismatch"
		}
		return true, "hostname mismatch"
	case req.Has(certs.Expired):
		return true, "certificate has expired"
	case req.Has(certs.NotYetValid):
		return true, "certificate is not yet valid"
	}
	return false, "OK"
}

// nameCovered reports whether the host clients dial is in the SAN, the way
// OpenSSL checks it: an IP only against IP SANs, a DNS name against DNS SANs,
// falling back to the Common Name when there are none (browsers do not).
func nameCovered(sc scenarios.Scenario) bool {
	req := sc.Cert
	if ip := net.ParseIP(sc.Host); ip != nil {
		if req.Has(certs.NoSAN) {
			return false
		}
		for _, x := range req.IPs {
			if x.Equal(ip) {
				return true
			}
		}
		return false
	}
	names := req.DNSNames
	if req.Has(certs.NoSAN) || len(names) == 0 {
		names = []string{req.CommonName}
	}
	for _, n := range names {
		if strings.EqualFold(n, sc.Host) || strings.HasPrefix(n, "*.") && wildcardCovers(n, sc.Host) {
			return true
		}
	}
	return false
}

func wildcardCovers(pattern, host string) bool {
	_, rest, ok := strings.Cut(host, ".")
	return ok && strings.EqualFold(pattern[2:], rest)
}
