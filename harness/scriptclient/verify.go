package scriptclient

import "github.com/wsslab/wsslab/harness"

// verifyResult is one of OpenSSL's X509_V_ERR_… verify results
// (include/openssl/x509_vfy.h), which all three clients here report: Node
// by name as err.code, Python as SSLCertVerificationError.verify_code,
// s_client as "Verify return code: N (text)".
type verifyResult struct {
	name    string // without X509_V_ERR_: Node's err.code
	outcome harness.Outcome
	// text is X509_verify_cert_error_string's, where Node has no name for
	// the code (its err.code is then "UNSPECIFIED", its message this text).
	text string
}

// verifyResults classifies the verify results a certificate can produce in
// wsslab's outcome classes. A code not listed is a certificate the client
// refused for another reason: CertInvalid.
var verifyResults = map[int]verifyResult{
	2:  {"UNABLE_TO_GET_ISSUER_CERT", harness.CertUntrusted, ""},
	9:  {"CERT_NOT_YET_VALID", harness.CertDateInvalid, ""},
	10: {"CERT_HAS_EXPIRED", harness.CertDateInvalid, ""},
	13: {"ERROR_IN_CERT_NOT_BEFORE_FIELD", harness.CertDateInvalid, ""},
	14: {"ERROR_IN_CERT_NOT_AFTER_FIELD", harness.CertDateInvalid, ""},
	18: {"DEPTH_ZERO_SELF_SIGNED_CERT", harness.CertUntrusted, ""},
	19: {"SELF_SIGNED_CERT_IN_CHAIN", harness.CertUntrusted, ""},
	20: {"UNABLE_TO_GET_ISSUER_CERT_LOCALLY", harness.CertUntrusted, ""},
	21: {"UNABLE_TO_VERIFY_LEAF_SIGNATURE", harness.CertUntrusted, ""},
	22: {"CERT_CHAIN_TOO_LONG", harness.CertInvalid, ""},
	23: {"CERT_REVOKED", harness.CertInvalid, ""},
	// 24 is X509_V_ERR_NO_ISSUER_PUBLIC_KEY since OpenSSL 3.0; Node still
	// names it INVALID_CA, its name before.
	24: {"INVALID_CA", harness.CertInvalid, ""},
	25: {"PATH_LENGTH_EXCEEDED", harness.CertInvalid, ""},
	26: {"INVALID_PURPOSE", harness.CertInvalid, ""},
	27: {"CERT_UNTRUSTED", harness.CertUntrusted, ""},
	28: {"CERT_REJECTED", harness.CertUntrusted, ""},
	62: {"HOSTNAME_MISMATCH", harness.CertNameMismatch, ""},
	63: {"EMAIL_MISMATCH", harness.CertNameMismatch, ""},
	64: {"IP_ADDRESS_MISMATCH", harness.CertNameMismatch, ""},
	66: {"EE_KEY_TOO_SMALL", harness.CertInvalid, "EE certificate key too weak"},
	67: {"CA_KEY_TOO_SMALL", harness.CertInvalid, "CA certificate key too weak"},
	68: {"CA_MD_TOO_WEAK", harness.CertInvalid, "CA signature digest algorithm too weak"},
}

// verifyByName is verifyResults by Node's names; verifyByText by the
// texts of those Node has no name for.
var verifyByName, verifyByText = func() (map[string]verifyResult, map[string]verifyResult) {
	names, texts := map[string]verifyResult{}, map[string]verifyResult{}
	for _, v := range verifyResults {
		names[v.name] = v
		if v.text != "" {
			texts[v.text] = v
		}
	}
	return names, texts
}()

// verifyOutcome classifies a nonzero verify result.
func verifyOutcome(code int) harness.Outcome {
	if v, ok := verifyResults[code]; ok {
		return v.outcome
	}
	return harness.CertInvalid
}
