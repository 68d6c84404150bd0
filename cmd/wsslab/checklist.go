package main

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// The article's checklist (../shared/ARTICLE.md) is three commands, which its
// reader runs on the certbot files and against the server:
//
//	openssl x509 -in fullchain.pem -text -noout | grep -A1 "Subject Alternative Name"
//	openssl verify -untrusted intermediate.pem fullchain.pem
//	openssl s_client -connect HOST:PORT -servername HOST   (look for "Verify return code: 0 (ok)")
//
// articleChecklist gives them for a scenario as the reader types them, plus
// this run's root (-CAfile: a public CA's root is in the system store, a test
// root is not), with what Debian 12's OpenSSL 3.0 prints (TestCertsOpenSSL
// runs each one), what the reader concludes, and whether that conclusion
// misleads: the check says OK where Chrome fails for a TLS reason.

// articleCheck is one of the article's commands for one scenario.
type articleCheck struct {
	opensslCheck
	// Pipe is the shell text after the command: the article's grep, or
	// s_client's </dev/null.
	Pipe string
	// OK is what the article's reader concludes: the check passed.
	OK bool
	// Says is the verdict in a few words, for the tables.
	Says string
	// Honest is the change that makes the check see what Chrome sees, when
	// it misleads ("" when it does not).
	Honest string
}

// Shell is the check as the reader types it.
func (c articleCheck) Shell() string { return c.Command() + c.Pipe }

// chromeTLSFailure is whether Chrome fails sc for a reason a TLS check can
// see (the certificate or the handshake), and Chrome's exact reason.
func chromeTLSFailure(sc scenarios.Scenario) (bool, string) {
	e, err := sc.Expect(harness.ChromeInfo)
	if err != nil {
		return false, err.Error() // TestTableInvariants prevents it
	}
	switch e.Outcome {
	case harness.CertUntrusted, harness.CertNameMismatch, harness.CertDateInvalid, harness.CertInvalid, harness.TLSFailed:
		return true, e.Reason
	case harness.Connected:
		return false, "connects"
	}
	return false, e.Reason
}

// articleChecklist returns the article's three checks for sc: the files in
// dir (certs' layout), the server at addr, the root in rootFile.
func articleChecklist(sc scenarios.Scenario, dir, addr, rootFile string) []articleCheck {
	f := func(name string) string { return filepath.Join(dir, name) }
	req := sc.Cert
	chromeFails, _ := chromeTLSFailure(sc)
	isIP := net.ParseIP(sc.Host) != nil
	nameFlag := "-verify_hostname"
	if isIP {
		nameFlag = "-verify_ip"
	}

	// 1. The SAN, read by eye. grep prints the extension's two lines, or
	// nothing (exit 1) when there is none.
	san := articleCheck{opensslCheck: opensslCheck{
		Why:  "The article's first check: which names does the certificate carry?",
		Args: []string{"x509", "-in", f(certs.Files.FullChain), "-text", "-noout"},
	}, Pipe: ` | grep -A1 "Subject Alternative Name"`}
	if req.Has(certs.NoSAN) {
		san.Fails, san.Look = true, ""
		san.Note = "prints nothing: there is no subjectAltName, the name is only in the CN, which browsers ignore"
		san.Says = "no SAN"
	} else {
		san.Look, _ = sanLook(req)
		san.Says = san.Look
	}
	// The reader compares the host with the names listed, by the browsers'
	// rule (exact, or a wildcard one label deep): this check is as honest as
	// its reader.
	san.OK = !req.Has(certs.NoSAN) && nameCovered(sc)
	if !san.OK {
		san.Says += " (" + sc.Host + " not listed)"
	}

	// 2. openssl verify on the files: the leaf (the first certificate of
	// fullchain.pem; verify reads one) with chain.pem as the intermediates.
	// It checks the chain, the signatures and the dates, and nothing else:
	// no name, no purpose, no security level, and not what the server
	// sends.
	verify := articleCheck{opensslCheck: opensslCheck{
		Why:  "The article's second check: does the certificate chain to the root?",
		Args: []string{"verify", "-CAfile", f(trustedRootFile), "-untrusted", f(certs.Files.Chain), f(certs.Files.FullChain)},
	}}
	switch {
	case req.Has(certs.SelfSigned):
		// certbot's chain.pem of a self-signed certificate is empty.
		verify.Fails, verify.Look = true, "Could not read any untrusted certificates"
		verify.Note = "chain.pem is empty: a self-signed certificate has no intermediate; the error is about the file, not the certificate"
	case req.Has(certs.UntrustedRoot):
		verify.Fails, verify.Look = true, "unable to get local issuer certificate"
	case req.Has(certs.Expired):
		verify.Fails, verify.Look = true, "certificate has expired"
	case req.Has(certs.NotYetValid):
		verify.Fails, verify.Look = true, "certificate is not yet valid"
	default:
		verify.Look = f(certs.Files.FullChain) + ": OK"
		verify.OK = true
	}
	verify.Says = strings.TrimPrefix(verify.Look, f(certs.Files.FullChain)+": ")
	switch {
	case verify.OK && chromeFails && sc.Server.MaxTLS != 0:
		verify.Note = "no file check can see which TLS versions the server speaks"
	case verify.OK && chromeFails:
		verify.Honest = fmt.Sprintf("verify what the server sends, for its name and purpose: -untrusted %s -purpose sslserver -auth_level 1 %s %s", servedFile, nameFlag, sc.Host)
	}

	// 3. s_client: the handshake with the server, and its verify return
	// code, which checks no name unless asked, and is printed even when the
	// handshake itself fails.
	args := []string{"s_client", "-connect", addr}
	if !isIP {
		args = append(args, "-servername", sc.Host)
	}
	sclient := articleCheck{opensslCheck: opensslCheck{
		Why:  `The article's third check: connect and look for "Verify return code: 0 (ok)".`,
		Args: append(args, "-CAfile", rootFile),
	}, Pipe: " </dev/null"}
	// No name check here, as the article runs it: a certificate for
	// another name is "0 (ok)".
	sclient.Look = sClientVerifyCode(sc, false)
	if sc.Server.MaxTLS != 0 && sc.Server.MaxTLS < 0x0303 { // below TLS 1.2
		// The handshake fails before any certificate is verified, and
		// s_client still ends with "0 (ok)": the certificate was not
		// found wrong, it was not looked at.
		sclient.Fails = true
		sclient.Note = "the handshake failed (legacy sigalg disallowed or unsupported), yet the last line says 0 (ok)"
	}
	sclient.OK = strings.HasSuffix(sclient.Look, "0 (ok)")
	sclient.Says = strings.TrimPrefix(sclient.Look, "Verify return code: ")
	switch {
	case sclient.OK && chromeFails && sclient.Fails:
		sclient.Honest = "the handshake failed (s_client exits 1): read the error above the verify code, which was never reached"
	case sclient.OK && chromeFails:
		sclient.Honest = fmt.Sprintf("%s %s -verify_return_error (check the name; a failed verification fails the handshake)", nameFlag, sc.Host)
	}
	for _, c := range []*articleCheck{&san, &verify, &sclient} {
		if !c.OK && !chromeFails && c.Note == "" {
			c.Note = "stricter than Chrome here"
		}
	}
	return []articleCheck{san, verify, sclient}
}

