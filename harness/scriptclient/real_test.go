package scriptclient

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
)

// TestRealClients dials two servers with each real client: one it must
// connect to, one whose self-signed certificate it must refuse, each
// dialed by name with the name mapped to 127.0.0.1 (Target.Addr). The whole
// table runs in scenarios.TestScenarios; this is the package's own check
// that the scripts and s_client run here. A missing runtime skips (fails
// under CI=true).
func TestRealClients(t *testing.T) { realClients(t, false) }

// TestRealClientsIgnoreCallerTrust: the same, with an environment that
// would make each runtime trust the self-signed certificate or stop
// verifying (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, NODE_TLS_REJECT_UNAUTHORIZED=0):
// a column measures the run's root, not its caller's environment.
func TestRealClientsIgnoreCallerTrust(t *testing.T) { realClients(t, true) }

func realClients(t *testing.T, hostile bool) {
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	var targets []harness.Target
	for _, req := range []certs.Request{
		{DNSNames: []string{"ok.wsslab.test"}},
		{DNSNames: []string{"self.wsslab.test"}, Defects: []certs.Defect{certs.SelfSigned}},
	} {
		leaf, err := pki.Mint(req)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := harness.InProcess{}.Start(t.Context(), harness.ServerSpec{ID: req.DNSNames[0], Host: req.DNSNames[0], Leaf: leaf})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ep.Close)
		targets = append(targets, harness.Target{URL: ep.URL, Addr: ep.Addr, Message: "hi"})
		if hostile && req.Defects != nil {
			f := filepath.Join(t.TempDir(), "trust-me.pem")
			if err := os.WriteFile(f, certs.PEM(leaf.Cert), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("SSL_CERT_FILE", f)
			t.Setenv("NODE_EXTRA_CA_CERTS", f)
			t.Setenv("NODE_TLS_REJECT_UNAUTHORIZED", "0")
		}
	}
	cfg := Config{Root: certs.PEM(pki.Root.Cert), TempDir: t.TempDir()}
	for _, c := range []struct {
		what     string
		start    func(context.Context, Config) (harness.Client, error)
		untrusty string
	}{
		{"node", func(ctx context.Context, c Config) (harness.Client, error) { return StartNode(ctx, c) }, "DEPTH_ZERO_SELF_SIGNED_CERT"},
		{"python", func(ctx context.Context, c Config) (harness.Client, error) { return StartPython(ctx, c) }, "SSLCertVerificationError 18 (self-signed certificate)"},
		{"openssl", func(ctx context.Context, c Config) (harness.Client, error) { return StartOpenSSL(ctx, c) }, "18 (self-signed certificate)"},
	} {
		t.Run(c.what, func(t *testing.T) {
			cl, err := c.start(t.Context(), cfg)
			if harness.IsNotInstalled(err) {
				testenv.Missing(t, c.what, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer cl.(interface{ Close() error }).Close()
			t.Logf("%s %s", cl.Info().ID, cl.Info().Version)
			obs := cl.DialAll(t.Context(), targets)
			if o := obs[0]; o.Outcome != harness.Connected {
				t.Errorf("ok: %s %q %v", o.Outcome, o.Reason, o.Evidence)
			}
			if o := obs[1]; o.Outcome != harness.CertUntrusted || o.Reason != c.untrusty {
				t.Errorf("self-signed: %s %q, want %s %q", o.Outcome, o.Reason, harness.CertUntrusted, c.untrusty)
			}
		})
	}
}
