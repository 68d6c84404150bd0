package chromenet

// CertStatus is a set of certificate problems, named and ordered as
// Chromium's net/cert/cert_status_flags.h does.
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

// NetError is the one error Chrome reports for a set of problems: the first
// in the fixed order of Chromium's MapCertStatusToNetError
// (net/cert/cert_status_flags.cc), read from the source, not measured here.
// "" when s is empty.
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
