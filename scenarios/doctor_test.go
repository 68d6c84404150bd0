package scenarios

import (
	"crypto/x509"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/doctor"
	"github.com/wsslab/wsslab/harness"
)

// TestDoctorAgreesWithChrome runs doctor on every scenario of the table and
// checks that its predicted Chrome result is what real Chrome did against
// the same server, in the same run. When they disagree, doctor is wrong.
func TestDoctorAgreesWithChrome(t *testing.T) {
	b := browserFor(t)
	ins, err := lab.StartAll(t.Context(), Table)
	t.Cleanup(func() { CloseAll(ins) })
	if err != nil {
		t.Fatal(err)
	}
	// Chrome dials every server in one batch (see TestBatchIsolation); doctor
	// then examines each server on its own.
	observed := DialAll(t.Context(), ins, b)
	for i, in := range ins {
		sc := in.Scenario
		t.Run(sc.ID, func(t *testing.T) {
			obs := observed[i]
			// doctor predicts Chrome's net error; a blocked socket has none
			// (Chrome's reason is then the constructor's exception).
			netErr := obs.Reason
			if obs.Outcome == harness.Blocked {
				netErr = ""
			}
			rep, err := doctor.Examine(t.Context(), doctorConfig(in, strings.TrimSuffix(b.PageURL(), "/")))
			if err != nil {
				t.Fatalf("doctor could not examine %s: %v", in.URL, err)
			}
			p := rep.Prediction
			t.Logf("chrome %s %q %s; doctor %s %q", obs.Outcome, obs.Reason, obs.Error, p.Outcome, p.NetError)
			if p.Connects() != (obs.Outcome == harness.Connected) || (!p.Connects() && (p.NetError != netErr || p.Outcome != obs.Outcome)) {
				t.Errorf("doctor predicts %s %q, Chrome did %s %q (table: %s)\nfindings:\n  %s\nevidence:\n  %s",
					p.Verdict, p.NetError, obs.Outcome, obs.Reason, sc.Want.Browser, findingLines(rep.Findings), strings.Join(obs.Evidence, "\n  "))
			}
		})
	}
}

// doctorConfig points doctor at a running scenario the way the browser
// reaches it: the scenario host resolved to the server's loopback address,
// only this run's root trusted, the browser page's Origin.
func doctorConfig(in *Instance, origin string) doctor.Config {
	cfg := doctor.Config{
		URL:           in.URL,
		Private:       []*x509.Certificate{lab.PKI.Root.Cert},
		NoSystemRoots: true,
		Timeout:       5 * time.Second,
		Origin:        origin,
		Subprotocols:  in.Scenario.Subprotocols,
		// The cookie the scenario's login gives the browser.
		Cookie: in.Scenario.Header.Get("Cookie"),
	}
	host, portStr, err := net.SplitHostPort(in.Endpoint.Addr)
	if err == nil && net.ParseIP(in.Scenario.Host) == nil {
		port, _ := strconv.Atoi(portStr)
		cfg.Resolve = []doctor.Resolve{{Host: strings.ToLower(in.Scenario.Host), Port: port, Addr: host}}
	}
	return cfg
}

func findingLines(fs []doctor.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Severity)+": ["+f.Check+"] "+f.Message)
	}
	return strings.Join(out, "\n  ")
}
