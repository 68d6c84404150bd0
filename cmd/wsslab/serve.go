package main

import (
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/wsslab/wsslab/chromenet"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

func init() {
	register("serve", "start every scenario server on stable loopback ports, with an index page, to try by hand", cmdServe)
}

const serveUsage = `usage: wsslab serve [flags]

Starts every scenario's WSS echo server at once on 127.0.0.1, scenario N of
the table on port BASE+N (stable across runs), and an index page over HTTPS
(https://app.wsslab.test:PORT/, certificate from the same test root, so an
https page's rules such as mixed content apply as in a deployed app) listing
them with their lessons and a button to dial each from the page: a local
badssl.com for WebSockets. Try each URL in your own browser and in Postman.

It mints a fresh test PKI, writes its root to DIR/root.pem and prints how to
trust it in a throwaway Chromium profile (Linux; nothing else is touched),
the --host-resolver-rules flag and /etc/hosts lines for the *.wsslab.test
names. Ctrl-C (or SIGTERM, SIGHUP) stops every server and removes the temporary DIR.

Exit status: 0 stopped cleanly, 2 bad input or a port in use.

Flags:
`

// defaultBasePort: scenario N listens on 9440+N, the index on 9439.
const defaultBasePort = 9440

type serveConfig struct {
	BasePort, IndexPort int
	// Dir receives root.pem; "" means a temporary directory removed on Close.
	Dir string
	// Patterns select scenarios (default all); ports stay BASE+table index.
	Patterns []string
}

// serving is a running `wsslab serve`.
type serving struct {
	cfg       serveConfig
	lab       *scenarios.Lab
	Instances []*scenarios.Instance
	Ports     []int
	index     *http.Server
	indexDone chan struct{}
	IndexURL  string
	Dir       string
	RootFile  string
	removeDir bool
}

func cmdServe(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return serveMain(ctx, args, os.Stdout, os.Stderr)
}

func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg serveConfig
	var scen string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.IntVar(&cfg.BasePort, "base-port", defaultBasePort, "scenario N of the table listens on `PORT`+N (0: any free ports)")
	fs.IntVar(&cfg.IndexPort, "index-port", 0, "serve the HTTPS index page on `PORT` (default: base-port - 1, or the port after the scenarios' when that is below 1024; any free port with --base-port 0)")
	fs.StringVar(&cfg.Dir, "dir", "", "write the test root (root.pem) to `DIR` and keep it (default: a temporary directory, removed on exit)")
	fs.StringVar(&scen, "scenario", "", "comma-separated scenario ids or globs to serve (default: all)")
	if code, ok := parseFlags(fs, serveUsage, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return errorf(stderr, "serve: unexpected argument %q", fs.Arg(0))
	}
	for _, p := range strings.Split(scen, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.Patterns = append(cfg.Patterns, p)
		}
	}
	s, err := startServe(ctx, cfg)
	if err != nil {
		return errorf(stderr, "serve: %v", err)
	}
	s.printGuide(stdout)
	for _, w := range s.unsafePortWarnings() {
		fmt.Fprintln(stderr, w)
	}
	<-ctx.Done()
	s.Close()
	fmt.Fprintf(stdout, "\nStopped %d servers and the index", len(s.Instances))
	if s.removeDir {
		fmt.Fprintf(stdout, "; removed %s", s.Dir)
	}
	fmt.Fprintln(stdout, ".")
	return exitOK
}

