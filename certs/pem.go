package certs

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// Files names the files WriteCertbot writes, in certbot's layout.
var Files = struct {
	Cert, Chain, FullChain, PrivKey, Root string
}{"cert.pem", "chain.pem", "fullchain.pem", "privkey.pem", "root.pem"}

// PEM encodes certificates as concatenated PEM blocks.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes a private key as PKCS#8 PEM.
func KeyPEM(l *Leaf) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		return nil, fmt.Errorf("certs: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WriteCertbot writes the leaf in certbot's layout into dir:
//
//	cert.pem       the leaf alone
//	chain.pem      the intermediate(s) (what cert.pem is missing)
//	fullchain.pem  leaf + intermediate(s): what a server must send
//	privkey.pem    the leaf's key
//	root.pem       the root the chain ends at (what a client must trust)
//
// For a self-signed leaf chain.pem is empty and root.pem is the leaf itself.
// The files describe the certificate as issued; which of them a scenario's
// server actually sends is Leaf.Served.
func WriteCertbot(dir string, l *Leaf) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	var inters []*x509.Certificate
	root := l.Cert
	if n := len(l.Issuers); n > 0 {
		inters, root = l.Issuers[:n-1], l.Issuers[n-1]
	}
	key, err := KeyPEM(l)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		Files.Cert:      PEM(l.Cert),
		Files.Chain:     PEM(inters...),
		Files.FullChain: PEM(append([]*x509.Certificate{l.Cert}, inters...)...),
		Files.PrivKey:   key,
		Files.Root:      PEM(root),
	}
	for name, data := range files {
		mode := os.FileMode(0o644)
		if name == Files.PrivKey {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			return fmt.Errorf("certs: write %s: %w", name, err)
		}
	}
	return nil
}
