package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// CertInfo is what a person reads off a certificate when diagnosing a chain:
// the fields `openssl x509 -text` shows that decide whether a browser accepts
// it.
type CertInfo struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// SANs are the subjectAltName entries ("DNS:a.example", "IP:127.0.0.1"),
	// empty when the extension is missing: then browsers match no name.
	SANs      []string  `json:"sans"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// Key is the public key type and size, e.g. "ECDSA P-256", "RSA 2048".
	Key                string   `json:"key"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
	ExtKeyUsage        []string `json:"ext_key_usage,omitempty"`
	IsCA               bool     `json:"is_ca"`
	// SelfSigned: subject and issuer are the same and the certificate
	// verifies with its own key (a root, or a self-signed leaf).
	SelfSigned bool `json:"self_signed"`
}

// Describe reads a certificate's diagnostic fields.
func Describe(c *x509.Certificate) CertInfo {
	info := CertInfo{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		NotBefore:          c.NotBefore,
		NotAfter:           c.NotAfter,
		Key:                keyString(c.PublicKey),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		IsCA:               c.IsCA,
		SelfSigned: bytes.Equal(c.RawSubject, c.RawIssuer) &&
			c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil,
	}
	for _, n := range c.DNSNames {
		info.SANs = append(info.SANs, "DNS:"+n)
	}
	for _, ip := range c.IPAddresses {
		info.SANs = append(info.SANs, "IP:"+ip.String())
	}
	for _, u := range c.ExtKeyUsage {
		info.ExtKeyUsage = append(info.ExtKeyUsage, extKeyUsageName(u))
	}
	return info
}

// ValidAt reports whether now is inside the validity period.
func (i CertInfo) ValidAt(now time.Time) bool {
	return !now.Before(i.NotBefore) && !now.After(i.NotAfter)
}

// SANList is the SANs joined for display, or "(none)".
func (i CertInfo) SANList() string {
	if len(i.SANs) == 0 {
		return "(none)"
	}
	return strings.Join(i.SANs, ", ")
}

// Role names a certificate's place in a chain: "leaf", "intermediate",
// "root" or "self-signed leaf".
func (i CertInfo) Role() string {
	switch {
	case i.IsCA && i.SelfSigned:
		return "root"
	case i.IsCA:
		return "intermediate"
	case i.SelfSigned:
		return "self-signed leaf"
	}
	return "leaf"
}

func keyString(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

func extKeyUsageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	}
	return fmt.Sprintf("eku(%d)", u)
}

// NotServed returns the issuers of the leaf that the server does not send,
// excluding the root (which a server need not send): for a missing
// intermediate, the intermediate.
func (l *Leaf) NotServed() []*x509.Certificate {
	var out []*x509.Certificate
	for i, c := range l.Issuers {
		if i == len(l.Issuers)-1 {
			break // the root
		}
		sent := false
		for _, s := range l.Served {
			if bytes.Equal(s.Raw, c.Raw) {
				sent = true
			}
		}
		if !sent {
			out = append(out, c)
		}
	}
	return out
}
