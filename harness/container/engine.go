package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/wsslab/wsslab/internal/require"
)

// ErrNoEngine is returned (wrapped) when no Docker engine answers. Its
// message names what fixes it.
var ErrNoEngine = errors.New("no Docker engine answered: install and start one (apt-get install -y docker.io) or point DOCKER_HOST at it; the in-process backend needs none")

// RequireEngine reports whether a missing engine must fail rather than skip:
// under CI=true or WSSLAB_REQUIRE_DOCKER=1 the container scenarios never
// vanish.
func RequireEngine() bool {
	return require.Required("docker")
}

// EngineTimeout bounds the engine check. testcontainers'
// SkipIfProviderIsNotHealthy has no bound and hangs on a socket that accepts
// but never answers.
const EngineTimeout = 5 * time.Second

// Seams for the test that proves the check cannot hang.
var (
	engineTimeout   = EngineTimeout
	newDockerClient = func(ctx context.Context) (*testcontainers.DockerClient, error) {
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return nil, err
		}
		// testcontainers falls back to other engines when DOCKER_HOST does
		// not answer; a user who set it means that engine, or none.
		if want := os.Getenv("DOCKER_HOST"); want != "" && cli.DaemonHost() != want {
			got := cli.DaemonHost()
			cli.Close()
			return nil, fmt.Errorf("DOCKER_HOST=%s does not answer (the engine client would have used %s instead)", want, got)
		}
		if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
			cli.Close()
			return nil, err
		}
		return cli, nil
	}
)

var setupOnce sync.Once

// setup fixes testcontainers' environment before its first call (it reads
// its configuration once per process):
//   - Ryuk off: its image cannot be pulled here, and wsslab cleans up
//     itself (labels, Close, Sweep).
//   - published ports are reached on 127.0.0.1: wsslab publishes on loopback
//     only, and testcontainers would otherwise guess the bridge gateway when
//     this process runs inside a container.
func setup() {
	setupOnce.Do(func() {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		if _, ok := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !ok {
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		}
	})
}

// dockerClient connects to the engine testcontainers would use, within
// EngineTimeout. The caller closes it.
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	setup()
	ctx, cancel := context.WithTimeout(ctx, engineTimeout)
	defer cancel()
	type result struct {
		cli *testcontainers.DockerClient
		err error
	}
	// The client's own discovery honours ctx, but nothing here may hang if
	// some path does not: the answer is abandoned at the deadline.
	ch := make(chan result, 1)
	go func() {
		cli, err := newDockerClient(ctx)
		ch <- result{cli, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			// One line: the engine client's own errors span several.
			return nil, fmt.Errorf("container: %w (%s)", ErrNoEngine, strings.Join(strings.Fields(r.err.Error()), " "))
		}
		return r.cli, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.cli != nil {
				r.cli.Close()
			}
		}()
		return nil, fmt.Errorf("container: %w (no answer within %s)", ErrNoEngine, engineTimeout)
	}
}

var (
	availableOnce sync.Once
	availableErr  error
)

// Available reports whether a Docker engine answers within EngineTimeout.
// The error wraps ErrNoEngine. The answer is kept for the process (as
// testcontainers keeps the engine it found), so a silent engine costs the
// timeout once, not once per test.
func Available(ctx context.Context) error {
	availableOnce.Do(func() {
		cli, err := dockerClient(context.WithoutCancel(ctx))
		if err == nil {
			err = cli.Close()
		}
		availableErr = err
	})
	return availableErr
}
