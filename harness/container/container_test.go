package container

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	ownerid "github.com/wsslab/wsslab/internal/owner"
	"github.com/wsslab/wsslab/internal/testenv"
)

// requireEngine skips when no Docker engine answers, or fails under
// CI=true / WSSLAB_REQUIRE_DOCKER=1.
func requireEngine(t *testing.T) {
	t.Helper()
	if err := Available(t.Context()); err != nil {
		if errors.Is(err, ErrNoEngine) {
			testenv.Missing(t, "docker", err)
		}
		t.Fatal(err)
	}
}

// TestBackendLeavesNothing starts each kind of container server (wsslab's
// own, a bring-your-own image, the nginx topology), dials each with the Go
// clients, closes the backend and proves nothing labeled with its session
// remains: no container, no network, no image.
func TestBackendLeavesNothing(t *testing.T) {
	requireEngine(t)
	ctx := t.Context()
	b, err := New(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			b.Close()
		}
	})
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	lax, strict := harness.Lax(), harness.Strict(pki.RootPool())
	cases := []struct {
		name    string
		backend harness.Backend
		req     certs.Request
		lax     harness.Outcome
		strict  harness.Outcome
	}{
		{"own-server", b, certs.Request{DNSNames: []string{"own.wsslab.test"}}, harness.Connected, harness.Connected},
		{"own-server-missing-intermediate", b, certs.Request{DNSNames: []string{"own.wsslab.test"}, Defects: []certs.Defect{certs.MissingIntermediate}}, harness.Connected, harness.CertUntrusted},
		{"byo-fullchain", b.WithImage(Image{Ref: OwnServer, Port: "8443",
			Cmd: []string{"-listen", ":8443", "-cert", "${CERT_DIR}/fullchain.pem", "-key", "${CERT_DIR}/privkey.pem"}}),
			certs.Request{DNSNames: []string{"byo.wsslab.test"}}, harness.Connected, harness.Connected},
		{"byo-cert-only", b.WithImage(Image{Ref: OwnServer, Port: "8443",
			Cmd: []string{"-listen", ":8443", "-cert", "${CERT_DIR}/cert.pem", "-key", "${CERT_DIR}/privkey.pem"}}),
			certs.Request{DNSNames: []string{"byo.wsslab.test"}}, harness.Connected, harness.CertUntrusted},
		{"nginx", b.Nginx(Proxy{}), certs.Request{DNSNames: []string{"nginx.wsslab.test"}}, harness.Connected, harness.Connected},
		{"nginx-no-upgrade", b.Nginx(Proxy{NoUpgradeHeaders: true}), certs.Request{DNSNames: []string{"nginx.wsslab.test"}}, harness.HandshakeRejected, harness.HandshakeRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leaf, err := pki.Mint(c.req)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			ep, err := c.backend.Start(ctx, harness.ServerSpec{ID: c.name, Host: c.req.DNSNames[0], Leaf: leaf})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ep.Close)
			t.Logf("started in %s: %s", time.Since(start).Round(time.Millisecond), ep.URL)
			target := harness.Target{URL: ep.URL, Addr: ep.Addr, Message: "hello"}
			for _, d := range []struct {
				c    harness.Client
				want harness.Outcome
			}{{lax, c.lax}, {strict, c.strict}} {
				obs := harness.Dial(ctx, d.c, target)
				if obs.Outcome != d.want {
					t.Errorf("%s: got %s (%s), want %s", d.c.Info().ID, obs.Outcome, obs.Error, d.want)
				}
			}
			if ep.Evidence != nil {
				t.Logf("server saw: %+v", ep.Evidence())
			}
		})
	}
	for _, bd := range b.Builds() {
		t.Logf("image %s: files %s, docker build %s", bd.Image, bd.Prepare.Round(time.Millisecond), bd.Duration.Round(time.Millisecond))
	}
	closed = true
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	left, err := Leftovers(ctx, b.Session())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left behind after Close: %v", left)
	}
}

