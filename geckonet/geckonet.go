// Package geckonet is what wsslab knows about Firefox's network errors, as
// chromenet is for Chrome's: how a WebDriver BiDi network.fetchError's
// errorText names an NSS (or mozilla::pkix) error, the names of those codes,
// and the shared outcome class of each. It imports only the standard library
// and chromenet (for the outcome classes), so the harness and the doctor
// share one copy.
package geckonet

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wsslab/wsslab/chromenet"
)

// moduleSecurity is NS_ERROR_MODULE_SECURITY (21); an nsresult's module
// field is the module + NS_ERROR_MODULE_BASE_OFFSET (0x45).
const moduleSecurity = 21 + 0x45

// securityFailure matches the text Firefox gives an nsresult of the
// security module it has no name for:
// "NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, 8179)" (the code's
// negation) or the code's name in its place.
var securityFailure = regexp.MustCompile(`NS_ERROR_GENERATE_FAILURE\(\s*NS_ERROR_MODULE_SECURITY\s*,\s*(-?\w+)\s*\)`)

// Name returns the NSS / PSM name of a PRErrorCode (-8179:
// "SEC_ERROR_UNKNOWN_ISSUER"), or "" when wsslab's table does not have it.
func Name(code int32) string { return nssNames[code] }

// Code returns the PRErrorCode called name, if the table has it.
func Code(name string) (int32, bool) {
	for c, n := range nssNames {
		if n == name {
			return c, true
		}
	}
	return 0, false
}

// SecurityError extracts the NSS error a BiDi errorText reports: its name
// ("SEC_ERROR_UNKNOWN_ISSUER") whether the text carries the name, the
// negated code ("8179"), or the whole nsresult (0x805A1FF3). ok is false
// when the text is not a security-module failure.
func SecurityError(errorText string) (name string, ok bool) {
	m := securityFailure.FindStringSubmatch(errorText)
	if m != nil {
		arg := m[1]
		if n, err := strconv.ParseInt(arg, 0, 64); err == nil {
			return nameOf(-int32(abs(n))), true
		}
		return arg, true
	}
	// A bare nsresult number: 0x805AXXXX.
	if n, err := strconv.ParseUint(strings.TrimSpace(errorText), 0, 32); err == nil && n>>31 == 1 && (n>>16)&0x1fff == moduleSecurity {
		return nameOf(-int32(n & 0xffff)), true
	}
	return "", false
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// nameOf names a code, or spells it as NSS's tools do for an unknown one.
func nameOf(code int32) string {
	if n := Name(code); n != "" {
		return n
	}
	return fmt.Sprintf("NSS error %d", code)
}

// Classify gives the outcome class of what Firefox reported for a
// WebSocket's upgrade request: errorText from network.fetchError ("" if
// none) and the HTTP status from network.responseStarted (0 if none).
// Certificate errors are classed the way Firefox's own certificate error
// page groups them (PSM's CategorizeCertificateError: trust, domain,
// time); every other NSS error of a certificate is CertInvalid and every
// SSL protocol error TLSFailed.
func Classify(errorText string, status int) chromenet.Outcome {
	if name, ok := SecurityError(errorText); ok {
		return ClassifyNSS(name)
	}
	switch {
	case status != 0 && status != 101:
		return chromenet.HandshakeRejected
	case status == 101:
		return chromenet.HandshakeInvalid
	}
	switch strings.TrimSpace(errorText) {
	case "NS_ERROR_CONNECTION_REFUSED", "NS_ERROR_NET_TIMEOUT", "NS_ERROR_UNKNOWN_HOST", "NS_ERROR_NET_RESET",
		"NS_ERROR_NET_INTERRUPT", "NS_ERROR_OFFLINE", "NS_ERROR_PROXY_CONNECTION_REFUSED":
		return chromenet.Unreachable
	case "NS_ERROR_PORT_ACCESS_NOT_ALLOWED", "NS_ERROR_CONTENT_BLOCKED", "NS_ERROR_DOM_BAD_URI":
		return chromenet.Blocked
	}
	return chromenet.Failed
}

// ClassifyNSS is the outcome class of an NSS / PSM error name.
func ClassifyNSS(name string) chromenet.Outcome {
	switch name {
	case "SEC_ERROR_UNKNOWN_ISSUER", "SEC_ERROR_UNTRUSTED_ISSUER", "SEC_ERROR_UNTRUSTED_CERT",
		"SEC_ERROR_CA_CERT_INVALID", "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT",
		"MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY", "MOZILLA_PKIX_ERROR_V1_CERT_USED_AS_CA",
		"MOZILLA_PKIX_ERROR_EMPTY_ISSUER_NAME", "MOZILLA_PKIX_ERROR_MITM_DETECTED",
		"MOZILLA_PKIX_ERROR_ISSUER_NO_LONGER_TRUSTED":
		return chromenet.CertUntrusted
	case "SSL_ERROR_BAD_CERT_DOMAIN":
		return chromenet.CertNameMismatch
	case "SEC_ERROR_EXPIRED_CERTIFICATE", "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE", "SEC_ERROR_INVALID_TIME",
		"MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE", "MOZILLA_PKIX_ERROR_NOT_YET_VALID_ISSUER_CERTIFICATE":
		return chromenet.CertDateInvalid
	}
	switch {
	case strings.HasPrefix(name, "SEC_ERROR_"), strings.HasPrefix(name, "MOZILLA_PKIX_ERROR_"),
		name == "SSL_ERROR_BAD_CERTIFICATE", name == "SSL_ERROR_WEAK_SERVER_CERT_KEY",
		name == "SSL_ERROR_UNSUPPORTED_CERTIFICATE_TYPE":
		return chromenet.CertInvalid
	case strings.HasPrefix(name, "SSL_ERROR_"):
		return chromenet.TLSFailed
	}
	return chromenet.Failed
}
