package scenarios_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/internal/testenv"
	"github.com/wsslab/wsslab/scenarios"
)

// Run scenarios against your own server process, no Docker: the harness
// mints each scenario's certificate, writes it in certbot's layout into a
// temp dir, starts your command with {port}, {fullchain}, {key}, ...
// expanded (and WSSLAB_PORT, WSSLAB_CERT_DIR, ... set), waits until the port
// answers TLS, dials it with every client, and stops your server's process
// group. (README's "Your own server process" is this example; the test
// below runs it.)
func Example_yourServerProcess() {
	if err := runYourProcess(context.Background(), os.Stdout); err != nil {
		fmt.Println(err) // harness.ErrNoBrowser: no Chromium; *harness.ProcessError: your server did not come up
	}
}

// runYourProcess is README's "Your own server process", verbatim.
func runYourProcess(ctx context.Context, w io.Writer) error {
	lab, err := scenarios.NewLab()
	if err != nil {
		return err
	}
	defer lab.Close()
	lab.Backend = harness.Process{
		Cmd: "/usr/bin/node node_server.js --port {port} --cert {fullchain} --key {key}",
		Dir: "../fixtures/servers", // where your server lives
		// Ready: "listening on",   // or wait for a line instead of a TLS handshake
		// NoEcho: true,            // a server that does not echo: connect only
	}
	list, err := scenarios.Select("valid-fullchain", "self-signed", "wrong-san", "origin-check")
	if err != nil {
		return err
	}
	m, err := lab.Run(ctx, scenarios.RunConfig{Scenarios: list, Clients: scenarios.Clients})
	if err != nil {
		return err
	}
	for _, row := range m.Rows {
		for _, r := range row.Results { // one per client: chrome, firefox, lax, strict, node, python, openssl
			graded := "matched=" + fmt.Sprint(r.Matched)
			if r.Ungraded != "" { // a row built on wsslab's echo server's behaviour
				graded = "not graded"
			}
			fmt.Fprintf(w, "%-15s %-6s %-18s %s %s\n", r.Scenario, r.Client, r.Outcome, r.Reason, graded)
		}
	}
	return nil
}

// TestExampleYourProcess runs the example against the Node fixture server.
func TestExampleYourProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	testenv.Need(t, "browser", harness.CheckBrowserTools())
	if _, err := os.Stat("/usr/share/nodejs/ws"); err != nil {
		testenv.Missing(t, "node", errors.New("/usr/bin/node with ws: apt-get install -y nodejs node-ws"))
	}
	var out bytes.Buffer
	if err := runYourProcess(t.Context(), &out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	// Measured; the control rows graded as the table, origin-check not.
	want := []string{
		"valid-fullchain chrome connected matched=true",
		"self-signed chrome cert-untrusted net::ERR_CERT_AUTHORITY_INVALID matched=true",
		"wrong-san lax connected matched=true",
		"origin-check chrome connected not graded",
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}
