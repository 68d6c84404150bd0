package doctor_test

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/doctor"
	"github.com/wsslab/wsslab/internal/testenv"
	"github.com/wsslab/wsslab/scenarios"
)

var verifyCode = regexp.MustCompile(`Verify return code: (\d+) \(`)

// TestOpenSSLModel runs the article's check, real openssl s_client, against
// every TLS row of the table and holds doctor's model of its verify return
// code to what it printed; and a "0 (ok)" where Chrome fails must come with
// the line saying it misleads.
func TestOpenSSLModel(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		testenv.Missing(t, "openssl", err)
	}
	lab, err := scenarios.NewLab()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	ins, err := lab.StartAll(t.Context(), scenarios.Table)
	t.Cleanup(func() { scenarios.CloseAll(ins) })
	if err != nil {
		t.Fatal(err)
	}
	rootFile := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(rootFile, certs.PEM(lab.PKI.Root.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		sc := in.Scenario
		if !strings.HasPrefix(in.URL, "wss://") {
			continue
		}
		t.Run(sc.ID, func(t *testing.T) {
			cfg := doctor.Config{URL: in.URL, Private: []*x509.Certificate{lab.PKI.Root.Cert}, NoSystemRoots: true,
				Timeout: 5 * time.Second, Subprotocols: sc.Subprotocols, Cookie: sc.Header.Get("Cookie")}
			host, portStr, _ := net.SplitHostPort(in.Endpoint.Addr)
			port, _ := strconv.Atoi(portStr)
			if net.ParseIP(sc.Host) == nil {
				cfg.Resolve = []doctor.Resolve{{Host: strings.ToLower(sc.Host), Port: port, Addr: host}}
			}
			rep, err := doctor.Examine(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			o := rep.OpenSSL
			if o == nil {
				t.Fatal("no openssl check in the report")
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", in.Endpoint.Addr, "-servername", rep.Host, "-CAfile", rootFile)
			cmd.Stdin = strings.NewReader("")
			out, _ := cmd.CombinedOutput()
			got := -1
			if m := verifyCode.FindSubmatch(out); m != nil {
				got, _ = strconv.Atoi(string(m[1]))
			}
			t.Logf("openssl %d, model %d (%s); %s", got, o.Code, o.Text, o.Misleads)
			if got != o.Code {
				t.Errorf("openssl s_client says %d, doctor's model %d (%s)\n%s", got, o.Code, o.Text, out)
			}
			if o.Code == 0 && !rep.Prediction.Connects() && o.Misleads == "" {
				t.Errorf("0 (ok) while Chrome fails, and no line says it misleads")
			}
		})
	}
}