// startServe starts the servers and the index. On error nothing is left
// running and a temporary directory is removed.
func startServe(ctx context.Context, cfg serveConfig) (_ *serving, err error) {
	list, err := scenarios.Select(cfg.Patterns...)
	if err != nil {
		return nil, err
	}
	if cfg, err = checkPorts(cfg); err != nil {
		return nil, err
	}
	s := &serving{cfg: cfg, Dir: cfg.Dir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Dir == "" {
		// Owner-marked, so a killed serve's dir is swept by the next run.
		if s.Dir, err = harness.MkdirTemp("", "serve"); err != nil {
			return nil, err
		}
		s.removeDir = true
	} else if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	if s.lab, err = scenarios.NewLab(); err != nil {
		return nil, err
	}
	s.RootFile = filepath.Join(s.Dir, certs.Files.Root)
	if err := os.WriteFile(s.RootFile, certs.PEM(s.lab.PKI.Root.Cert), 0o644); err != nil {
		return nil, err
	}
	for _, sc := range list {
		port := 0 // --base-port 0: any free port
		if cfg.BasePort > 0 {
			port = cfg.BasePort + tableIndex(sc.ID)
		}
		in, err := s.lab.Start(ctx, sc, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, portError(err, port, sc.ID)
		}
		s.Instances = append(s.Instances, in)
		_, p, _ := net.SplitHostPort(in.Endpoint.Addr)
		port, _ = strconv.Atoi(p)
		s.Ports = append(s.Ports, port)
	}
	if err := s.startIndex(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkPorts validates the scenario ports and the index port apart (each
// error names its own flag) and fills in the default index port.
func checkPorts(cfg serveConfig) (serveConfig, error) {
	n := len(scenarios.Table)
	if cfg.BasePort != 0 && (cfg.BasePort < 1024 || cfg.BasePort+n-1 > 65535) {
		return cfg, fmt.Errorf("--base-port %d: want 0 (any free ports) or a port in 1024-%d, so that the %d scenario ports fit below 65536", cfg.BasePort, 65535-n+1, n)
	}
	if cfg.IndexPort == 0 && cfg.BasePort != 0 {
		cfg.IndexPort = cfg.BasePort - 1
		if cfg.IndexPort < 1024 {
			cfg.IndexPort = cfg.BasePort + n
		}
	}
	if cfg.IndexPort != 0 && (cfg.IndexPort < 1024 || cfg.IndexPort > 65535) {
		return cfg, fmt.Errorf("--index-port %d: want a port in 1024-65535", cfg.IndexPort)
	}
	if last := cfg.BasePort + n - 1; cfg.BasePort != 0 && cfg.IndexPort >= cfg.BasePort && cfg.IndexPort <= last {
		return cfg, fmt.Errorf("--index-port %d: want a port outside the scenario ports %d-%d", cfg.IndexPort, cfg.BasePort, last)
	}
	return cfg, nil
}

func tableIndex(id string) int {
	return slices.IndexFunc(scenarios.Table, func(s scenarios.Scenario) bool { return s.ID == id })
}

// portError turns "address already in use" into one line naming the fix.
func portError(err error, port int, what string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("port %d (%s) is in use; stop what holds it or choose other ports with --base-port / --index-port", port, what)
	}
	if errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("port %d (%s): permission denied; choose other ports with --base-port / --index-port", port, what)
	}
	return err
}

// Close stops every server and the index and removes a temporary directory.
// Safe to call on a partly started serving.
func (s *serving) Close() {
	if s.index != nil {
		s.index.Close()
		<-s.indexDone
	}
	for _, in := range s.Instances {
		in.Close()
	}
	if s.lab != nil {
		s.lab.Close()
	}
	if s.removeDir && s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}

//go:embed serve_index.html.tmpl
var serveIndexHTML string

var serveIndexTmpl = template.Must(template.New("index").Parse(serveIndexHTML))

type indexRow struct {
	Scenario scenarios.Scenario
	URL      string
	Port     int
	// Expect is what each browser (browserClients) was measured to do.
	Expect []scenarios.Expect
	// Protocols is the JSON list of subprotocols the Try button offers,
	// as the scenario's page does.
	Protocols string
	// Login is the URL the Try button fetches first (the scenario's login
	// that sets a cookie), or "".
	Login string
}

func (s *serving) rows() []indexRow {
	var rows []indexRow
	for i, in := range s.Instances {
		protos, _ := json.Marshal(in.Scenario.Subprotocols)
		if in.Scenario.Subprotocols == nil {
			protos = []byte("[]")
		}
		var expect []scenarios.Expect
		for _, c := range browserClients() {
			e, err := in.Scenario.Expect(c)
			if err != nil {
				e = scenarios.Expect{Outcome: "?", Reason: err.Error()} // TestTableInvariants prevents it
			}
			expect = append(expect, e)
		}
		rows = append(rows, indexRow{Scenario: in.Scenario, URL: in.URL, Port: s.Ports[i], Expect: expect, Protocols: string(protos), Login: in.Target().Login})
	}
	return rows
}

// browserClients are the registered browsers: serve shows what each does,
// since a browser is what people try the servers with.
func browserClients() []harness.ClientInfo {
	var out []harness.ClientInfo
	for _, c := range scenarios.Clients {
		if c.Class == harness.BrowserClass {
			out = append(out, c.ClientInfo)
		}
	}
	return out
}

func (s *serving) startIndex() error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.IndexPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return portError(err, s.cfg.IndexPort, "index page")
	}
	// With port 0 the index gets any free port: record the real one.
	s.cfg.IndexPort = ln.Addr().(*net.TCPAddr).Port
	s.IndexURL = "https://" + net.JoinHostPort(scenarios.PageHost, strconv.Itoa(s.cfg.IndexPort)) + "/"
	var page bytes.Buffer
	if err := serveIndexTmpl.Execute(&page, map[string]any{
		"Rows": s.rows(), "Guide": s.guide(), "Hosts": s.hosts(), "Browsers": browserClients(),
	}); err != nil {
		ln.Close()
		return fmt.Errorf("index page: %w", err)
	}
	root := certs.PEM(s.lab.PKI.Root.Cert)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	})
	mux.HandleFunc("GET /root.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(root)
	})
	// The index is served over HTTPS, from the same test root, like the
	// page of the browser client: an https page is what makes mixed content
	// and Origin checks behave as for a deployed front end.
	leaf, err := s.lab.PKI.Mint(certs.Request{
		DNSNames: []string{scenarios.PageHost, "localhost"},
		IPs:      []net.IP{net.IPv4(127, 0, 0, 1)},
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("index page: %w", err)
	}
	s.index = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	s.indexDone = make(chan struct{})
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}})
	go func() {
		defer close(s.indexDone)
		s.index.Serve(tlsLn)
	}()
	return nil
}

