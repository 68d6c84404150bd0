package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// The scenario ports and the index port are validated apart, each error
// naming its own flag and range; --base-port 1024 fits (its index goes
// after the scenarios), and 0 means any free ports.
func TestServePorts(t *testing.T) {
	n := len(scenarios.Table)
	for _, tc := range []struct {
		cfg       serveConfig
		index     int
		err, also string
	}{
		{cfg: serveConfig{BasePort: 9440}, index: 9439},
		{cfg: serveConfig{BasePort: 1024}, index: 1024 + n},
		{cfg: serveConfig{BasePort: 1025}, index: 1024},
		{cfg: serveConfig{BasePort: 0}, index: 0},
		{cfg: serveConfig{BasePort: 0, IndexPort: 20000}, index: 20000},
		{cfg: serveConfig{BasePort: 65535 - n + 1}, index: 65535 - n},
		{cfg: serveConfig{BasePort: -5}, err: "--base-port -5: want 0 (any free ports) or a port in 1024-"},
		{cfg: serveConfig{BasePort: 1023}, err: "--base-port 1023: want 0"},
		{cfg: serveConfig{BasePort: 65535 - n + 2}, err: fmt.Sprintf("--base-port %d: want 0", 65535-n+2)},
		{cfg: serveConfig{BasePort: 20000, IndexPort: 80}, err: "--index-port 80: want a port in 1024-65535"},
		{cfg: serveConfig{BasePort: 20000, IndexPort: 20001}, err: fmt.Sprintf("--index-port 20001: want a port outside the scenario ports 20000-%d", 20000+n-1)},
	} {
		got, err := checkPorts(tc.cfg)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.err)
			}
			// The range printed is the flag's, never "ports -5-22".
			if err != nil && strings.Contains(err.Error(), "ports -") {
				t.Errorf("%+v: %v", tc.cfg, err)
			}
		case err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case got.IndexPort != tc.index:
			t.Errorf("%+v: index port %d, want %d", tc.cfg, got.IndexPort, tc.index)
		}
	}
}

// --base-port 0 starts every server and the index on free ports (what
// tests want: no probe-then-release of a port range), distinct and real.
func TestServeAnyFreePorts(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	s, err := startServe(t.Context(), serveConfig{BasePort: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if len(s.Ports) != len(scenarios.Table) || slices.Contains(s.Ports, 0) {
		t.Fatalf("ports %v", s.Ports)
	}
	seen := map[int]bool{s.cfg.IndexPort: true}
	lax := harness.Lax()
	for i, in := range s.Instances {
		if seen[s.Ports[i]] || !strings.Contains(in.URL, fmt.Sprintf(":%d/", s.Ports[i])) {
			t.Errorf("%s: port %d (URL %s) not its own", in.Scenario.ID, s.Ports[i], in.URL)
		}
		seen[s.Ports[i]] = true
		if r := in.Dial(t.Context(), lax); !r.Matched {
			t.Errorf("%s: lax got %s, want %s", in.Scenario.ID, got(r), r.Expected)
		}
	}
	if s.cfg.IndexPort == 0 || !strings.HasSuffix(s.IndexURL, fmt.Sprintf(":%d/", s.cfg.IndexPort)) {
		t.Errorf("index %s on port %d", s.IndexURL, s.cfg.IndexPort)
	}
	get(t, s.IndexURL, s.lab.PKI.RootPool())
	var out strings.Builder
	s.printGuide(&out)
	if !strings.Contains(out.String(), "CHROME DOES") {
		t.Errorf("guide has no column per browser:\n%s", out.String())
	}
	// The server table (up to the guide) fits a terminal, reasons included.
	table, _, _ := strings.Cut(out.String(), "\n\nTest root")
	for _, l := range strings.Split(table, "\n") {
		if len(l) > matrixWidth {
			t.Errorf("a %d-column line in serve's table:\n%s", len(l), l)
		}
	}
	if !strings.Contains(table, "chrome: net::ERR_CERT_AUTHORITY_INVALID") {
		t.Errorf("serve's table lacks the browsers' reasons:\n%s", table)
	}
}

func got(r scenarios.Result) string {
	return scenarios.Expect{Outcome: r.Outcome, Reason: r.Reason}.String()
}
