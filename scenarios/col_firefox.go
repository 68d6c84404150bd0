package scenarios

import "github.com/wsslab/wsslab/harness"

// Firefox's column: measured with Debian's firefox-esr 153.8.0 (its bundled
// NSS) over WebDriver BiDi. A reason is the NSS / mozilla::pkix error name of
// the upgrade request's network.fetchError — the code Firefox's own error
// page shows — "HTTP <status>" for an upgrade answered with another status,
// or the exception the page's constructor threw.
func init() {
	addColumn(Column{
		Vocabulary: harness.FirefoxReasons,
		ClientID:   harness.FirefoxID,
		Reasons: map[string]string{
			"self-signed":            "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT",
			"ip-url-dns-cert":        "SSL_ERROR_BAD_CERT_DOMAIN",
			"ip-in-cn-only":          "SSL_ERROR_BAD_CERT_DOMAIN",
			"missing-intermediate":   "SEC_ERROR_UNKNOWN_ISSUER",
			"expired":                "SEC_ERROR_EXPIRED_CERTIFICATE",
			"wrong-san":              "SSL_ERROR_BAD_CERT_DOMAIN",
			"untrusted-root":         "SEC_ERROR_UNKNOWN_ISSUER",
			"not-yet-valid":          "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE",
			"cn-only-no-san":         "SSL_ERROR_BAD_CERT_DOMAIN",
			"sha1-signature":         "SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED",
			"no-server-auth":         "SEC_ERROR_INADEQUATE_CERT_TYPE",
			"wildcard-too-deep":      "SSL_ERROR_BAD_CERT_DOMAIN",
			"ip-san-connect-by-name": "SSL_ERROR_BAD_CERT_DOMAIN",
			"tls10-only":             "SSL_ERROR_PROTOCOL_VERSION_ALERT",
			"origin-check":           "HTTP 403",
			"mixed-content":          "SecurityError: The operation is insecure.",
			"subprotocol-required":   "HTTP 400",
			"auth-header-required":   "HTTP 401",

			"nginx-no-upgrade-headers": "HTTP 200",
			"nginx-bare-proxy-pass":    "HTTP 200",
			"nginx-cert-only":          "SEC_ERROR_UNKNOWN_ISSUER",
			"byo-image-cert-only":      "SEC_ERROR_UNKNOWN_ISSUER",
		},
		Except: map[string]Expect{
			// Firefox opens the socket; ws.protocol reads "chat.v1".
			"subprotocol-unrequested": {Outcome: harness.Connected},
			// Browsers differ (their rows): Firefox asks the OCSP responder
			// and enforces must-staple; Chrome does neither.
			"revoked":          {Outcome: harness.CertInvalid, Reason: "SEC_ERROR_REVOKED_CERTIFICATE"},
			"ocsp-must-staple": {Outcome: harness.CertInvalid, Reason: "MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING"},
		},
		Lessons: map[string]string{
			"self-signed":             "Firefox's page learns a little more: its close event has code 1015 (TLS handshake failure) for every certificate error, still without the reason, which Firefox calls MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT — a name of its own for this case, where Chrome and Go say only \"unknown authority\".",
			"missing-intermediate":    "Firefox 153 refuses too (SEC_ERROR_UNKNOWN_ISSUER): it does not fetch the missing intermediate (AIA caIssuers), and in one user context that just saw the full chain on another server it still refuses (TestBatchIsolation).",
			"weak-rsa-1024":           "Firefox 153 accepts it as well (measured).",
			"mixed-content":           "Firefox blocks it the same way, with a vaguer exception (\"SecurityError: The operation is insecure.\") and no network request at all.",
			"auth-header-required":    "Firefox reports the status as it is: network.responseStarted says 401, then network.fetchError NS_ERROR_WEBSOCKET_CONNECTION_REFUSED.",
			"subprotocol-unrequested": "Browsers differ here: Firefox 153 connects. It checks the answer against the offered list only when the page offered subprotocols; when the page offered none it accepts whatever the server names (the page then sees ws.protocol === \"chat.v1\"). A server that passes in Firefox can still fail in Chrome.",
		},
	})
}
