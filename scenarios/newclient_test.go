package scenarios

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/wsslab/wsslab/harness"
)

// originClient is a client that exists only in this test: the strict Go
// client, sending the browser page's Origin as a browser would. It shows
// what a new column costs: this declaration, plus the rows where it
// behaves unlike its class (verifying) — no change to the runner, the
// reports, the CLI or serve.
type originClient struct{ strict *harness.GoClient }

func (c originClient) Info() harness.ClientInfo {
	return harness.ClientInfo{ID: "strict-origin", Name: "Strict Go client sending an Origin", Class: harness.VerifyingClass, Reasons: harness.GoReasons, Version: c.strict.Info().Version}
}

func (c originClient) DialAll(ctx context.Context, targets []harness.Target) []harness.Observation {
	withOrigin := make([]harness.Target, len(targets))
	for i, t := range targets {
		t.Header = t.Header.Clone()
		if t.Header == nil {
			t.Header = http.Header{}
		}
		t.Header.Set("Origin", "https://"+PageHost)
		withOrigin[i] = t
	}
	out := c.strict.DialAll(ctx, withOrigin)
	for i := range out {
		out[i].Client = c.Info().ID
	}
	return out
}

// TestNewClientIsOneDeclaration runs the table with a test-only client as a
// fourth column. Its rows' exceptions are data: the one row where sending an
// Origin changes what a verifying client sees.
func TestNewClientIsOneDeclaration(t *testing.T) {
	c := originClient{lab.Strict}
	rows := append([]Scenario(nil), Table...)
	for i := range rows {
		if rows[i].ID == "origin-check" {
			rows[i].Want.Except = map[string]Expect{c.Info().ID: {Outcome: harness.HandshakeRejected, Reason: "HTTP 403"}}
		}
	}
	// Every other row resolves for it as it is: its class's outcomes and
	// the Go reasons are its own.
	clients := []ClientSpec{Use(lab.Lax), Use(c)}
	if err := Validate(Table, []harness.ClientInfo{c.Info()}); err != nil {
		t.Fatalf("the table without exceptions should resolve for a verifying Go client: %v", err)
	}
	m, err := lab.Run(t.Context(), RunConfig{Scenarios: rows, Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.Clients); got != 2 || m.Clients[1].ID != "strict-origin" {
		t.Fatalf("columns %+v", m.Clients)
	}
	checkMatrix(t, m, "")

	// And without the exception, the origin-check row is a mismatch.
	plain, err := lab.Run(t.Context(), RunConfig{Scenarios: onlyRow(t, "origin-check"), Clients: []ClientSpec{Use(c)}})
	if err != nil {
		t.Fatal(err)
	}
	if r := plain.Rows[0].Results[0]; r.Matched || r.Reason != "HTTP 403" {
		t.Errorf("origin-check without the exception: %+v", r)
	}
}

// A client in a vocabulary the table has no reasons in is a table error
// before anything runs: it is never graded against another client's reasons.
func TestNewVocabularyNeedsItsReasons(t *testing.T) {
	firefox := harness.ClientInfo{ID: "firefox", Name: "Firefox", Class: harness.BrowserClass, Reasons: "nss"}
	err := Validate(Table, []harness.ClientInfo{firefox})
	if !errors.Is(err, ErrNoExpectation) {
		t.Fatalf("Validate = %v, want ErrNoExpectation", err)
	}
	_, err = lab.Run(t.Context(), RunConfig{Scenarios: Table, Clients: []ClientSpec{{ClientInfo: firefox, Start: func(context.Context, *Lab) (harness.Client, error) {
		t.Fatal("a client was started for a table that has no expectation for it")
		return nil, nil
	}}}})
	if !errors.Is(err, ErrNoExpectation) {
		t.Errorf("Run = %v, want ErrNoExpectation", err)
	}
}

func onlyRow(t *testing.T, id string) []Scenario {
	t.Helper()
	sc, err := Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return []Scenario{sc}
}
