package doctor_test

import (
	"crypto/x509"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/doctor"
	"github.com/wsslab/wsslab/scenarios"
)

// defectFinding is, for each failing row of the table, the doctor check
// that names its defect. A new failing row must be added here.
var defectFinding = map[string]string{
	"self-signed":             "self-signed",
	"ip-url-dns-cert":         "ip-url-dns-cert",
	"ip-in-cn-only":           "ip-in-cn-only",
	"missing-intermediate":    "missing-intermediate",
	"expired":                 "expired",
	"wrong-san":               "wrong-san",
	"untrusted-root":          "untrusted-root",
	"not-yet-valid":           "not-yet-valid",
	"cn-only-no-san":          "cn-only-no-san",
	"sha1-signature":          "sha1-signature",
	"no-server-auth":          "no-server-auth",
	"wildcard-too-deep":       "wildcard-too-deep",
	"ip-san-connect-by-name":  "ip-san-connect-by-name",
	"tls10-only":              "tls-versions",
	"origin-check":            "origin-check",
	"mixed-content":           "mixed-content",
	"subprotocol-required":    "ws-handshake",
	"subprotocol-unrequested": "subprotocol-unrequested",
	"subprotocol-not-offered": "subprotocol-not-offered",
	"auth-header-required":    "auth-header-required",
}

// TestTableFindings runs doctor on every row of the scenario table and
// checks the findings, not only the verdict: a failing row must have an
// ERROR finding, the one that names the row's defect (a self-signed
// certificate is [self-signed], never [missing-intermediate]), and a
// connecting row none. The
// verdict itself is held to real Chrome by scenarios' TestDoctorAgreesWithChrome.
func TestTableFindings(t *testing.T) {
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
	for _, in := range ins {
		sc := in.Scenario
		t.Run(sc.ID, func(t *testing.T) {
			cfg := doctor.Config{URL: in.URL, Private: []*x509.Certificate{lab.PKI.Root.Cert}, NoSystemRoots: true,
				Timeout: 5 * time.Second, Subprotocols: sc.Subprotocols, Cookie: sc.Header.Get("Cookie")}
			host, portStr, err := net.SplitHostPort(in.Endpoint.Addr)
			if err == nil && net.ParseIP(sc.Host) == nil {
				port, _ := strconv.Atoi(portStr)
				cfg.Resolve = []doctor.Resolve{{Host: strings.ToLower(sc.Host), Port: port, Addr: host}}
			}
			rep, err := doctor.Examine(t.Context(), cfg)
			if err != nil {
				t.Fatalf("doctor could not examine %s: %v", in.URL, err)
			}
			var errs []string
			var advice strings.Builder
			for _, f := range rep.Findings {
				if f.Severity == doctor.Error {
					errs = append(errs, f.Check)
				}
				advice.WriteString(f.Message + " " + f.Fix + "\n")
			}
			sort.Strings(errs)
			want, listed := defectFinding[sc.ID]
			switch {
			case rep.Prediction.Connects() && len(errs) > 0:
				t.Errorf("doctor predicts connects but reports ERROR %v", errs)
			case !rep.Prediction.Connects() && !listed:
				t.Errorf("failing row %s has no entry in defectFinding (ERROR findings: %v)", sc.ID, errs)
			case !rep.Prediction.Connects() && (len(errs) != 1 || errs[0] != want):
				// Exactly the row's defect: a second ERROR would be a
				// defect the row does not have.
				t.Errorf("ERROR findings %v, want exactly [%s]\n%s", errs, want, advice.String())
			}
			// Advice to serve the full chain is only for a chain that is
			// not served in full.
			if sc.ID != "missing-intermediate" && strings.Contains(advice.String(), "fullchain.pem, not cert.pem") {
				t.Errorf("advises serving fullchain.pem on a server that does not need it:\n%s", advice.String())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
