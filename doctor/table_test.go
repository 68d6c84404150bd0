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
	"ip-url-dns-cert":         "hostname",
	"ip-in-cn-only":           "cn-only",
	"missing-intermediate":    "missing-intermediate",
	"expired":                 "validity",
	"wrong-san":               "hostname",
	"untrusted-root":          "untrusted-root",
	"not-yet-valid":           "validity",
	"cn-only-no-san":          "cn-only",
	"sha1-signature":          "sha1-signature",
	"no-server-auth":          "no-server-auth",
	"wildcard-too-deep":       "hostname",
	"ip-san-connect-by-name":  "hostname",
	"tls10-only":              "tls-versions",
	"origin-check":            "origin-check",
	"mixed-content":           "mixed-content",
	"subprotocol-required":    "ws-handshake",
	"subprotocol-unrequested": "subprotocol-unrequested",
	"auth-header-required":    "auth-header-required",
}

// TestTableFindings runs doctor on every row of the scenario table and
// checks the findings, not only the verdict: a failing row must have an
// ERROR finding that names the row's defect (a self-signed certificate is
// [self-signed], never [missing-intermediate]), and a connecting row none. The
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
			for _, f := range rep.Findings {
				if f.Severity == doctor.Error {
					errs = append(errs, f.Check)
				}
			}
			sort.Strings(errs)
			want, listed := defectFinding[sc.ID]
			switch {
			case rep.Browser.Connects() && len(errs) > 0:
				t.Errorf("doctor predicts connects but reports ERROR %v", errs)
			case !rep.Browser.Connects() && !listed:
				t.Errorf("failing row %s has no entry in defectFinding (ERROR findings: %v)", sc.ID, errs)
			case !rep.Browser.Connects() && !contains(errs, want):
				t.Errorf("ERROR findings %v do not name the defect: want [%s]", errs, want)
			case sc.ID == "self-signed" && contains(errs, "missing-intermediate"):
				t.Errorf("a self-signed certificate reported as an incomplete chain: %v", errs)
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
