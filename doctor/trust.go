package doctor

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
		data, err := ReadCertFile(f)
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

// MaxCertFile bounds every certificate file doctor reads: the bundle of
// every public root is about 200 KiB, so anything larger is not one (and
// /dev/zero or a runaway pipe must not fill memory).
const MaxCertFile = 8 << 20

// ErrNotCertFile: the path is a device, a directory or a socket, or larger
// than MaxCertFile.
var ErrNotCertFile = errors.New("not a certificate file")

// ReadCertFile reads a regular file or a pipe (a shell's <(...)), at most
// MaxCertFile bytes of it.
func ReadCertFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("%s: %w: it is a %s", clip(path), ErrNotCertFile, kind(fi.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCertFile+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(data) > MaxCertFile {
		return nil, fmt.Errorf("%s: %w: larger than %d MiB", clip(path), ErrNotCertFile, MaxCertFile>>20)
	}
	return data, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeCharDevice != 0, m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// LoadCA reads a root file: one or more PEM certificates, or one DER one.
// Errors name the path (cmd adds the flag).
func LoadCA(path string) ([]*x509.Certificate, error) {
	data, err := ReadCertFile(path)
	if err != nil {
		if errors.Is(err, ErrNotCertFile) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", clip(path), err)
	}
	certs, err := ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", clip(path), err)
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
