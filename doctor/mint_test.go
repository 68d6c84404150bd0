package doctor

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// node is a minted certificate and its key, for tests that need chains the
// certs package does not make (SHA-1 intermediates, name constraints, ...).
type node struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// spec is one certificate template in words; the zero value is a good
// ECDSA P-256 leaf valid from two days ago for 90 days, serverAuth.
type spec struct {
	cn        string
	dns       []string
	ips       []net.IP
	ca        bool
	maxPath0  bool
	key       string // "", "rsa1024", "rsa2048"
	sigAlg    x509.SignatureAlgorithm
	eku       []x509.ExtKeyUsage
	noEKU     bool
	notBefore time.Duration // relative to now; default -48h
	notAfter  time.Duration // relative to now; default 90 days
	permitted []string      // name constraints: permitted DNS domains
	excluded  []string
	noBC      bool // no basicConstraints at all
	ku        x509.KeyUsage
	extra     []pkix.Extension
	aia       string        // caIssuers URL
	pathLen   int           // > 0: MaxPathLen
	signer    crypto.Signer // use this key instead of a fresh one of kind key
}

var serial int64 = 1000

func mintKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa512": // needs GODEBUG rsa1024min=0 (differential_test.go sets it)
		k, err = rsa.GenerateKey(rand.Reader, 512)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mint signs s with parent (self-signed when parent is nil).
func mint(t testing.TB, s spec, parent *node) *node {
	t.Helper()
	key := s.signer
	if key == nil {
		key = mintKey(t, s.key)
	}
	now := time.Now()
	if s.notBefore == 0 {
		s.notBefore = -48 * time.Hour
	}
	if s.notAfter == 0 {
		s.notAfter = 90 * 24 * time.Hour
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"wsslab doctor test"}},
		NotBefore:             now.Add(s.notBefore),
		NotAfter:              now.Add(s.notAfter),
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		BasicConstraintsValid: !s.noBC,
		IsCA:                  s.ca,
		MaxPathLenZero:        s.maxPath0,
		SignatureAlgorithm:    s.sigAlg,
		PermittedDNSDomains:   s.permitted,
		ExcludedDNSDomains:    s.excluded,
		ExtraExtensions:       s.extra,
		KeyUsage:              s.ku,
	}
	if s.aia != "" {
		tmpl.IssuingCertificateURL = []string{s.aia}
	}
	if s.pathLen > 0 {
		tmpl.MaxPathLen = s.pathLen
	}
	if tmpl.KeyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if s.ca {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		}
		if _, ok := key.(*rsa.PrivateKey); ok && !s.ca {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	if !s.ca && !s.noEKU {
		tmpl.ExtKeyUsage = s.eku
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	} else if s.eku != nil {
		tmpl.ExtKeyUsage = s.eku
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signerKey)
	if err != nil {
		t.Fatalf("mint %s: %v", s.cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse %s: %v", s.cn, err)
	}
	return &node{cert: c, key: key}
}

// serve is the tls.Certificate a server sends: leaf key, these certs in order.
func serve(leaf *node, chain ...*node) tls.Certificate {
	c := tls.Certificate{PrivateKey: leaf.key, Leaf: leaf.cert}
	for _, n := range append([]*node{leaf}, chain...) {
		c.Certificate = append(c.Certificate, n.cert.Raw)
	}
	return c
}
