// Package container runs wsslab's scenario servers in Docker containers,
// started by testcontainers-go: the project's own static WSS echo server
// (Backend), a user's own server image (Backend.WithImage), and the
// production topology, nginx terminating TLS in front of a plain ws://
// backend (Backend.Nginx). Each is a harness.Backend, so the same scenario
// table and the same clients run against it.
//
// Nothing is pulled: the images are built FROM scratch from files on this
// machine (a CGO_ENABLED=0 wsslab-server; Debian's nginx binary and the
// libraries ldd names), once per Backend. Ryuk (testcontainers' reaper,
// itself an image to pull) is off; instead every container, network and
// image is labeled (LabelHarness, LabelSession, LabelOwner), Backend.Close
// removes this run's, and New sweeps what killed runs left behind. Ports are
// published on 127.0.0.1 only.
package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// Options configure New.
type Options struct {
	// Logger receives testcontainers' progress lines ("Creating
	// container ..."); nil keeps them quiet.
	Logger tclog.Logger
	// StartupTimeout bounds one container's start until it is ready
	// (default 60s).
	StartupTimeout time.Duration
}

// Backend runs scenario servers in containers. It is a harness.Backend; one
// per process is the intent (its images are built once, on first use).
// Close removes everything it created.
type Backend struct {
	opts    Options
	session string
	owner   map[string]string
	tmp     string
	swept   []Resource

	mu         sync.Mutex
	seq        int
	containers map[string]*testcontainers.DockerContainer
	networks   map[string]*testcontainers.DockerNetwork
	images     map[string]*builtImage
	builds     []Build
	closed     bool
}

type builtImage struct {
	once sync.Once
	tag  string
	err  error
}

// New checks that an engine answers (within EngineTimeout), sweeps what
// killed runs left behind, and returns a Backend. The error wraps
// ErrNoEngine when there is no engine.
func New(ctx context.Context, opts Options) (*Backend, error) {
	setup()
	if opts.Logger == nil {
		opts.Logger = tclog.NewNoopLogger()
	}
	if opts.StartupTimeout == 0 {
		opts.StartupTimeout = 60 * time.Second
	}
	swept, err := Sweep(ctx)
	if err != nil {
		return nil, err
	}
	// Named by owner pid, so Sweep removes it after a killed run.
	tmp, err := harness.MkdirTemp("", "container")
	if err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	return &Backend{
		opts:       opts,
		session:    newSession(),
		owner:      ownerLabels(),
		tmp:        tmp,
		swept:      swept,
		containers: map[string]*testcontainers.DockerContainer{},
		networks:   map[string]*testcontainers.DockerNetwork{},
		images:     map[string]*builtImage{},
	}, nil
}

// Name implements harness.Backend.
func (b *Backend) Name() string { return "container" }

// Session is the value of LabelSession on everything this Backend creates.
func (b *Backend) Session() string { return b.session }

// Swept lists what New's sweep removed (leftovers of killed runs).
func (b *Backend) Swept() []Resource { return b.swept }

// Builds lists the images built so far and what each cost.
func (b *Backend) Builds() []Build {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Build(nil), b.builds...)
}

// Labels are the labels of this Backend's resources.
func (b *Backend) Labels() map[string]string {
	l := map[string]string{LabelHarness: "1", LabelSession: b.session}
	for k, v := range b.owner {
		l[k] = v
	}
	return l
}

// image builds one of wsslab's images (kind "server" or "nginx") the first
// time it is asked for, and returns its tag.
func (b *Backend) image(ctx context.Context, kind string) (string, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return "", errors.New("container: backend is closed")
	}
	im := b.images[kind]
	if im == nil {
		im = &builtImage{tag: "wsslab-" + kind + ":" + b.session}
		b.images[kind] = im
	}
	b.mu.Unlock()
	im.once.Do(func() {
		start := time.Now()
		var files []file
		var entrypoint []string
		switch kind {
		case "server":
			files, im.err = serverFiles(ctx, b.tmp)
			entrypoint = []string{"/wsslab-server"}
		case "nginx":
			files, im.err = nginxFiles(ctx)
			entrypoint = []string{"/usr/sbin/nginx", "-g", "daemon off;"}
		default:
			im.err = fmt.Errorf("container: unknown image kind %q", kind)
		}
		if im.err != nil {
			return
		}
		prepared := time.Now()
		cli, err := dockerClient(ctx)
		if err != nil {
			im.err = err
			return
		}
		defer cli.Close()
		im.err = buildImage(ctx, cli, im.tag, files, entrypoint, b.Labels())
		b.mu.Lock()
		b.builds = append(b.builds, Build{Image: im.tag, Prepare: prepared.Sub(start), Duration: time.Since(prepared)})
		b.mu.Unlock()
	})
	return im.tag, im.err
}

// ServerImage builds (once) and returns the tag of wsslab's own server
// image: /wsslab-server as entrypoint, see cmd/wsslab-server for its flags.
// Use it as Image.Ref to treat it as "your own image".
func (b *Backend) ServerImage(ctx context.Context) (string, error) { return b.image(ctx, "server") }

// Container ports of the wsslab-server image.
const (
	serverPort   = "8443/tcp"
	evidencePort = "8081/tcp"
)

