package doctor_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/scenarios"
)

// doctorOnlyIDs are finding ids with no row in the table: problems (or
// information) the table has no scenario for.
var doctorOnlyIDs = []string{
	"basic-constraints", "cert-malformed", "chain-empty", "chain-extra", "chain-loop", "chain-order",
	"chain-root-sent", "chain-too-long", "critical-extension", "expires-soon", "go-handshake", "hidden-by-earlier-error", "host-chars", "ip-host",
	"issuer-unknown", "key-mismatch", "key-unsupported", "key-usage", "name-constraints", "not-tls", "path-length",
	"private-root", "signature-invalid", "tcp", "tls-alert", "tls-broken", "tls-ciphers", "tls-closed", "tls-versions",
	"unsafe-port", "wildcard-apex", "wildcard-partial", "wildcard-public-suffix", "ws-handshake", "ws-not-http", "ws-plain-to-tls", "ws-subprotocol",
	"ws-upgrade-unchecked",
}

// TestFindingIDsAreKnown reads every finding id doctor's source can emit
// and checks it is a table scenario id, a certs.Defect, or listed above.
func TestFindingIDsAreKnown(t *testing.T) {
	known := map[string]bool{}
	for _, sc := range append(append([]scenarios.Scenario{}, scenarios.Table...), scenarios.ContainerTable...) {
		known[sc.ID] = true
	}
	for _, d := range []certs.Defect{certs.SelfSigned, certs.MissingIntermediate, certs.Expired, certs.NotYetValid,
		certs.UntrustedRoot, certs.NoSAN, certs.SHA1Signature, certs.NoServerAuth, certs.WeakKey, certs.LongValidity} {
		known[string(d)] = true
	}
	for _, id := range doctorOnlyIDs {
		if known[id] {
			t.Errorf("%q is listed as doctor-only but is a table/defect id", id)
		}
		known[id] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	// Finding ids appear as f.add's check, and as the name defects MatchHost
	// returns (Defect = "...", return false, "...").
	re := regexp.MustCompile(`(?:f\.add\((?:Error|Warn|Info), |\bcheck(?:, fix)? :?= |\bDefect = |return false, )"([^"]+)"`)
	seen := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			seen++
			if !known[m[1]] {
				t.Errorf("%s: finding id %q is neither a table/defect id nor listed in doctorOnlyIDs", name, m[1])
			}
		}
	}
	if seen < 40 {
		t.Errorf("found only %d finding ids in the source: has f.add changed shape?", seen)
	}
}
