package geckonet

import (
	"testing"

	"github.com/wsslab/wsslab/chromenet"
)

func TestSecurityError(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		// What Firefox 153 sends (measured): the name.
		{"NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, SEC_ERROR_UNKNOWN_ISSUER)", "SEC_ERROR_UNKNOWN_ISSUER"},
		{"NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT)", "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT"},
		// A code without a name: the negated PRErrorCode, or the nsresult.
		{"NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, 8179)", "SEC_ERROR_UNKNOWN_ISSUER"},
		{"NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, 12276)", "SSL_ERROR_BAD_CERT_DOMAIN"},
		{"NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, 16370)", "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT"},
		{"0x805A1FF3", "SEC_ERROR_UNKNOWN_ISSUER"},
		{"NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, 9999)", "NSS error -9999"},
	} {
		got, ok := SecurityError(tc.text)
		if !ok || got != tc.want {
			t.Errorf("SecurityError(%q) = %q, %v; want %q", tc.text, got, ok, tc.want)
		}
	}
	for _, text := range []string{"NS_ERROR_WEBSOCKET_CONNECTION_REFUSED", "NS_ERROR_CONNECTION_REFUSED", "", "0x804B000D"} {
		if got, ok := SecurityError(text); ok {
			t.Errorf("SecurityError(%q) = %q: not a security error", text, got)
		}
	}
}

func TestClassify(t *testing.T) {
	sec := func(name string) string { return "NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, " + name + ")" }
	for _, tc := range []struct {
		text   string
		status int
		want   chromenet.Outcome
	}{
		{sec("SEC_ERROR_UNKNOWN_ISSUER"), 0, chromenet.CertUntrusted},
		{sec("MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT"), 0, chromenet.CertUntrusted},
		{sec("SSL_ERROR_BAD_CERT_DOMAIN"), 0, chromenet.CertNameMismatch},
		{sec("SEC_ERROR_EXPIRED_CERTIFICATE"), 0, chromenet.CertDateInvalid},
		{sec("MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE"), 0, chromenet.CertDateInvalid},
		{sec("SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED"), 0, chromenet.CertInvalid},
		{sec("SEC_ERROR_INADEQUATE_CERT_TYPE"), 0, chromenet.CertInvalid},
		{sec("MOZILLA_PKIX_ERROR_INADEQUATE_KEY_SIZE"), 0, chromenet.CertInvalid}, // a weak key, like Chrome's ERR_CERT_WEAK_KEY
		{sec("SEC_ERROR_REVOKED_CERTIFICATE"), 0, chromenet.CertInvalid},
		{sec("SSL_ERROR_PROTOCOL_VERSION_ALERT"), 0, chromenet.TLSFailed},
		{sec("SSL_ERROR_NO_CYPHER_OVERLAP"), 0, chromenet.TLSFailed},
		{"NS_ERROR_WEBSOCKET_CONNECTION_REFUSED", 403, chromenet.HandshakeRejected},
		{"NS_ERROR_WEBSOCKET_CONNECTION_REFUSED", 101, chromenet.HandshakeInvalid},
		{"NS_ERROR_CONNECTION_REFUSED", 0, chromenet.Unreachable},
		{"NS_ERROR_SOMETHING_NEW", 0, chromenet.Failed},
	} {
		if got := Classify(tc.text, tc.status); got != tc.want {
			t.Errorf("Classify(%q, %d) = %s, want %s", tc.text, tc.status, got, tc.want)
		}
	}
}

// The table is NSS's own: spot checks against secerr.h / sslerr.h /
// pkixnss.h values.
func TestNames(t *testing.T) {
	for code, name := range map[int32]string{
		-8192: "SEC_ERROR_IO", -8181: "SEC_ERROR_EXPIRED_CERTIFICATE", -8180: "SEC_ERROR_REVOKED_CERTIFICATE",
		-12288: "SSL_ERROR_EXPORT_ONLY_SERVER", -16384: "MOZILLA_PKIX_ERROR_KEY_PINNING_FAILURE",
		-16382: "MOZILLA_PKIX_ERROR_INADEQUATE_KEY_SIZE",
	} {
		if got := Name(code); got != name {
			t.Errorf("Name(%d) = %q, want %q", code, got, name)
		}
		if c, ok := Code(name); !ok || c != code {
			t.Errorf("Code(%q) = %d, %v", name, c, ok)
		}
	}
}
