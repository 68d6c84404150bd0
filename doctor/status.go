package doctor

import "github.com/wsslab/wsslab/chromenet"

// CertStatus is a set of certificate problems; see chromenet.CertStatus.
type CertStatus = chromenet.CertStatus

// The certificate problems, as in chromenet.
const (
	StatusCommonNameInvalid       = chromenet.StatusCommonNameInvalid
	StatusDateInvalid             = chromenet.StatusDateInvalid
	StatusAuthorityInvalid        = chromenet.StatusAuthorityInvalid
	StatusInvalid                 = chromenet.StatusInvalid
	StatusWeakSignature           = chromenet.StatusWeakSignature
	StatusWeakKey                 = chromenet.StatusWeakKey
	StatusValidityTooLong         = chromenet.StatusValidityTooLong
	StatusNameConstraintViolation = chromenet.StatusNameConstraintViolation
)
