package harness

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/internal/testenv"
)

// fixtureServer is the path of a fixture server under fixtures/servers.
func fixtureServer(t *testing.T, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "fixtures", "servers", name)
}

// needPythonWebsockets skips (or fails under CI) without Debian's python3
// and its websockets package.
func needPythonWebsockets(t *testing.T) {
	t.Helper()
	err := exec.Command("/usr/bin/python3", "-c", "import websockets").Run()
	if err != nil {
		err = errors.New("/usr/bin/python3 with websockets: apt-get install -y python3 python3-websockets")
	}
	testenv.Need(t, "python", err)
}

// processSpec is a valid certificate for host, from a fresh PKI.
func processSpec(t *testing.T, id string) ServerSpec {
	t.Helper()
	pki, err := certs.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Mint(certs.Request{DNSNames: []string{"proc.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return ServerSpec{ID: id, Host: "proc.wsslab.test", Leaf: leaf}
}

// leftovers fails the test if anything Process made under parent remains:
// a file or dir, or a process whose command line or environment names it.
func leftovers(t *testing.T, parent string) {
	t.Helper()
	// KillTracked has run; a killed process may take a moment to be reaped
	// by its parent (this test binary's Wait goroutine).
	deadline := time.Now().Add(5 * time.Second)
	for len(processesMentioning(parent, true)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pids := processesMentioning(parent, true); len(pids) > 0 {
		t.Errorf("server processes left: %v", pids)
	}
	es, _ := os.ReadDir(parent)
	for _, e := range es {
		if e.Name() != ".wsslab-owner" && !strings.HasPrefix(e.Name(), ".wsslab-") {
			t.Errorf("left in %s: %s", parent, e.Name())
		}
	}
}

// TestProcessFailures: a server command that exits at once, never
// listens, listens without TLS, or never prints its Ready text gives one
// line with what happened and its own last output, and leaves nothing.
func TestProcessFailures(t *testing.T) {
	py := "/usr/bin/python3"
	// Another PKI's certificate for the same name, in certbot's layout.
	other := t.TempDir()
	if err := certs.WriteCertbot(other, processSpec(t, "other").Leaf); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, cmd, ready string
		needPy           bool
		want             []string
	}{
		{name: "exits-at-once", cmd: `echo "starting on {port}"; echo "fatal: cannot read {cert}: boom" >&2; exit 3`,
			want: []string{"your server exited (exit status 3) before 127.0.0.1:", "answered TLS", "fatal: cannot read /", "cert.pem: boom"}},
		{name: "never-listens", cmd: `echo "waiting for the database" >&2; exec sleep 600`,
			want: []string{"never answered TLS on 127.0.0.1:", "connection refused", "waiting for the database"}},
		{name: "plain-http", needPy: true, cmd: py + ` -m http.server {port} --bind 127.0.0.1`,
			want: []string{"speaks plain HTTP, not TLS", `"<!DOC"`, "give it the certificate"}},
		{name: "plain-tcp", needPy: true, cmd: py + ` -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("plain tcp greeter up", file=sys.stderr, flush=True)
while True:
    c,_=s.accept(); c.sendall(b"220 hello\r\n"); c.close()' {port}`,
			want: []string{"speaks plain TCP, not TLS", `"220 h"`, "plain tcp greeter up"}},
		{name: "never-ready", ready: "READY", cmd: `echo "almost" >&2; exec sleep 600`,
			want: []string{`never printed "READY"`, "almost"}},
		// A server that serves a certificate of its own, not the row's.
		{name: "foreign-cert", needPy: true, cmd: `/usr/bin/python3 ` + fixtureServer(t, "python_server.py") + ` --port {port} --cert ` + other + `/fullchain.pem --key ` + other + `/privkey.pem`,
			want: []string{"a certificate that is not this row's", "serve the files it is given"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needPy {
				if _, err := os.Stat(py); err != nil {
					testenv.Missing(t, "python", errors.New("apt-get install -y python3"))
				}
			}
			parent := MkdirTempFor(t, "test")
			var log bytes.Buffer
			p := Process{Cmd: tc.cmd, Ready: tc.ready, TempDir: parent, StartTimeout: 2 * time.Second, StopGrace: time.Second, Log: &log}
			ep, err := p.Start(t.Context(), processSpec(t, tc.name))
			if err == nil {
				ep.Close()
				t.Fatal("started")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			var se *SkipError
			var pe *ProcessError
			if !errors.As(err, &se) || se.Err == nil || !errors.As(err, &pe) {
				t.Errorf("error %T: want a *SkipError carrying a *ProcessError", err)
			}
			leftovers(t, parent)
		})
	}
}

// TestProcessIgnoresSIGTERM: a server that ignores SIGTERM is killed with
// SIGKILL after the grace period, which Close says in one Warning line with
// its last output, and nothing is left.
func TestProcessIgnoresSIGTERM(t *testing.T) {
	needPythonWebsockets(t)
	parent := MkdirTempFor(t, "test")
	var log bytes.Buffer
	p := Process{
		Cmd:     `trap '' TERM; exec /usr/bin/python3 ` + fixtureServer(t, "python_server.py") + ` --port {port} --cert {fullchain} --key {key}`,
		TempDir: parent, StopGrace: 500 * time.Millisecond, Log: &log,
	}
	ep, err := p.Start(t.Context(), processSpec(t, "stubborn"))
	if err != nil {
		t.Fatal(err)
	}
	if len(processesMentioning(parent, true)) == 0 {
		t.Fatal("no server process found under the temp dir: the leak check would prove nothing")
	}
	ep.Close()
	line := strings.TrimSpace(log.String())
	t.Log(line)
	for _, w := range []string{"Warning: stubborn: your server (pid ", "ignored SIGTERM for 500ms; killed its process group with SIGKILL", "listening on wss://127.0.0.1:"} {
		if !strings.Contains(line, w) {
			t.Errorf("log %q\nlacks %q", line, w)
		}
	}
	if strings.Count(line, "\n") > 0 {
		t.Errorf("more than one line: %q", line)
	}
	leftovers(t, parent)
	if c, err := net.DialTimeout("tcp", ep.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", ep.Addr)
	}
}

// TestProcessStopsItsGroup: Close stops the server's children too (a
// shell that does not exec, a server that forks).
func TestProcessStopsItsGroup(t *testing.T) {
	needPythonWebsockets(t)
	parent := MkdirTempFor(t, "test")
	var log bytes.Buffer
	p := Process{
		// The shell stays (two commands), the server is its child, and a
		// sleep is the server's own child: three processes in the group.
		Cmd:     `sleep 600 & /usr/bin/python3 ` + fixtureServer(t, "python_server.py") + ` --port "$WSSLAB_PORT" --cert "$WSSLAB_FULLCHAIN" --key "$WSSLAB_KEY"; wait`,
		TempDir: parent, Ready: "listening on", Log: &log,
	}
	ep, err := p.Start(t.Context(), processSpec(t, "group"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(processesMentioning(parent, true)); n < 3 {
		t.Errorf("%d processes under the temp dir, want sh, python and sleep", n)
	}
	ep.Close()
	if log.Len() > 0 {
		t.Errorf("unexpected warning: %s", log.String())
	}
	leftovers(t, parent)
}

// TestProcessPlaceholders: each placeholder and WSSLAB_* variable names
// the certbot file it says.
func TestProcessPlaceholders(t *testing.T) {
	vars := map[string]string{"port": "1234", "cert": "/d/cert.pem", "dir": "/tmp/a b", "host": "h"}
	got := expand(`srv -p {port} -c {cert} -d {dir} {unknown} {host}{`, vars)
	want := `srv -p 1234 -c /d/cert.pem -d '/tmp/a b' {unknown} h{`
	if got != want {
		t.Errorf("expand = %q, want %q", got, want)
	}
}

// TestProcessEnv: the server sees the certbot files through its env and
// the placeholders alike.
func TestProcessEnv(t *testing.T) {
	parent := MkdirTempFor(t, "test")
	out := filepath.Join(parent, "env.txt")
	p := Process{
		Cmd:     `{ echo "$WSSLAB_PORT {port}"; echo "$WSSLAB_CERT {cert}"; echo "$WSSLAB_CHAIN {chain}"; echo "$WSSLAB_FULLCHAIN {fullchain}"; echo "$WSSLAB_KEY {key}"; echo "$WSSLAB_CERT_DIR {dir}"; echo "$WSSLAB_HOST {host}"; ls {dir}; } > ` + out + `; exit 1`,
		TempDir: parent, StartTimeout: time.Second,
	}
	_, err := p.Start(context.Background(), processSpec(t, "env"))
	if err == nil {
		t.Fatal("started")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 7 {
		t.Fatalf("output %q", b)
	}
	for _, l := range lines[:7] {
		env, ph, _ := strings.Cut(l, " ")
		if env != ph || env == "" {
			t.Errorf("env and placeholder differ: %q", l)
		}
	}
	for i, suffix := range []string{"", "/cert.pem", "/chain.pem", "/fullchain.pem", "/privkey.pem", "", "proc.wsslab.test"} {
		if !strings.HasSuffix(strings.Fields(lines[i])[0], suffix) {
			t.Errorf("line %d %q: want suffix %q", i, lines[i], suffix)
		}
	}
	files := strings.Join(lines[7:], " ")
	for _, f := range []string{"cert.pem", "chain.pem", "fullchain.pem", "privkey.pem", "root.pem"} {
		if !strings.Contains(files, f) {
			t.Errorf("dir lacks %s: %s", f, files)
		}
	}
	os.Remove(out)
	leftovers(t, parent)
}
