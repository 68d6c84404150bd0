// Command wsslab-server is wsslab's WSS echo server as a standalone program:
// the image the container backend runs, and a stand-in for "your own server"
// in the bring-your-own-image demo. It serves exactly the certificates in
// -cert (in file order: give it fullchain.pem and it sends the chain, give it
// cert.pem and it sends the leaf alone), with harness.EchoHandler and
// harness.TLSConfig, so it behaves like the in-process server.
//
//	wsslab-server -cert fullchain.pem -key privkey.pem -listen :8443
//	wsslab-server -plain -listen :8080          # ws://, behind a TLS proxy
//
// It prints "READY <scheme>://<addr>/" on stdout only once it listens: the
// container backend waits for that line, because Docker's port proxy accepts
// connections before the server inside does.
//
// Build it static for a FROM scratch image:
//
//	CGO_ENABLED=0 go build -o wsslab-server ./cmd/wsslab-server
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsslab/wsslab/harness"
)

// OptionsEnv carries harness.ServerOptions as JSON when -options is not given.
const OptionsEnv = "WSSLAB_SERVER_OPTIONS"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ERROR: wsslab-server:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("wsslab-server", flag.ContinueOnError)
	listen := fs.String("listen", ":8443", "address to listen on")
	certFile := fs.String("cert", "", "PEM certificates to send, leaf first (fullchain.pem or cert.pem)")
	keyFile := fs.String("key", "", "PEM private key of the leaf (privkey.pem)")
	optJSON := fs.String("options", os.Getenv(OptionsEnv), "harness.ServerOptions as JSON (default $"+OptionsEnv+")")
	plain := fs.Bool("plain", false, "serve ws:// without TLS (same as options {\"Plain\":true})")
	evidence := fs.String("evidence-listen", "", "if set, a plain HTTP address serving GET /evidence (what the server saw, as JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var opts harness.ServerOptions
	if *optJSON != "" {
		if err := json.Unmarshal([]byte(*optJSON), &opts); err != nil {
			return fmt.Errorf("-options: %w", err)
		}
	}
	opts.Plain = opts.Plain || *plain
	rec := &harness.Recorder{}
	srv := &http.Server{
		Handler:           harness.EchoHandler(opts, rec),
		ErrorLog:          log.New(teeWriter{rec, os.Stderr}, "", 0),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	scheme := "ws"
	if !opts.Plain {
		if *certFile == "" || *keyFile == "" {
			return errors.New("-cert and -key are required unless -plain")
		}
		// LoadX509KeyPair keeps every certificate of the file, in order: the
		// server sends exactly what the file holds, as nginx does.
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("load %s / %s: %w", *certFile, *keyFile, err)
		}
		ln = tls.NewListener(ln, harness.TLSConfig(cert, opts, rec))
		scheme = "wss"
	}
	if *evidence != "" {
		eln, err := net.Listen("tcp", *evidence)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", *evidence, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /evidence", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(rec.Snapshot())
		})
		go http.Serve(eln, mux)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	// Only now: the socket listens.
	fmt.Printf("READY %s://%s/\n", scheme, ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// teeWriter feeds net/http's error log to the Recorder and to stderr, so the
// TLS alerts clients send show up in `docker logs` too.
type teeWriter struct {
	rec *harness.Recorder
	out *os.File
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.rec.Write(p)
	return t.out.Write(p)
}
