package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/container"
)

// backendFlags are the flags that choose where scenario servers run.
type backendFlags struct {
	kind  string
	image container.Image
	cmd   string
	env   multiFlag
	// server is --server-cmd and its options: the process backend.
	server harness.Process
}

// addBackendFlags registers --backend, --image and the --image-* flags on fs.
func addBackendFlags(fs *flag.FlagSet) *backendFlags {
	f := &backendFlags{}
	fs.StringVar(&f.kind, "backend", "", "where scenario servers run: inprocess (default) or container (needs a Docker engine; --image implies it)")
	fs.StringVar(&f.image.Ref, "image", "", "run every scenario against YOUR server image: the certificates are copied in (certbot layout), see --image-*; '"+container.OwnServer+"' is wsslab's own")
	fs.StringVar(&f.image.Port, "image-port", "8443", "the image's TLS port")
	fs.StringVar(&f.image.CertDir, "image-cert-dir", container.DefaultCertDir, "where the certificate files go in the container (${HOST} is the scenario host)")
	fs.StringVar(&f.cmd, "image-cmd", "", "command arguments for the image, split on spaces; ${CERT_DIR} and ${HOST} are expanded (e.g. '--cert ${CERT_DIR}/fullchain.pem --key ${CERT_DIR}/privkey.pem')")
	fs.Var(&f.env, "image-env", "KEY=VALUE for the image's environment (repeatable; ${CERT_DIR} and ${HOST} are expanded)")
	fs.StringVar(&f.server.Cmd, "server-cmd", "", "run every scenario against YOUR server process: a shell command with {port} {cert} {chain} {fullchain} {key} {dir} {host} (also $WSSLAB_PORT, $WSSLAB_CERT_DIR, ...), e.g. 'python3 app.py --port {port} --cert {fullchain} --key {key}'")
	fs.StringVar(&f.server.Ready, "server-ready", "", "with --server-cmd: `TEXT` your server prints once it listens (default: wait until the port answers TLS)")
	fs.DurationVar(&f.server.StartTimeout, "server-timeout", 20*time.Second, "with --server-cmd: how long your server may take to answer TLS (or print --server-ready) for each scenario")
	fs.BoolVar(&f.server.NoEcho, "no-echo", false, "with --server-cmd: your server does not echo; clients only connect (a socket that opens counts as connected)")
	return f
}

// check rejects flag combinations that cannot mean anything; set holds
// the flags given.
func (f *backendFlags) check(set map[string]bool) error {
	if !set["server-cmd"] {
		for _, n := range []string{"server-ready", "no-echo", "server-timeout"} {
			if set[n] {
				return fmt.Errorf("--%s needs --server-cmd", n)
			}
		}
		return nil
	}
	if strings.TrimSpace(f.server.Cmd) == "" {
		return errors.New("--server-cmd is empty")
	}
	if f.server.StartTimeout <= 0 {
		return fmt.Errorf("--server-timeout %s: want a positive duration", f.server.StartTimeout)
	}
	if set["server-ready"] && f.server.Ready == "" {
		return errors.New("--server-ready is empty (leave it out to wait for TLS on the port)")
	}
	for _, n := range []string{"backend", "image"} {
		if set[n] {
			return fmt.Errorf("--server-cmd runs your server as a process here; it does not go with --%s", n)
		}
	}
	return nil
}

// serverCmd reports whether scenario servers are the user's process.
func (f *backendFlags) serverCmd() bool { return f.server.Cmd != "" }

// ownContainers reports whether scenario servers run in wsslab's own
// containers (--backend container without --image): then the container-only
// scenarios (nginx in front, your-image demos) can run too.
func (f *backendFlags) ownContainers() bool { return f.kind == "container" && f.image.Ref == "" }

// open returns the chosen backend and a function that releases it. log
// gets the process backend's warnings (a server that ignored SIGTERM).
func (f *backendFlags) open(ctx context.Context, log io.Writer) (harness.Backend, func(), error) {
	if f.serverCmd() {
		p := f.server
		p.Log = log
		return p, func() {}, nil
	}
	img := f.image
	img.Cmd = strings.Fields(f.cmd)
	if len(f.env) > 0 {
		img.Env = map[string]string{}
		for _, kv := range f.env {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, nil, fmt.Errorf("--image-env %q: want KEY=VALUE", kv)
			}
			img.Env[k] = v
		}
	}
	return backendFromFlags(ctx, f.kind, img)
}

// backendFromFlags returns the backend named by kind ("", "inprocess" or
// "container"), running img.Ref if it is set, and a function that releases
// it (for containers: removes every container, network and image it made).
func backendFromFlags(ctx context.Context, kind string, img container.Image) (harness.Backend, func(), error) {
	if kind == "" {
		kind = "inprocess"
		if img.Ref != "" {
			kind = "container"
		}
	}
	switch kind {
	case "inprocess":
		if img.Ref != "" {
			return nil, nil, fmt.Errorf("--image %s needs --backend container", img.Ref)
		}
		return harness.InProcess{}, func() {}, nil
	case "container":
		// testcontainers prints a banner about the engine to its default
		// logger; the CLI's output is the matrix.
		tclog.SetDefault(tclog.NewNoopLogger())
		b, err := container.New(ctx, container.Options{})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range b.Swept() {
			fmt.Fprintf(os.Stderr, "Note: removed leftover of a killed run: %s\n", r)
		}
		release := func() {
			if err := b.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "Warning: %v (remove by hand: docker rm -f $(docker ps -aq --filter label=%s=1))\n", err, container.LabelHarness)
			}
		}
		if img.Ref != "" {
			return b.WithImage(img), release, nil
		}
		return b, release, nil
	}
	return nil, nil, fmt.Errorf("--backend %q: want inprocess or container", kind)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }
