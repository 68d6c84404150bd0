package harness

import (
	"context"
	"errors"
	"fmt"

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
	// Topology, if set, is a server only a container backend can run.
	Topology *Topology
	// LoginPath, if set, is fetched by the browser's page from this server
	// before it dials (wsslab's echo server sets the auth cookie there).
	LoginPath string
}

// Topology is a scenario server that is more than wsslab's echo server: nginx
// in front of it, or a server from an image. It is plain data, so the table
// needs no container code; package harness/container interprets it
// (container.Topologies). Exactly one field is set.
type Topology struct {
	// Proxy puts Debian's nginx, configured this way, in front of wsslab's
	// server speaking plain ws:// on a private network.
	Proxy *NginxProxy
	// Image runs this image as the server (bring your own).
	Image *ServerImage
}

// NginxProxy is how the nginx in front is (mis)configured.
type NginxProxy struct {
	// NoUpgradeHeaders leaves out proxy_set_header Upgrade/Connection.
	NoUpgradeHeaders bool
	// HTTP10 leaves proxy_http_version at nginx's default, 1.0.
	HTTP10 bool
}

// ServerImage is a server image and how to start it. The certificate files
// go into certbot's layout, /etc/letsencrypt/live/HOST (${CERT_DIR} in Cmd).
type ServerImage struct {
	// Ref is the image; OwnServerImage is wsslab's own server.
	Ref string
	// Port is its TLS port, "8443".
	Port string
	Cmd  []string
}

// OwnServerImage as ServerImage.Ref is wsslab's own server image
// (container.OwnServer).
const OwnServerImage = "wsslab-server"

// ErrNeedsContainer is returned (wrapped) by a backend that cannot run a
// spec's Topology.
var ErrNeedsContainer = errors.New("needs a container backend")

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
	// Ungraded, if set, says why the table's expectation (measured against
	// wsslab's echo server) does not apply to this server: a user's server
	// running a row that needs the echo server's behaviour. Results are
	// reported, not graded.
	Ungraded string
	// ConnectOnly: the server does not echo. A client that opened the socket
	// but got no echo back counts as connected.
	ConnectOnly bool
	// Note is one line about the server as wsslab saw it ("sends the leaf
	// alone: cert.pem, not fullchain.pem"), for reports; "" if none.
	Note string
}

// SkipError is a backend not running one row's server: it declines the
// row (Err nil: a row it cannot set up faithfully) or the server did not
// start for this row (Err: a certificate the user's server refuses to
// load). Lab.Run reports the row's clients as skipped with Reason; a run in
// which no row's server starts fails with the first Err.
type SkipError struct {
	ID     string
	Reason string
	Err    error
}

func (e *SkipError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "not run: " + e.Reason
}

func (e *SkipError) Unwrap() error { return e.Err }

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
	if spec.Topology != nil {
		return nil, fmt.Errorf("harness: %s: %w", spec.ID, ErrNeedsContainer)
	}
	s, err := NewServer(ServerConfig{Host: spec.Host, Listen: spec.Listen, Certificate: spec.Leaf.TLSCertificate(), Options: spec.Options})
	if err != nil {
		return nil, err
	}
	return &Endpoint{URL: s.URL, Addr: s.Addr, Evidence: s.Evidence, Close: s.Close}, nil
}
