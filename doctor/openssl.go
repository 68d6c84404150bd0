package doctor

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// OpenSSLCheck is what the article's check, openssl s_client -connect
// HOST:PORT -servername HOST, says about the endpoint: the "Verify return
// code" line it ends with. s_client verifies the chain but not the name,
// and completes the handshake whatever the code, so "0 (ok)" can hide what
// Chrome fails on; Misleads says so in one line, with the flags that make
// the check honest.
type OpenSSLCheck struct {
	// Command is the article's command for this endpoint (with -CAfile
	// when roots were trusted privately).
	Command string `json:"command"`
	// Code is the verify return code (0 ok, 10 expired, 18 self-signed,
	// ...), -1 when no certificate arrives.
	Code int    `json:"verify_code"`
	Text string `json:"verify_text"`
	// NoHandshake: the handshake fails after the certificate (the server
	// speaks only TLS versions or suites OpenSSL's defaults refuse), while
	// the code is still printed.
	NoHandshake bool `json:"no_handshake,omitempty"`
	// Misleads is one line saying why Code does not tell what Chrome
	// does, "" when it does.
	Misleads string `json:"misleads,omitempty"`
	// Honest is the command with the flags that make it report the
	// problem (-verify_hostname / -verify_ip, -verify_return_error).
	Honest string `json:"honest,omitempty"`
}

// OpenSSL 3 verify codes (include/openssl/x509_vfy.h) and their texts
// (X509_verify_cert_error_string).
var opensslText = map[int]string{
	0: "ok", 7: "certificate signature failure", 9: "certificate is not yet valid", 10: "certificate has expired",
	18: "self-signed certificate", 19: "self-signed certificate in certificate chain",
	20: "unable to get local issuer certificate", 21: "unable to verify the first certificate",
	24: "invalid CA certificate", 25: "path length constraint exceeded", 26: "unsupported certificate purpose",
	62: "hostname mismatch", 64: "IP address mismatch",
	66: "EE certificate key too weak", 67: "CA certificate key too weak", 68: "CA signature digest algorithm too weak",
}

// opensslSecurityLevel is Debian's OpenSSL 3 default (SECLEVEL 2): RSA keys
// of at least 2048 bits, no SHA-1 signatures.
const opensslSecurityLevel = 2

// opensslInput is what the model needs.
type opensslInput struct {
	host, connect string
	served        [][]byte
	trust         *Trust
	privateRoots  bool
	now           time.Time
	// handshake: the server accepts TLS 1.2 or 1.3 (s_client's defaults).
	handshake bool
}

