package scenarios

import (
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/scriptclient"
)

// The openssl column: the article's check, `openssl s_client -connect ADDR
// -servername HOST -CAfile root.pem </dev/null` with Debian's OpenSSL 3.0,
// read as the article says (Verify return code: 0 (ok) = OK). As measured:
// its verify code per row, and the rows where the article's reader
// concludes something a verifying WebSocket client does not.
func init() {
	connected := Expect{Outcome: harness.Connected}
	const noHostCheck = "The article's check says Verify return code: 0 (ok): openssl s_client verifies the chain but checks no host name unless given -verify_hostname HOST (-verify_ip IP for an address), so a certificate for another name passes. Add -verify_hostname to make the check honest."
	const tlsOnly = "The article's check says Verify return code: 0 (ok): s_client does TLS only, never the WebSocket upgrade, so it cannot see what the server answers to it."
	addColumn(Column{
		Vocabulary: scriptclient.OpenSSLReasons,
		Reasons: map[string]string{
			"self-signed":          "18 (self-signed certificate)",
			"missing-intermediate": "21 (unable to verify the first certificate)",
			"expired":              "10 (certificate has expired)",
			"untrusted-root":       "19 (self-signed certificate in certificate chain)",
			"not-yet-valid":        "9 (certificate is not yet valid)",
			"no-server-auth":       "26 (unsuitable certificate purpose)",
			"nginx-cert-only":      "21 (unable to verify the first certificate)",
			"byo-image-cert-only":  "21 (unable to verify the first certificate)",
		},
		ClientID: scriptclient.OpenSSLID,
		Except: map[string]Expect{
			"ip-url-dns-cert":          connected,
			"ip-in-cn-only":            connected,
			"wrong-san":                connected,
			"cn-only-no-san":           connected,
			"wildcard-too-deep":        connected,
			"ip-san-connect-by-name":   connected,
			"tls10-only":               connected,
			"subprotocol-required":     connected,
			"subprotocol-unrequested":  connected,
			"sha1-signature":           {Outcome: harness.CertInvalid, Reason: "68 (CA signature digest algorithm too weak)"},
			"weak-rsa-1024":            {Outcome: harness.CertInvalid, Reason: "66 (EE certificate key too weak)"},
			"nginx-no-upgrade-headers": connected,
			"nginx-bare-proxy-pass":    connected,
		},
		Lessons: map[string]string{
			"ip-url-dns-cert":          noHostCheck,
			"ip-in-cn-only":            noHostCheck,
			"wrong-san":                noHostCheck,
			"cn-only-no-san":           noHostCheck,
			"wildcard-too-deep":        noHostCheck,
			"ip-san-connect-by-name":   noHostCheck,
			"tls10-only":               "The article's check says Verify return code: 0 (ok) although no connection is possible: s_client verified the certificate, then the handshake failed (it negotiated TLS 1.1, and OpenSSL 3.0 refuses the server's MD5-SHA1 signature: \"legacy sigalg disallowed or unsupported\"), and it prints the verify result all the same. Read the \"New, (NONE), Cipher is (NONE)\" line too.",
			"mixed-content":            "The article's check says Verify return code: 0 (ok) for a server with no TLS at all: s_client got no certificate (\"no peer certificate available\", \"wrong version number\"), verified nothing, and still prints 0 (ok).",
			"subprotocol-required":     tlsOnly,
			"subprotocol-unrequested":  tlsOnly,
			"sha1-signature":           "openssl fails it with 68 (CA signature digest algorithm too weak): a rule of OpenSSL's security level, not of trust.",
			"weak-rsa-1024":            "The article's check fails what Chrome accepts: Debian's OpenSSL runs at security level 2 (RSA 2048 or more) and s_client verifies at that level: 66 (EE certificate key too weak).",
			"nginx-no-upgrade-headers": tlsOnly,
			"nginx-bare-proxy-pass":    tlsOnly,
		},
	})
}
