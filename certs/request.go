package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"time"
)

// Defect is a stable, kebab-case name of one thing wrong with a certificate or
// with the chain a server sends. The scenario table, the reports and doctor use
// the same names.
type Defect string

const (
	// SelfSigned: the leaf signs itself; no CA vouches for it.
	SelfSigned Defect = "self-signed"
	// MissingIntermediate: the server sends the leaf without the intermediate
	// that links it to the root (cert.pem served instead of fullchain.pem).
	MissingIntermediate Defect = "missing-intermediate"
	// Expired: NotAfter is in the past (by 30 days).
	Expired Defect = "expired"
	// NotYetValid: NotBefore is in the future (by 30 days).
	NotYetValid Defect = "not-yet-valid"
	// UntrustedRoot: the chain is complete but ends at a private root that the
	// client does not trust (the server sends that root too).
	UntrustedRoot Defect = "untrusted-root"
	// NoSAN: no subjectAltName extension; the name is only in the Common Name.
	NoSAN Defect = "no-san"
	// SHA1Signature: the leaf is signed with SHA-1 by its issuer, with the
	// issuer's key type (ECDSA-SHA1 under the default ECDSA intermediate,
	// SHA1-RSA under an RSA one); the leaf's own key is unchanged.
	SHA1Signature Defect = "sha1-signature"
	// NoServerAuth: the leaf's extended key usage lists clientAuth only.
	NoServerAuth Defect = "no-server-auth"
	// WeakKey: a 1024-bit RSA key.
	WeakKey Defect = "weak-key"
	// LongValidity: valid for 5 years, far beyond the 398 days public CAs may
	// issue.
	LongValidity Defect = "long-validity"
	// MustStaple: the leaf carries the TLS Feature extension status_request
	// (RFC 7633, "OCSP must-staple"), and the server staples nothing.
	MustStaple Defect = "must-staple"
)

// Serve says which certificates the server sends.
type Serve int

const (
	// ServeFullChain sends leaf + intermediate (fullchain.pem): correct.
	ServeFullChain Serve = iota
	// ServeLeafOnly sends only the leaf (cert.pem).
	ServeLeafOnly
	// ServeWithRoot sends leaf + intermediate + root.
	ServeWithRoot
)

// Request describes a leaf. The zero value of every field is the correct
// choice; Defects then break it on purpose.
type Request struct {
	// DNSNames and IPs go in the subjectAltName extension.
	DNSNames []string
	IPs      []net.IP
	// CommonName defaults to the first DNS name (or IP).
	CommonName string
	// Key is "ecdsa-p256" (default), "rsa-2048", "rsa-1024", ...
	Key     string
	Defects []Defect
	// OCSPServer, if set, goes in the leaf's Authority Information Access
	// extension: where a client asks whether the leaf is revoked.
	OCSPServer []string
}

type issuerKind int

const (
	issuerIntermediate issuerKind = iota
	issuerSelf
	issuerUntrusted
)

type resolved struct {
	dnsNames            []string
	ips                 []net.IP
	commonName          string
	noSAN               bool
	key                 string
	sha1                bool
	extKeyUsage         []x509.ExtKeyUsage
	notBefore, notAfter time.Duration
	issuer              issuerKind
	serve               Serve
	mustStaple          bool
}

// Has reports whether the request carries the defect.
func (r Request) Has(d Defect) bool {
	for _, x := range r.Defects {
		if x == d {
			return true
		}
	}
	return false
}

// Serve returns which certificates a server for this request sends.
func (r Request) Serve() Serve {
	switch {
	case r.Has(MissingIntermediate):
		return ServeLeafOnly
	case r.Has(UntrustedRoot):
		return ServeWithRoot
	}
	return ServeFullChain
}

func (r Request) resolve() (resolved, error) {
	s := resolved{
		dnsNames:    r.DNSNames,
		ips:         r.IPs,
		commonName:  r.CommonName,
		key:         r.Key,
		extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		notBefore:   -48 * time.Hour,
		// 90 days, like Let's Encrypt.
		notAfter: 90 * 24 * time.Hour,
		serve:    r.Serve(),
	}
	if s.commonName == "" {
		switch {
		case len(r.DNSNames) > 0:
			s.commonName = r.DNSNames[0]
		case len(r.IPs) > 0:
			s.commonName = r.IPs[0].String()
		}
	}
	if s.key == "" {
		s.key = "ecdsa-p256"
	}
	for _, d := range r.Defects {
		switch d {
		case SelfSigned:
			s.issuer = issuerSelf
		case UntrustedRoot:
			s.issuer = issuerUntrusted
		case MissingIntermediate:
		case Expired:
			s.notBefore, s.notAfter = -120*24*time.Hour, -30*24*time.Hour
		case NotYetValid:
			s.notBefore, s.notAfter = 30*24*time.Hour, 120*24*time.Hour
		case NoSAN:
			s.noSAN = true
		case SHA1Signature:
			s.sha1 = true
		case NoServerAuth:
			s.extKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		case WeakKey:
			s.key = "rsa-1024"
		case LongValidity:
			s.notAfter = 5 * 365 * 24 * time.Hour
		case MustStaple:
			s.mustStaple = true
		default:
			return s, fmt.Errorf("certs: unknown defect %q", d)
		}
	}
	return s, nil
}

func (s resolved) newKey() (crypto.Signer, error) {
	switch s.key {
	case "ecdsa-p256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa-p384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "rsa-1024":
		return rsa.GenerateKey(rand.Reader, 1024)
	case "rsa-2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "rsa-4096":
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("unknown key kind %q (want ecdsa-p256, ecdsa-p384, rsa-1024, rsa-2048 or rsa-4096)", s.key)
}