// modelOpenSSL predicts s_client's verify return code the way OpenSSL 3's
// verify_chain runs (crypto/x509/x509_vfy.c): build_chain, then
// check_extensions, check_auth_level, then internal_verify (signatures and
// dates, root down). s_client's verify callback keeps going after an error,
// so the code it prints is the last error found.
func modelOpenSSL(in opensslInput) *OpenSSLCheck {
	oc := &OpenSSLCheck{Command: "openssl s_client -connect " + in.connect + " -servername " + in.host}
	if in.privateRoots {
		oc.Command += " -CAfile ROOTS.pem"
	}
	// s_client verifies the chain as soon as the Certificate message
	// arrives, and prints the code even when the handshake then fails
	// (measured: a TLS 1.0-only server gets "Verify return code: 0 (ok)"
	// after "Cipher is (NONE)").
	oc.NoHandshake = !in.handshake
	if len(in.served) == 0 {
		oc.Code, oc.Text = -1, "no certificate (s_client prints an SSL error)"
		return oc
	}
	var served []*x509.Certificate
	for _, der := range in.served[:min(len(in.served), maxServed)] {
		if c, err := parseCertificate(der); err == nil {
			served = append(served, c)
		}
	}
	if len(served) == 0 {
		oc.Code, oc.Text = -1, "no handshake (the server's certificate does not parse)"
		return oc
	}
	code := 0
	set := func(c int) { code = c }
	selfSigned := func(c *x509.Certificate) bool {
		return bytes.Equal(c.RawSubject, c.RawIssuer) && (!acceptableSigAlg(c.SignatureAlgorithm) || c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil)
	}
	// build_chain: trusted first (X509_V_FLAG_TRUSTED_FIRST), then what
	// the server sent, by name.
	chain := []*x509.Certificate{served[0]}
	trusted := false
	for len(chain) <= maxDepth {
		cur := chain[len(chain)-1]
		if _, ok := in.trust.byRaw[string(cur.Raw)]; ok {
			trusted = true
			break
		}
		if selfSigned(cur) {
			if len(chain) == 1 {
				set(18)
			} else {
				set(19)
			}
			break
		}
		var next *x509.Certificate
		for _, a := range in.trust.bySubject[string(cur.RawIssuer)] {
			next = a.Cert
			break
		}
		if next == nil {
			for _, c := range served[1:] {
				if bytes.Equal(c.RawSubject, cur.RawIssuer) && !inPath(chain, c) {
					next = c
					break
				}
			}
		}
		if next == nil {
			set(20)
			break
		}
		chain = append(chain, next)
	}
	n := len(chain)
	// check_extensions: CA bits, purpose (s_client verifies as an SSL
	// client: the server purpose), path length.
	for i, c := range chain {
		if i > 0 && c.Version == 3 && (!c.BasicConstraintsValid || !c.IsCA) {
			set(24)
		}
		if !ekuAllowsServer(c) {
			set(26)
		}
	}
	for j := n - 1; j >= 1; j-- {
		c := chain[j]
		if c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) && j-1 > c.MaxPathLen {
			set(25)
		}
	}
	// check_auth_level: keys everywhere, signatures except the last one's.
	if opensslSecurityLevel >= 2 {
		for i, c := range chain {
			if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
				if i == 0 {
					set(66)
				} else {
					set(67)
				}
			}
			if i < n-1 && !acceptableSigAlg(c.SignatureAlgorithm) {
				set(68)
			}
		}
	}
	// internal_verify: from the top down, each signature then its dates.
	top := n - 1
	if !selfSigned(chain[top]) {
		if top == 0 && !trusted {
			set(21)
			return oc.finish(code)
		}
		if !trusted {
			top--
		}
	}
	for i := top; i >= 0; i-- {
		c := chain[i]
		if i+1 < n && acceptableSigAlg(c.SignatureAlgorithm) && chain[i+1].CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) != nil {
			set(7)
		}
		if in.now.Before(c.NotBefore) {
			set(9)
		} else if in.now.After(c.NotAfter) {
			set(10)
		}
	}
	return oc.finish(code)
}

func (oc *OpenSSLCheck) finish(code int) *OpenSSLCheck {
	oc.Code, oc.Text = code, opensslText[code]
	return oc
}

// explain fills Misleads and Honest from Chrome's predicted result and the
// name check s_client skips.
func (oc *OpenSSLCheck) explain(pred Prediction, name NameMatch, host string) {
	nameFlag := "-verify_hostname " + host
	nameCode := 62
	if net.ParseIP(host) != nil {
		nameFlag, nameCode = "-verify_ip "+host, 64
	}
	honest := oc.Command + " " + nameFlag + " -verify_return_error"
	code := func(c int) string { return strconv.Itoa(c) + " (" + opensslText[c] + ")" }
	switch {
	case oc.Code < 0:
		return
	case oc.NoHandshake:
		oc.Misleads = fmt.Sprintf("%s judges only the certificate: the handshake itself fails after it (\"Cipher is (NONE)\"), as it does for Chrome", code(oc.Code))
	case oc.Code == 0 && !name.OK:
		oc.Misleads = fmt.Sprintf("\"0 (ok)\" misleads: s_client checks the chain, not the name; with %s it says %s, as Chrome fails", nameFlag, code(nameCode))
		oc.Honest = honest
	case oc.Code == 0 && !pred.Connects() && (strings.HasPrefix(string(pred.Outcome), "cert-") || pred.Outcome == harness.TLSFailed):
		oc.Misleads = "\"0 (ok)\" misleads: OpenSSL accepts this chain, Chrome's verifier does not (see the findings)"
	case oc.Code == 0 && !pred.Connects():
		oc.Misleads = "\"0 (ok)\" says only that TLS is fine: Chrome fails after it, in the WebSocket upgrade, which s_client never tries"
	case oc.Code != 0 && pred.Connects():
		oc.Misleads = fmt.Sprintf("%s is OpenSSL's rule (security level %d, or its trust store), not Chrome's: Chrome connects", code(oc.Code), opensslSecurityLevel)
	case oc.Code != 0:
		oc.Misleads = fmt.Sprintf("s_client still prints CONNECTED and finishes the handshake; the %s line at the end is easy to miss: -verify_return_error makes it stop there", code(oc.Code))
		oc.Honest = honest
	}
}
