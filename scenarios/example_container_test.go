package scenarios_test

import (
	"context"
	"fmt"

	"github.com/wsslab/wsslab/harness/container"
	"github.com/wsslab/wsslab/scenarios"
)

// Run scenarios against your own WSS server image: the harness mints each
// scenario's certificate, copies it into the container in certbot's layout
// (/etc/letsencrypt/live/HOST/{cert,chain,fullchain,privkey}.pem), starts
// it with your command, waits until the port answers TLS, and dials it with
// every client: real Chromium, a Postman-like client and a strict Go client.
// (README's "Bring your own server image" is this example.)
func Example_bringYourOwnImage() {
	if err := runYourImage(context.Background()); err != nil {
		fmt.Println(err) // errors.Is(err, container.ErrNoEngine): no Docker; harness.ErrNoBrowser: no Chromium
	}
}

// runYourImage is README's "Bring your own server image", verbatim.
func runYourImage(ctx context.Context) error {
	b, err := container.New(ctx, container.Options{}) // errors.Is(err, container.ErrNoEngine): no Docker
	if err != nil {
		return err
	}
	defer b.Close() // removes every container, network and image it made

	lab, err := scenarios.NewLab()
	if err != nil {
		return err
	}
	defer lab.Close()
	lab.Backend = b.WithImage(container.Image{
		Ref:  container.OwnServer, // e.g. "registry.example.com/chat-server:1.4"
		Port: "8443",
		// ${CERT_DIR} is /etc/letsencrypt/live/${HOST}; Env values expand too.
		Cmd: []string{"-listen", ":8443", "-cert", "${CERT_DIR}/fullchain.pem", "-key", "${CERT_DIR}/privkey.pem"},
	})
	list, err := scenarios.Select("valid-fullchain", "self-signed", "expired", "wrong-san")
	if err != nil {
		return err
	}
	m, err := lab.Run(ctx, scenarios.RunConfig{Scenarios: list, Clients: scenarios.Clients})
	if err != nil {
		return err
	}
	for _, row := range m.Rows {
		for _, r := range row.Results { // one per client: chrome, firefox, lax, strict, node, python, openssl
			fmt.Printf("%-16s %-7s %-18s %s matched=%v\n", r.Scenario, r.Client, r.Outcome, r.Reason, r.Matched)
		}
	}
	return nil
}