// Start implements harness.Backend: the scenario's server is wsslab-server
// in a container, serving exactly spec.Leaf.Served.
func (b *Backend) Start(ctx context.Context, spec harness.ServerSpec) (*harness.Endpoint, error) {
	fixed, err := listenPort(spec.Listen)
	if err != nil {
		return nil, err
	}
	tag, err := b.ServerImage(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := serverRun(spec, tag)
	if err != nil {
		return nil, err
	}
	rs.publish = []string{serverPort, evidencePort}
	rs.fixed = map[string]string{serverPort: fixed}
	c, err := b.run(ctx, rs)
	if err != nil {
		return nil, err
	}
	return b.endpoint(ctx, c, spec, serverPort, evidencePort)
}

// serverRun is the wsslab-server container for spec: its certificate files
// (the served chain exactly, and the key) and its options as JSON.
func serverRun(spec harness.ServerSpec, tag string) (runSpec, error) {
	opts, err := json.Marshal(spec.Options)
	if err != nil {
		return runSpec{}, fmt.Errorf("container: server options: %w", err)
	}
	rs := runSpec{
		id:    spec.ID,
		image: tag,
		cmd:   []string{"-listen", ":8443", "-evidence-listen", ":8081"},
		env:   map[string]string{"WSSLAB_SERVER_OPTIONS": string(opts)},
		// READY is printed only once the server listens; Docker's port
		// proxy accepts before that, so a port check would lie.
		wait: wait.ForLog("READY ").WithPollInterval(50 * time.Millisecond),
	}
	if !spec.Options.Plain {
		if spec.Leaf == nil {
			return runSpec{}, fmt.Errorf("container: %s: no certificate", spec.ID)
		}
		key, err := certs.KeyPEM(spec.Leaf)
		if err != nil {
			return runSpec{}, err
		}
		rs.files = map[string][]byte{
			"/certs/served.pem":             certs.PEM(spec.Leaf.Served...),
			"/certs/" + certs.Files.PrivKey: key,
		}
		rs.cmd = append(rs.cmd, "-cert", "/certs/served.pem", "-key", "/certs/"+certs.Files.PrivKey)
	}
	return rs, nil
}

// endpoint describes a started container to clients.
func (b *Backend) endpoint(ctx context.Context, c *testcontainers.DockerContainer, spec harness.ServerSpec, port, evPort string) (*harness.Endpoint, error) {
	hp, err := hostPort(ctx, c, port)
	if err != nil {
		b.terminate(c)
		return nil, err
	}
	host := spec.Host
	if host == "" {
		host = "127.0.0.1"
	}
	scheme := "wss"
	if spec.Options.Plain {
		scheme = "ws"
	}
	ep := &harness.Endpoint{
		URL:  scheme + "://" + net.JoinHostPort(host, hp) + "/",
		Addr: net.JoinHostPort("127.0.0.1", hp),
		Close: sync.OnceFunc(func() {
			b.terminate(c)
		}),
	}
	if evPort != "" {
		ep.Evidence = b.evidence(ctx, c, evPort)
	}
	return ep, nil
}

// evidence reads what wsslab-server saw from its plain-HTTP side port. A
// container that is gone reports the zero Evidence.
func (b *Backend) evidence(ctx context.Context, c *testcontainers.DockerContainer, port string) func() harness.Evidence {
	hp, err := hostPort(ctx, c, port)
	if err != nil {
		return nil
	}
	url := "http://" + net.JoinHostPort("127.0.0.1", hp) + "/evidence"
	return func() harness.Evidence {
		var ev harness.Evidence
		hc := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		resp, err := hc.Get(url)
		if err != nil {
			return ev
		}
		defer resp.Body.Close()
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ev)
		return ev
	}
}

// Close removes every container and network this Backend started and the
// images it built, then checks that nothing labeled with its session
// remains. Safe to call more than once.
func (b *Backend) Close() error {
	b.mu.Lock()
	b.closed = true
	cs := make([]*testcontainers.DockerContainer, 0, len(b.containers))
	for _, c := range b.containers {
		cs = append(cs, c)
	}
	ns := make([]*testcontainers.DockerNetwork, 0, len(b.networks))
	for _, n := range b.networks {
		ns = append(ns, n)
	}
	b.networks = map[string]*testcontainers.DockerNetwork{}
	b.mu.Unlock()
	var errs []error
	for _, c := range cs {
		if err := b.terminate(c); err != nil {
			errs = append(errs, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range ns {
		if err := n.Remove(ctx); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("container: remove network %s: %w", n.Name, err))
		}
	}
	// Images last, and whatever else carries this session's label (an
	// image whose build failed half-way, a container of a crashed Start).
	cli, err := dockerClient(ctx)
	if err != nil {
		errs = append(errs, err)
	} else {
		defer cli.Close()
		rs, err := list(ctx, cli, b.session)
		if err == nil {
			err = remove(ctx, cli, rs)
		}
		if err == nil {
			rs, err = list(ctx, cli, b.session)
			if err == nil && len(rs) > 0 {
				err = fmt.Errorf("container: still present after Close: %v", rs)
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	os.RemoveAll(b.tmp)
	return errors.Join(errs...)
}