// printArticleChecklist prints the article's checks for sc and what each
// tells its reader, against what Chrome does.
func printArticleChecklist(w io.Writer, sc scenarios.Scenario, checks []articleCheck) {
	chromeFails, chrome := chromeTLSFailure(sc)
	fmt.Fprintf(w, "\nThe article's checklist, as its reader runs it (plus -CAfile: a test root is in no system store):\n")
	for _, c := range checks {
		fmt.Fprintf(w, "\n  %s\n", c.Shell())
		verdict := "not OK"
		if c.OK {
			verdict = "OK"
		}
		line := fmt.Sprintf("-> %s: the reader concludes %s", c.Says, verdict)
		switch {
		case c.Honest != "":
			line += fmt.Sprintf(", but Chrome fails (%s). Honest: %s", chrome, c.Honest)
		case c.Note != "":
			line += " (" + c.Note + ")"
		}
		wrap(w, "  #   ", line)
	}
	if !chromeFails && chrome != "connects" {
		fmt.Fprintf(w, "\n  Chrome fails with %s: not a TLS problem, so no TLS check can show it.\n", chrome)
	}
}

// checklistMarkdown is README's table "The article's checklist vs the
// browser": per row, what each of the article's checks tells its reader and
// what Chrome does; ⚠ marks a check that says OK where Chrome fails.
// TestREADMEChecklist keeps README equal to it; TestCertsOpenSSL runs every
// check it summarizes.
func checklistMarkdown() string {
	var b strings.Builder
	b.WriteString("| scenario | `x509 … \\| grep -A1 SAN` | `verify -untrusted chain.pem fullchain.pem` | `s_client -servername` | Chrome |\n")
	b.WriteString("|---|---|---|---|---|\n")
	cell := func(c articleCheck) string {
		mark := "✗ "
		switch {
		case c.Honest != "":
			mark = "⚠ OK: "
		case c.OK:
			mark = "OK: "
		}
		if c.Says == "OK" {
			return strings.TrimSuffix(mark, ": ")
		}
		return mark + strings.ReplaceAll(c.Says, "|", `\|`)
	}
	for _, sc := range scenarios.Table {
		if sc.Server.Plain {
			continue
		}
		checks := articleChecklist(sc, "", "HOST:PORT", "root.pem")
		_, chrome := chromeTLSFailure(sc)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", sc.ID, cell(checks[0]), cell(checks[1]), cell(checks[2]), chrome)
	}
	return b.String()
}
