package harness

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/internal/testenv"
)

// TestTrustHomeRechecksTrust: a root that is in the database but not
// trusted as a TLS CA is an error, not a browser that silently distrusts it.
func TestTrustHomeRechecksTrust(t *testing.T) {
	testenv.Need(t, "browser", CheckBrowserTools())
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	roots := []*x509.Certificate{pki.Root.Cert}
	if _, err := NewTrustHome(t.TempDir(), roots); err != nil {
		t.Fatalf("trusted root: %v", err)
	}
	defer func(f string) { trustFlags = f }(trustFlags)
	for _, flags := range []string{",,", "P,,", ",C,"} {
		trustFlags = flags
		_, err := NewTrustHome(t.TempDir(), roots)
		if err == nil || !strings.Contains(err.Error(), "not trusted as a TLS CA") {
			t.Errorf("root installed with trust %q: err = %v, want the re-check to fail", flags, err)
		}
	}
}
