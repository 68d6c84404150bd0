package scenarios

import (
	"context"
	"fmt"
	"strings"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/scriptclient"
)

// ClientSpec is a client a run can have as a column: what it is, and how a
// lab starts it. Adding a client is one ClientSpec here plus its rows'
// reasons (Want.Reasons in its vocabulary) and exceptions (Want.Except).
type ClientSpec struct {
	harness.ClientInfo
	// Start returns the running client for the lab. The runner calls it
	// while the servers start. An error for which harness.IsNotInstalled
	// holds means the client's runtime is missing here.
	Start func(ctx context.Context, l *Lab) (harness.Client, error)
}

// Clients are every client wsslab has, in the order reports show them.
var Clients = []ClientSpec{
	{ClientInfo: harness.ChromeInfo, Start: func(ctx context.Context, l *Lab) (harness.Client, error) { return l.Browser(ctx) }},
	{ClientInfo: harness.FirefoxInfo, Start: func(ctx context.Context, l *Lab) (harness.Client, error) { return l.Firefox(ctx) }},
	{ClientInfo: harness.Lax().Info(), Start: func(_ context.Context, l *Lab) (harness.Client, error) { return l.Lax, nil }},
	{ClientInfo: harness.Strict(nil).Info(), Start: func(_ context.Context, l *Lab) (harness.Client, error) { return l.Strict, nil }},
	// Clients in other runtimes (harness/scriptclient; scriptclients.go).
	{ClientInfo: scriptclient.NodeInfo, Start: startScript(scriptclient.NodeID, scriptclient.StartNode)},
	{ClientInfo: scriptclient.PythonInfo, Start: startScript(scriptclient.PythonID, scriptclient.StartPython)},
	{ClientInfo: scriptclient.OpenSSLInfo, Start: startScript(scriptclient.OpenSSLID, scriptclient.StartOpenSSL)},
}

// Use is a column for a client that is already running (a test's own).
func Use(c harness.Client) ClientSpec {
	return ClientSpec{ClientInfo: c.Info(), Start: func(context.Context, *Lab) (harness.Client, error) { return c, nil }}
}

// ClientIDs are the ids of Clients.
func ClientIDs() []string {
	ids := make([]string, len(Clients))
	for i, c := range Clients {
		ids[i] = c.ID
	}
	return ids
}

// SelectClients returns the Clients with these ids, in the order given; no
// ids: all of them.
func SelectClients(ids ...string) ([]ClientSpec, error) {
	if len(ids) == 0 {
		return append([]ClientSpec(nil), Clients...), nil
	}
	var out []ClientSpec
	for _, id := range ids {
		found := false
		for _, c := range Clients {
			if c.ID == id {
				out, found = append(out, c), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown client %q (known: %s)", id, strings.Join(ClientIDs(), ", "))
		}
	}
	return out, nil
}

// Validate resolves every row's expectation for every client and returns
// the first table error: a row that says nothing for a client, a failing
// expectation without its exact reason, a reason for a connecting client.
func Validate(rows []Scenario, clients []harness.ClientInfo) error {
	for _, sc := range rows {
		for _, c := range clients {
			if _, err := sc.Expect(c); err != nil {
				return err
			}
		}
	}
	return nil
}
