package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/internal/testenv"
)

// Each defect must produce the certificate property it names; Go's own
// verifier is the independent check where it has an opinion.
func TestDefects(t *testing.T) {
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	host := "a.wsslab.test"
	verify := func(l *Leaf, name string) error {
		inter := x509.NewCertPool()
		for _, c := range l.Served[1:] {
			inter.AddCert(c)
		}
		_, err := l.Cert.Verify(x509.VerifyOptions{Roots: pki.RootPool(), Intermediates: inter, DNSName: name})
		return err
	}
	mint := func(r Request) *Leaf {
		t.Helper()
		l, err := pki.Mint(r)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	base := Request{DNSNames: []string{host}}
	with := func(d ...Defect) Request { r := base; r.Defects = d; return r }

	if err := verify(mint(base), host); err != nil {
		t.Errorf("valid leaf does not verify: %v", err)
	}
	if l := mint(base); len(l.Served) != 2 || l.Served[1] != pki.Intermediate.Cert {
		t.Errorf("full chain: served %d certs", len(l.Served))
	}
	l := mint(with(MissingIntermediate))
	if len(l.Served) != 1 {
		t.Errorf("missing-intermediate serves %d certs", len(l.Served))
	}
	var ua x509.UnknownAuthorityError
	if err := verify(l, host); !errors.As(err, &ua) {
		t.Errorf("missing-intermediate: %v", err)
	}
	if l := mint(with(SelfSigned)); l.Cert.Issuer.String() != l.Cert.Subject.String() || len(l.Served) != 1 {
		t.Errorf("self-signed: issuer %s", l.Cert.Issuer)
	}
	if l := mint(with(UntrustedRoot)); len(l.Served) != 3 || l.Served[2] != pki.Untrusted.Cert {
		t.Errorf("untrusted-root must send leaf, intermediate and its root")
	}
	if l := mint(with(Expired)); !l.Cert.NotAfter.Before(time.Now().Add(-24 * time.Hour)) {
		t.Errorf("expired: NotAfter %v", l.Cert.NotAfter)
	}
	if l := mint(with(NotYetValid)); !l.Cert.NotBefore.After(time.Now().Add(24 * time.Hour)) {
		t.Errorf("not-yet-valid: NotBefore %v", l.Cert.NotBefore)
	}
	if l := mint(with(NoSAN)); len(l.Cert.DNSNames) != 0 || l.Cert.Subject.CommonName != host {
		t.Errorf("no-san: SANs %v CN %s", l.Cert.DNSNames, l.Cert.Subject.CommonName)
	}
	if l := mint(with(SHA1Signature)); l.Cert.SignatureAlgorithm != x509.ECDSAWithSHA1 {
		t.Errorf("sha1: %v", l.Cert.SignatureAlgorithm)
	}
	if l := mint(with(NoServerAuth)); len(l.Cert.ExtKeyUsage) != 1 || l.Cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("no-server-auth: %v", l.Cert.ExtKeyUsage)
	}
	if l := mint(with(WeakKey)); l.Cert.PublicKey.(*rsa.PublicKey).N.BitLen() != 1024 {
		t.Errorf("weak-key: not RSA-1024")
	}
	if l := mint(with(LongValidity)); l.Cert.NotAfter.Sub(l.Cert.NotBefore) < 4*365*24*time.Hour {
		t.Errorf("long-validity: %v", l.Cert.NotAfter.Sub(l.Cert.NotBefore))
	}
	if l := mint(base); !isECDSA(l) {
		t.Errorf("default key is not ECDSA")
	}
	ipLeaf := mint(Request{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err := verify(ipLeaf, "127.0.0.1"); err != nil {
		t.Errorf("IP SAN leaf: %v", err)
	}
	if _, err := pki.Mint(Request{Defects: []Defect{"nope"}}); err == nil || !strings.Contains(err.Error(), `unknown defect "nope"`) {
		t.Errorf("unknown defect: %v", err)
	}
}

func isECDSA(l *Leaf) bool { _, ok := l.Cert.PublicKey.(*ecdsa.PublicKey); return ok }

// WriteCertbot's files must be what openssl users expect: fullchain.pem
// verifies against root.pem, cert.pem alone does not.
func TestWriteCertbotWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		testenv.Missing(t, "openssl", errors.New("apt-get install -y openssl"))
	}
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	l, err := pki.Mint(Request{DNSNames: []string{"a.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteCertbot(dir, l); err != nil {
		t.Fatal(err)
	}
	p := func(f string) string { return filepath.Join(dir, f) }
	run := func(args ...string) (string, error) {
		out, err := exec.Command("openssl", args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("verify", "-CAfile", p(Files.Root), "-untrusted", p(Files.Chain), p(Files.Cert)); err != nil {
		t.Errorf("cert.pem with chain.pem does not verify: %v\n%s", err, out)
	}
	if out, err := run("verify", "-CAfile", p(Files.Root), p(Files.Cert)); err == nil {
		t.Errorf("cert.pem without its intermediate verified:\n%s", out)
	}
	if out, err := run("x509", "-in", p(Files.FullChain), "-noout", "-ext", "subjectAltName"); err != nil || !strings.Contains(out, "DNS:a.wsslab.test") {
		t.Errorf("SAN not found in fullchain.pem: %v\n%s", err, out)
	}
	if fi, err := os.Stat(p(Files.PrivKey)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("privkey.pem mode: %v %v", fi.Mode(), err)
	}
}