// TestSweepRemovesLeftovers simulates a killed run: a container, a network
// and an image labeled as belonging to a process that no longer exists. The
// sweep removes them, and leaves alone those of a live run (this process).
func TestSweepRemovesLeftovers(t *testing.T) {
	requireEngine(t)
	ctx := t.Context()
	// A process that is killed: its owner label is what a killed go test
	// leaves on its resources.
	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	dead := ownerid.Self()
	dead.PID, dead.Start = victim.Process.Pid, ownerid.StartTicks(victim.Process.Pid)
	victim.Process.Kill()
	victim.Wait()
	// A run in another PID namespace (a CI job in a container sharing the
	// engine): its PID means nothing here, so it must survive the sweep.
	foreign := dead
	foreign.PIDNS = "pid:[1]"
	labelsOf := func(id ownerid.ID) map[string]string {
		l := id.Labels(LabelOwner)
		l[LabelOwner] = id.Host + ":" + strconv.Itoa(id.PID)
		return l
	}

	cli, err := dockerClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() }) // runs after the removals registered below
	session := newSession()
	leave := func(id ownerid.ID, suffix string) []Resource {
		labels := labelsOf(id)
		labels[LabelHarness], labels[LabelSession] = "1", session
		tag := "wsslab-sweeptest:" + session + "-" + suffix
		var made []Resource
		t.Cleanup(func() { remove(context.Background(), cli, made) })
		if err := buildImage(ctx, cli, tag, []file{{path: "/marker", data: []byte("x"), mode: 0o644}}, []string{"/marker"}, labels); err != nil {
			t.Fatal(err)
		}
		made = append(made, Resource{Kind: "image", ID: tag})
		n, err := cli.NetworkCreate(ctx, "wsslab-sweeptest-"+session+"-"+suffix, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, Resource{Kind: "network", ID: n.ID})
		// Created, never started: the image has no program to run.
		c, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: tag, Labels: labels}, Name: "wsslab-sweeptest-" + session + "-" + suffix})
		if err != nil {
			t.Fatal(err)
		}
		made = append([]Resource{{Kind: "container", ID: c.ID}}, made...)
		return made
	}
	// Another test process (go test runs packages in parallel) may sweep
	// the killed run's resources before this test does: either way it is
	// a sweep that removes them, so only the state after Sweep is asserted.
	leave(dead, "killed")
	live := append(leave(ownerid.Self(), "live"), leave(foreign, "foreign")...)
	// Two sweeps at once (parallel CI jobs): both succeed.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			swept, err := Sweep(ctx)
			t.Logf("swept: %v", swept)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent sweep: %v", err)
		}
	}
	after, err := Leftovers(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range after {
		if r.Labels[LabelOwner+".pid"] == strconv.Itoa(dead.PID) && r.Labels[LabelOwner+".pidns"] == dead.PIDNS {
			t.Errorf("sweep left a killed run's %s", r)
		}
	}
	if len(after) != 6 {
		t.Errorf("sweep must leave the live and the foreign run's 3 resources each, left %d: %v", len(after), after)
	}
	if err := remove(ctx, cli, live); err != nil {
		t.Fatal(err)
	}
	if rest, _ := Leftovers(ctx, session); len(rest) > 0 {
		t.Errorf("still present: %v", rest)
	}
}

// TestEngineCheckCannotHang: an engine whose socket accepts but never
// answers (the case where SkipIfProviderIsNotHealthy hangs) is reported as
// ErrNoEngine at the deadline. No Docker needed.
func TestEngineCheckCannotHang(t *testing.T) {
	prevTimeout, prevNew := engineTimeout, newDockerClient
	t.Cleanup(func() { engineTimeout, newDockerClient = prevTimeout, prevNew })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	engineTimeout = 200 * time.Millisecond
	newDockerClient = func(context.Context) (*testcontainers.DockerClient, error) {
		<-release // ignores its context, like a client stuck on a silent socket
		return nil, errors.New("never")
	}
	// A hang detector, not a speed check: the margin is 100x the deadline.
	done := make(chan error, 1)
	go func() { _, err := dockerClient(t.Context()); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNoEngine) {
			t.Fatalf("got %v, want ErrNoEngine", err)
		}
		t.Logf("%v", err)
	case <-time.After(100 * engineTimeout):
		t.Fatalf("the engine check hung past its %s deadline", engineTimeout)
	}
}

// TestKilledRunIsSwept kills (SIGKILL, no cleanup of any kind) a process
// that has a container server running, then shows that what it left is
// found and removed by the next run's sweep.
func TestKilledRunIsSwept(t *testing.T) {
	if os.Getenv("WSSLAB_KILLED_RUN_HELPER") == "1" {
		killedRunHelper()
		return
	}
	requireEngine(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunIsSwept$")
	cmd.Env = append(os.Environ(), "WSSLAB_KILLED_RUN_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var session string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "STARTED "); ok {
			session = s
			break
		}
	}
	if session == "" {
		t.Fatalf("helper never started its server: %v", sc.Err())
	}
	// While the helper lives, no sweep may touch its resources.
	left, err := Leftovers(t.Context(), session)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cli, err := dockerClient(context.Background()); err == nil {
			remove(context.Background(), cli, left)
			cli.Close()
		}
	})
	if len(left) < 2 {
		t.Fatalf("the running helper should own a container and an image, found %v", left)
	}
	cmd.Process.Kill() // SIGKILL: no deferred cleanup, no Close
	cmd.Wait()
	t.Logf("killed run left: %v", left)
	swept, err := Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep removed: %v", swept)
	if rest, err := Leftovers(t.Context(), session); err != nil || len(rest) > 0 {
		t.Errorf("after the sweep: %v (err %v)", rest, err)
	}
	if dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("wsslab-container-%d-*", cmd.Process.Pid))); len(dirs) > 0 {
		t.Errorf("the killed run's temp dir is still there after the sweep: %v", dirs)
	}
}

// killedRunHelper starts a server and waits to be killed.
func killedRunHelper() {
	ctx := context.Background()
	b, err := New(ctx, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	pki, err := certs.NewPKI()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	leaf, err := pki.Mint(certs.Request{DNSNames: []string{"killed.wsslab.test"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	if _, err := b.Start(ctx, harness.ServerSpec{ID: "killed-run", Host: "killed.wsslab.test", Leaf: leaf}); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	fmt.Println("STARTED " + b.Session())
	select {}
}

// TestDockerHostIsHonoured: a DOCKER_HOST that does not answer is an
// ErrNoEngine naming it, never a silent fall back to another engine.
func TestDockerHostIsHonoured(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent.sock")
	_, err := newDockerClient(t.Context())
	if err == nil {
		t.Fatal("a DOCKER_HOST that does not exist was accepted")
	}
	if !strings.Contains(err.Error(), "unix:///nonexistent.sock") {
		t.Errorf("the error does not name DOCKER_HOST: %v", err)
	}
	t.Log(err)
}
