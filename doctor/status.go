package doctor

// CertStatus is a set of certificate problems, named and ordered as Chrome's
// net/cert/cert_status_flags.h does, so that the net error follows from it
// exactly as in Chrome's MapCertStatusToNetError.
type CertStatus uint32

const (
	StatusCommonNameInvalid CertStatus = 1 << iota
	StatusDateInvalid
	StatusAuthorityInvalid
	StatusInvalid
	StatusWeakSignature
	StatusWeakKey
	StatusValidityTooLong
	StatusNameConstraintViolation
)

// NetError is the one error Chrome reports for a set of problems: "the most
// serious" in Chrome's fixed order (cert_status_flags.cc). Measured with
// Chromium 156: expired + wrong name + self-signed gives
// ERR_CERT_AUTHORITY_INVALID; expired + wrong name gives
// ERR_CERT_COMMON_NAME_INVALID; clientAuth-only + wrong name gives
// ERR_CERT_INVALID.
func (s CertStatus) NetError() string {
	switch {
	case s&StatusInvalid != 0:
		return "net::ERR_CERT_INVALID"
	case s&StatusAuthorityInvalid != 0:
		return "net::ERR_CERT_AUTHORITY_INVALID"
	case s&StatusCommonNameInvalid != 0:
		return "net::ERR_CERT_COMMON_NAME_INVALID"
	case s&StatusNameConstraintViolation != 0:
		return "net::ERR_CERT_NAME_CONSTRAINT_VIOLATION"
	case s&StatusWeakSignature != 0:
		return "net::ERR_CERT_WEAK_SIGNATURE_ALGORITHM"
	case s&StatusWeakKey != 0:
		return "net::ERR_CERT_WEAK_KEY"
	case s&StatusDateInvalid != 0:
		return "net::ERR_CERT_DATE_INVALID"
	case s&StatusValidityTooLong != 0:
		return "net::ERR_CERT_VALIDITY_TOO_LONG"
	}
	return ""
}
