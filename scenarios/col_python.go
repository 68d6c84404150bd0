package scenarios

import (
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/scriptclient"
)

// The python column (Debian's python3 3.11 with websockets 10.4 on the
// system OpenSSL 3.0, ssl.create_default_context(cafile=root)), as
// measured: its exception and verify code per row, and the rows where it
// does not behave like a verifying client.
func init() {
	addColumn(Column{
		Vocabulary: scriptclient.PythonReasons,
		Reasons: map[string]string{
			"self-signed":              "SSLCertVerificationError 18 (self-signed certificate)",
			"ip-url-dns-cert":          "SSLCertVerificationError 64 (IP address mismatch)",
			"ip-in-cn-only":            "SSLCertVerificationError 64 (IP address mismatch)",
			"missing-intermediate":     "SSLCertVerificationError 20 (unable to get local issuer certificate)",
			"expired":                  "SSLCertVerificationError 10 (certificate has expired)",
			"wrong-san":                "SSLCertVerificationError 62 (Hostname mismatch)",
			"untrusted-root":           "SSLCertVerificationError 19 (self-signed certificate in certificate chain)",
			"not-yet-valid":            "SSLCertVerificationError 9 (certificate is not yet valid)",
			"no-server-auth":           "SSLCertVerificationError 26 (unsuitable certificate purpose)",
			"wildcard-too-deep":        "SSLCertVerificationError 62 (Hostname mismatch)",
			"ip-san-connect-by-name":   "SSLCertVerificationError 62 (Hostname mismatch)",
			"tls10-only":               "SSLError: [SSL] legacy sigalg disallowed or unsupported",
			"subprotocol-required":     "InvalidStatusCode: HTTP 400",
			"subprotocol-unrequested":  "InvalidHandshake: no subprotocols supported",
			"nginx-no-upgrade-headers": "InvalidStatusCode: HTTP 200",
			"nginx-bare-proxy-pass":    "InvalidStatusCode: HTTP 200",
			"nginx-cert-only":          "SSLCertVerificationError 20 (unable to get local issuer certificate)",
			"byo-image-cert-only":      "SSLCertVerificationError 20 (unable to get local issuer certificate)",
		},
		ClientID: scriptclient.PythonID,
		Except: map[string]Expect{
			"subprotocol-not-offered": {Outcome: harness.HandshakeInvalid, Reason: "NegotiationError: unsupported subprotocol: chat.v1"},
			"cn-only-no-san":          {Outcome: harness.Connected},
			"sha1-signature":          {Outcome: harness.CertInvalid, Reason: "SSLCertVerificationError 68 (CA signature digest algorithm too weak)"},
			"weak-rsa-1024":           {Outcome: harness.CertInvalid, Reason: "SSLCertVerificationError 66 (EE certificate key too weak)"},
		},
		Lessons: map[string]string{
			"subprotocol-not-offered": "Python's websockets checks it too (NegotiationError): only the Go clients let an unoffered subprotocol through.",
			"cn-only-no-san":          "Surprise: Python (websockets) connects. Its ssl module hands the host to OpenSSL's X509_check_host, which falls back to the Common Name when the certificate has no DNS SAN, because SSLContext.hostname_checks_common_name defaults to True; set it to False to check names as browsers do.",
			"sha1-signature":          "Python refuses it with OpenSSL's verify code 68 (CA_MD_TOO_WEAK): OpenSSL 3.0 counts a SHA-1 signature as less than 80 bits, below every security level but 0.",
			"weak-rsa-1024":           "Surprise the other way: Python refuses what Chrome accepts. Debian builds OpenSSL at security level 2 (112-bit keys: RSA 2048 or more), and ssl.create_default_context uses that level, so a Python client fails with 66 (EE certificate key too weak).",
			"tls10-only":              "Python fails, but not on the version: Debian's python3 leaves the context's minimum_version at MINIMUM_SUPPORTED, so it negotiates TLS 1.1, then OpenSSL 3.0 refuses the server's MD5-SHA1 handshake signature below security level 0 (\"legacy sigalg disallowed or unsupported\").",
		},
	})
}
