package container

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/wsslab/wsslab/certs"
)

// runSpec is one container to start.
type runSpec struct {
	id      string // scenario id, for the name and a label
	image   string
	cmd     []string
	env     map[string]string
	files   map[string][]byte // container path -> content
	publish []string          // container ports ("8443/tcp") published on 127.0.0.1
	fixed   map[string]string // container port -> fixed host port
	wait    wait.Strategy
	network string
	aliases []string
}

// run starts a container and tracks it for Close before looking at the
// error, so a half-started container is never lost.
func (b *Backend) run(ctx context.Context, rs runSpec) (*testcontainers.DockerContainer, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errors.New("container: backend is closed")
	}
	b.seq++
	name := fmt.Sprintf("wsslab-%s-%s-%d", b.session, sanitize(rs.id), b.seq)
	b.mu.Unlock()
	labels := b.Labels()
	labels["wsslab.scenario"] = rs.id
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithName(name),
		testcontainers.WithLabels(labels),
		testcontainers.WithLogger(b.opts.Logger),
		testcontainers.WithExposedPorts(rs.publish...),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{}
			for _, p := range rs.publish {
				port, err := network.ParsePort(p)
				if err != nil {
					continue // WithExposedPorts reports it
				}
				// Loopback only: scenario servers are deliberately broken
				// and must never be reachable from the network.
				hc.PortBindings[port] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: rs.fixed[p]}}
			}
		}),
	}
	if len(rs.cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(rs.cmd...))
	}
	if len(rs.env) > 0 {
		opts = append(opts, testcontainers.WithEnv(rs.env))
	}
	for path, data := range rs.files {
		mode := int64(0o644)
		if strings.HasSuffix(path, certs.Files.PrivKey) {
			mode = 0o600
		}
		opts = append(opts, testcontainers.WithFiles(testcontainers.ContainerFile{Reader: bytes.NewReader(data), ContainerFilePath: path, FileMode: mode}))
	}
	if rs.network != "" {
		opts = append(opts, tcnetwork.WithNetworkName(rs.aliases, rs.network))
	}
	if rs.wait != nil {
		opts = append(opts, testcontainers.WithWaitStrategyAndDeadline(b.opts.StartupTimeout, rs.wait))
	}
	c, err := testcontainers.Run(ctx, rs.image, opts...)
	if c != nil {
		b.mu.Lock()
		b.containers[c.ID] = c
		b.mu.Unlock()
	}
	if err != nil {
		logs := tail(c)
		b.terminate(c)
		return nil, fmt.Errorf("container: start %s (%s): %w%s", rs.id, rs.image, err, logs)
	}
	return c, nil
}

func sanitize(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(id))
}

// tail returns the last lines a failed container printed, for the error.
func tail(c *testcontainers.DockerContainer) string {
	if c == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 10 {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "; container output:\n  " + strings.Join(lines, "\n  ")
}

// terminate stops and removes a container now (docker stop -t 0: the
// scenario servers hold no state worth a graceful stop).
func (b *Backend) terminate(c *testcontainers.DockerContainer) error {
	if c == nil {
		return nil
	}
	err := testcontainers.TerminateContainer(c, testcontainers.StopTimeout(0))
	b.mu.Lock()
	delete(b.containers, c.ID)
	b.mu.Unlock()
	return err
}

// hostPort returns the 127.0.0.1 port a container port is published on.
func hostPort(ctx context.Context, c *testcontainers.DockerContainer, port string) (string, error) {
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("container: mapped port %s: %w", port, err)
	}
	return p.Port(), nil
}

// listenPort turns ServerSpec.Listen into a fixed host port ("" = any). The
// container backend publishes on 127.0.0.1 only.
func listenPort(listen string) (string, error) {
	if listen == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("container: listen address %q: %w", listen, err)
	}
	if host != "" && host != "127.0.0.1" {
		return "", fmt.Errorf("container: listen address %q: containers are published on 127.0.0.1 only", listen)
	}
	if port == "0" {
		port = ""
	}
	return port, nil
}
