package scenarios

import (
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/scriptclient"
)

// The node column (Node.js 20 with Debian's node-ws 8.11, verifying
// against the run's root with ws's `ca` option), as measured: its err.code
// per row, and the rows where it does not behave like a verifying client.
func init() {
	addColumn(Column{
		Vocabulary: scriptclient.NodeReasons,
		Reasons: map[string]string{
			"self-signed":              "DEPTH_ZERO_SELF_SIGNED_CERT",
			"ip-url-dns-cert":          "ERR_TLS_CERT_ALTNAME_INVALID",
			"ip-in-cn-only":            "ERR_TLS_CERT_ALTNAME_INVALID",
			"missing-intermediate":     "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
			"expired":                  "CERT_HAS_EXPIRED",
			"wrong-san":                "ERR_TLS_CERT_ALTNAME_INVALID",
			"untrusted-root":           "SELF_SIGNED_CERT_IN_CHAIN",
			"not-yet-valid":            "CERT_NOT_YET_VALID",
			"no-server-auth":           "INVALID_PURPOSE",
			"wildcard-too-deep":        "ERR_TLS_CERT_ALTNAME_INVALID",
			"ip-san-connect-by-name":   "ERR_TLS_CERT_ALTNAME_INVALID",
			"tls10-only":               "EPROTO: tlsv1 alert protocol version",
			"subprotocol-required":     "HTTP 400",
			"subprotocol-unrequested":  "Server sent a subprotocol but none was requested",
			"nginx-no-upgrade-headers": "HTTP 200",
			"nginx-bare-proxy-pass":    "HTTP 200",
			"nginx-cert-only":          "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
			"byo-image-cert-only":      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
		},
		ClientID: scriptclient.NodeID,
		Except: map[string]Expect{
			"subprotocol-not-offered": {Outcome: harness.HandshakeInvalid, Reason: "Server sent an invalid subprotocol"},
			"cn-only-no-san":          {Outcome: harness.Connected},
			"sha1-signature":          {Outcome: harness.CertInvalid, Reason: "UNSPECIFIED: CA signature digest algorithm too weak"},
		},
		Lessons: map[string]string{
			"subprotocol-not-offered": "Node's ws checks what gorilla does not: a subprotocol the client did not offer fails the handshake (RFC 6455 §4.1), as in both browsers.",
			"cn-only-no-san":          "Surprise: Node (ws) connects. Node's tls.checkServerIdentity still matches the Common Name when a certificate has no DNS name in its SAN (its source: \"Match against Common Name only if no supported identifiers exist\", as RFC 6125 allows), so a Node backend, bot or test passes the certificate Chrome refuses. By IP (ip-in-cn-only) it does not: an IP must be an IP SAN.",
			"sha1-signature":          "Node refuses it as OpenSSL 3.0 does at its default security level 1, where a SHA-1 signature counts as less than 80 bits (CA_MD_TOO_WEAK); Node has no name for that code, so err.code is UNSPECIFIED and only the message says why.",
			"weak-rsa-1024":           "Node (ws) connects too: Node 20's bundled OpenSSL runs at security level 1, where an 80-bit key (RSA 1024) is enough. Debian's system OpenSSL, which Python and the openssl command use, runs at level 2 and refuses it.",
		},
	})
}