// hosts are the distinct .wsslab.test names to map to 127.0.0.1: the index
// page's and the scenarios' (localhost and IPs need no mapping).
func (s *serving) hosts() []string {
	hs := []string{scenarios.PageHost}
	for _, in := range s.Instances {
		h := in.Scenario.Host
		if strings.HasSuffix(h, ".wsslab.test") && !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	return hs
}

const resolverRules = `--host-resolver-rules="MAP *.wsslab.test 127.0.0.1"`

// guide is how to point a real browser, Postman and openssl at the servers.
func (s *serving) guide() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Test root: %s (also at %sroot.pem). Nothing trusts it until you add it; each `wsslab serve` mints a new one. The index page itself is served with a certificate from this root.\n\n", s.RootFile, s.IndexURL)
	fmt.Fprintf(&b, "Names under .wsslab.test must reach 127.0.0.1. Start Chrome with\n  %s\nor add this line to /etc/hosts (remove it when done):\n  127.0.0.1 %s\n\n", resolverRules, strings.Join(s.hosts(), " "))
	b.WriteString("Chromium on Linux, trusting the test root in a throwaway profile (your own profile and the system store are untouched):\n")
	fmt.Fprintf(&b, "  H=$(mktemp -d) && mkdir -p \"$H/.pki/nssdb\"\n")
	fmt.Fprintf(&b, "  certutil -d \"sql:$H/.pki/nssdb\" -N --empty-password\n")
	fmt.Fprintf(&b, "  certutil -d \"sql:$H/.pki/nssdb\" -A -t \"C,,\" -n wsslab-test-root -i %s\n", s.RootFile)
	fmt.Fprintf(&b, "  HOME=\"$H\" chromium --user-data-dir=\"$H/profile\" %s %s\n", resolverRules, s.IndexURL)
	b.WriteString("  rm -rf \"$H\"   # afterwards\n")
	b.WriteString("Without the root (or on macOS/Windows, where Chrome uses the system store: leave it alone) the index page itself and valid-fullchain fail with net::ERR_CERT_AUTHORITY_INVALID; the other failures are the lesson either way.\n")
	b.WriteString("Open DevTools (Console) to see the reason the page never gets.\n\n")
	b.WriteString("Postman: open any wss:// URL above; it connects, because it does not verify certificates by default. Turn on \"SSL certificate verification\" (Settings > General) and add root.pem as a CA certificate (Settings > Certificates) to make it as strict as Chrome.\n\n")
	if len(s.Instances) > 1 {
		in, port := s.Instances[1], s.Ports[1]
		fmt.Fprintf(&b, "openssl: openssl s_client -connect 127.0.0.1:%d -servername %s -showcerts -CAfile %s </dev/null\n", port, in.Scenario.Host, s.RootFile)
	}
	return b.String()
}

// printGuide prints the servers and the guide: one line per server with
// each browser's outcome, its exact reasons on the lines below (wrapped:
// the table fits matrixWidth columns however long a reason is).
func (s *serving) printGuide(w io.Writer) {
	fmt.Fprintf(w, "wsslab serve: %d scenario servers on 127.0.0.1; index page %s\n\n", len(s.Instances), s.IndexURL)
	browsers := browserClients()
	header := []string{"SCENARIO", "URL"}
	for _, c := range browsers {
		header = append(header, strings.ToUpper(c.ID)+" DOES")
	}
	rows := [][]string{header}
	srows := s.rows()
	for _, r := range srows {
		row := []string{r.Scenario.ID, r.URL} // the URL has the port
		for _, e := range r.Expect {
			row = append(row, string(e.Outcome))
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for n, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			fmt.Fprintf(&b, "%-*s  ", widths[i], c)
		}
		fmt.Fprintf(w, "  %s\n", b.String())
		if n == 0 {
			continue
		}
		for i, e := range srows[n-1].Expect {
			if e.Reason != "" {
				wrap(w, "        ", browsers[i].ID+": "+e.Reason)
			}
		}
	}
	fmt.Fprintln(w)
	// Prose is wrapped; commands (indented) stay whole, to paste.
	for _, l := range strings.Split(strings.TrimRight(s.guide(), "\n"), "\n") {
		if l == "" || strings.HasPrefix(l, " ") {
			fmt.Fprintln(w, l)
			continue
		}
		wrap(w, "", l)
	}
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

func (s *serving) unsafePortWarnings() []string {
	var out []string
	for i, p := range append([]int{s.cfg.IndexPort}, s.Ports...) {
		if chromenet.RestrictedPort(p) {
			what := "the index page"
			if i > 0 {
				what = s.Instances[i-1].Scenario.ID
			}
			out = append(out, fmt.Sprintf("Warning: Chrome refuses port %d (%s) with net::ERR_UNSAFE_PORT; choose another --base-port", p, what))
		}
	}
	return out
}
