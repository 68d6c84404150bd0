package harness

import (
	"context"

	"github.com/wsslab/wsslab/certs"
)

// ServerSpec is everything a backend needs to run one scenario's server.
type ServerSpec struct {
	// ID names the server (the scenario id) in logs, labels and containers.
	ID string
	// Host is the host clients put in the URL.
	Host string
	// Leaf is the certificate, its key and the chain to serve (Leaf.Served).
	Leaf *certs.Leaf
	// Options shape the echo server.
	Options ServerOptions
	// Listen is an in-process listening address ("" = 127.0.0.1:0).
	Listen string
}

// Endpoint is a running server as clients reach it.
type Endpoint struct {
	// URL is wss://HOST:PORT/ with the spec's Host.
	URL string
	// Addr is the loopback address clients connect to (127.0.0.1:PORT).
	Addr string
	// Evidence returns what the server saw; nil when the backend cannot
	// observe its server.
	Evidence func() Evidence
	// Close stops the server and frees everything it holds.
	Close func()
}

// Backend runs scenario servers: in this process (InProcess), or in
// containers (package harness/container).
type Backend interface {
	Name() string
	Start(ctx context.Context, spec ServerSpec) (*Endpoint, error)
}

// InProcess is the default backend: a Server in this process.
type InProcess struct{}

// Name implements Backend.
func (InProcess) Name() string { return "inprocess" }

// Start implements Backend.
func (InProcess) Start(_ context.Context, spec ServerSpec) (*Endpoint, error) {
	s, err := NewServer(ServerConfig{Host: spec.Host, Listen: spec.Listen, Certificate: spec.Leaf.TLSCertificate(), Options: spec.Options})
	if err != nil {
		return nil, err
	}
	return &Endpoint{URL: s.URL, Addr: s.Addr, Evidence: s.Evidence, Close: s.Close}, nil
}
