package doctor

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// systemRootFiles is where Linux distributions keep their root bundle (the
// same list crypto/x509 uses).
var systemRootFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

// SystemRoots loads the system's public roots ($SSL_CERT_FILE first). It
// stands in for Chrome's own root store, which holds nearly the same CAs.
func SystemRoots() []*x509.Certificate {
	files := systemRootFiles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		certs, _ := ParseCerts(data)
		if len(certs) > 0 {
			return certs
		}
	}
	return nil
}

// LoadCA reads a --ca file: one or more PEM certificates, or one DER one.
func LoadCA(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca %s: %v", clip(path), unwrapPath(err))
	}
	certs, err := ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("--ca %s: %v", clip(path), err)
	}
	return certs, nil
}

// ParseCerts parses PEM CERTIFICATE blocks, or a single DER certificate.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bad certificate in PEM: %v", err)
		}
		out = append(out, c)
	}
	if sawPEM {
		if len(out) == 0 {
			return nil, errors.New("no CERTIFICATE block in the PEM file (a key or CSR?)")
		}
		return out, nil
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, errors.New("neither PEM nor a DER certificate")
	}
	return []*x509.Certificate{c}, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
