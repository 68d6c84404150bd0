// Package certs mints a throwaway test PKI (root -> intermediate -> leaf) at
// run time, in memory, and the certificate defects that make a browser refuse
// a wss:// endpoint that Postman happily talks to.
//
// Validity defects are relative to the real clock with wide margins, because
// the browser checks dates against the real clock, not a test clock.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// Authority is a CA that can sign certificates.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// DER returns the raw certificate.
func (a *Authority) DER() []byte { return a.Cert.Raw }

// PKI is one run's test hierarchy. Root is what the browser's throwaway NSS
// database and the strict Go client trust; Intermediate signs leaves; Untrusted
// is a second private root that nobody trusts (the "company CA nobody
// installed" case).
type PKI struct {
	Root         *Authority
	Intermediate *Authority
	Untrusted    *Authority
	// UntrustedIntermediate is signed by Untrusted, so a leaf under it has a
	// complete chain that still ends at a root nobody trusts.
	UntrustedIntermediate *Authority
}

// NewPKI mints a fresh root, intermediate and untrusted root. The names carry
// a random suffix so that a root from one run can never be confused with a
// root from another run in an NSS database or a report.
func NewPKI() (*PKI, error) {
	tag := randomTag()
	root, err := newCA("wsslab test root "+tag, nil)
	if err != nil {
		return nil, fmt.Errorf("certs: mint root: %w", err)
	}
	inter, err := newCA("wsslab test intermediate "+tag, root)
	if err != nil {
		return nil, fmt.Errorf("certs: mint intermediate: %w", err)
	}
	untrusted, err := newCA("wsslab untrusted private root "+tag, nil)
	if err != nil {
		return nil, fmt.Errorf("certs: mint untrusted root: %w", err)
	}
	untrustedInter, err := newCA("wsslab untrusted intermediate "+tag, untrusted)
	if err != nil {
		return nil, fmt.Errorf("certs: mint untrusted intermediate: %w", err)
	}
	return &PKI{Root: root, Intermediate: inter, Untrusted: untrusted, UntrustedIntermediate: untrustedInter}, nil
}

// RootPool returns a pool holding only this run's trusted root.
func (p *PKI) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root.Cert)
	return pool
}

func newCA(name string, parent *Authority) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"wsslab"}},
		// Wide margins: the browser uses the real clock, and a CI machine's
		// clock may be off by minutes.
		NotBefore:             now.Add(-48 * time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	signerCert, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
		// An intermediate may only issue leaves (path length 0), like the
		// intermediates public CAs use.
		tmpl.MaxPathLenZero = true
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: key}, nil
}

// Leaf is a minted server certificate, its key, and the chain that the server
// sends (leaf first), exactly as the request said.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Served is the chain the server sends on the wire, leaf first.
	Served []*x509.Certificate
	// Issuers are the CA certificates above the leaf up to and including the
	// root, whether served or not (what fullchain.pem would hold, plus root).
	Issuers []*x509.Certificate
}

// TLSCertificate returns the leaf as a tls.Certificate serving exactly Served.
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{PrivateKey: l.Key, Leaf: l.Cert}
	for _, s := range l.Served {
		c.Certificate = append(c.Certificate, s.Raw)
	}
	return c
}

// Mint creates the leaf the request describes.
func (p *PKI) Mint(req Request) (*Leaf, error) {
	spec, err := req.resolve()
	if err != nil {
		return nil, err
	}
	key, err := spec.newKey()
	if err != nil {
		return nil, fmt.Errorf("certs: mint leaf key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: spec.commonName, Organization: []string{"wsslab"}},
		NotBefore:             now.Add(spec.notBefore),
		NotAfter:              now.Add(spec.notAfter),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           spec.extKeyUsage,
		BasicConstraintsValid: true,
	}
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		// RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl.OCSPServer = req.OCSPServer
	if !spec.noSAN {
		tmpl.DNSNames = spec.dnsNames
		tmpl.IPAddresses = spec.ips
	}
	var chain []*x509.Certificate // issuers above the leaf, nearest first
	signerCert, signerKey := tmpl, key
	switch spec.issuer {
	case issuerSelf:
		// A self-signed leaf is its own issuer.
		tmpl.AuthorityKeyId = nil
	case issuerUntrusted:
		signerCert, signerKey = p.UntrustedIntermediate.Cert, p.UntrustedIntermediate.Key
		chain = []*x509.Certificate{p.UntrustedIntermediate.Cert, p.Untrusted.Cert}
	default:
		signerCert, signerKey = p.Intermediate.Cert, p.Intermediate.Key
		chain = []*x509.Certificate{p.Intermediate.Cert, p.Root.Cert}
	}
	if spec.mustStaple {
		// TLS Feature (1.3.6.1.5.5.7.1.24): SEQUENCE { INTEGER 5 }, 5 being
		// status_request, the OCSP stapling extension.
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{
			Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}, Value: []byte{0x30, 0x03, 0x02, 0x01, 0x05},
		})
	}
	if spec.sha1 {
		// SHA-1 with whatever key type the signer has.
		tmpl.SignatureAlgorithm = x509.ECDSAWithSHA1
		if _, ok := signerKey.(*rsa.PrivateKey); ok {
			tmpl.SignatureAlgorithm = x509.SHA1WithRSA
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		return nil, fmt.Errorf("certs: mint leaf: %w", err)
	}
	return p.finish(der, key, chain, spec)
}

func (p *PKI) finish(der []byte, key crypto.Signer, chain []*x509.Certificate, spec resolved) (*Leaf, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parse minted leaf: %w", err)
	}
	l := &Leaf{Cert: cert, Key: key, Served: []*x509.Certificate{cert}, Issuers: chain}
	switch spec.serve {
	case ServeFullChain:
		if len(chain) > 1 {
			l.Served = append(l.Served, chain[:len(chain)-1]...)
		}
	case ServeWithRoot:
		l.Served = append(l.Served, chain...)
	case ServeLeafOnly:
	}
	return l, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+).
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}

func randomTag() string {
	return fmt.Sprintf("%06x", serial().Int64()&0xffffff)
}
