package container

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
)

// Build records one image build, for the cost notes in tests and reports.
type Build struct {
	Image    string
	Duration time.Duration // docker build only
	Prepare  time.Duration // collecting the files (go build, ldd)
}

// file is one entry of an image's root filesystem.
type file struct {
	path string // absolute, in the image
	data []byte
	mode int64
	dir  bool
}

// buildImage creates an image FROM scratch holding exactly files, with
// entrypoint and labels: no base image, so nothing is pulled. It imports
// the root filesystem as one layer (docker import) rather than running a
// Dockerfile: each Dockerfile instruction is a build step, and on this
// machine kind FROM scratch + COPY + ENTRYPOINT + LABEL measured 2.3-3.8 s
// against 0.5 s for the import of the same files.
func buildImage(ctx context.Context, cli client.APIClient, tag string, files []file, entrypoint []string, labels map[string]string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		name := strings.TrimPrefix(f.path, "/")
		hdr := &tar.Header{Name: name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if f.dir {
			hdr = &tar.Header{Name: name + "/", Mode: f.mode, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("container: build %s: %w", tag, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("container: build %s: %w", tag, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("container: build %s: %w", tag, err)
	}
	ep, err := json.Marshal(entrypoint)
	if err != nil {
		return fmt.Errorf("container: build %s: %w", tag, err)
	}
	changes := []string{"ENTRYPOINT " + string(ep)}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		changes = append(changes, fmt.Sprintf("LABEL %s=%q", k, labels[k]))
	}
	res, err := cli.ImageImport(ctx, client.ImageImportSource{Source: &buf, SourceName: "-"}, tag, client.ImageImportOptions{Changes: changes})
	if err != nil {
		return fmt.Errorf("container: build %s: %w", tag, err)
	}
	defer res.Close()
	var out bytes.Buffer
	if err := jsonmessage.DisplayStream(res, &out); err != nil {
		return fmt.Errorf("container: build %s: %w\n%s", tag, err, out.String())
	}
	return nil
}

// isStatic reports whether path is an ELF executable without an interpreter
// (nothing to load from a FROM scratch image).
func isStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// ServerBinaryEnv names a prebuilt static wsslab-server binary.
const ServerBinaryEnv = "WSSLAB_SERVER_BIN"

// serverBinary finds or builds a static wsslab-server:
//  1. $WSSLAB_SERVER_BIN;
//  2. wsslab-server next to the running executable (make build puts it
//     there);
//  3. go build of this module's ./cmd/wsslab-server, when its source is
//     on this machine (always in go test).
func serverBinary(ctx context.Context, tmp string) (string, error) {
	if p := os.Getenv(ServerBinaryEnv); p != "" {
		if err := isStatic(p); err != nil {
			return "", fmt.Errorf("container: $%s: %w", ServerBinaryEnv, err)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "wsslab-server")
		if isStatic(p) == nil {
			return p, nil
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("container: no wsslab-server binary and no go tool to build one: set %s to a static build (CGO_ENABLED=0 go build -o wsslab-server ./cmd/wsslab-server)", ServerBinaryEnv)
	}
	out := filepath.Join(tmp, "wsslab-server")
	cmd := exec.CommandContext(ctx, goTool, "build", "-ldflags=-s -w", "-o", out, "./cmd/wsslab-server")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("container: go build ./cmd/wsslab-server: %w\n%s", err, b)
	}
	return out, nil
}

// moduleRoot is the source tree this package was compiled from, if it is
// still there.
func moduleRoot() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("container: cannot locate the wsslab source: set %s", ServerBinaryEnv)
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(self), "..", ".."))
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.Contains(b, []byte("module github.com/wsslab/wsslab\n")) {
		return "", fmt.Errorf("container: wsslab source not found at %s: set %s to a static wsslab-server binary", root, ServerBinaryEnv)
	}
	return root, nil
}

// serverFiles is the root filesystem of the wsslab-server image.
func serverFiles(ctx context.Context, tmp string) ([]file, error) {
	bin, err := serverBinary(ctx, tmp)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	return []file{
		{path: "/wsslab-server", data: data, mode: 0o755},
		// The certificates are copied here per container.
		{path: "/certs", mode: 0o755, dir: true},
	}, nil
}

// ErrNoNginx is returned (wrapped) when Debian's nginx is not installed.
var ErrNoNginx = errors.New("nginx is needed for the reverse-proxy scenarios: run `apt-get install -y nginx-light` (or set WSSLAB_NGINX to an nginx binary)")

// NginxBinary returns $WSSLAB_NGINX, /usr/sbin/nginx or nginx on PATH.
func NginxBinary() (string, error) {
	if p := os.Getenv("WSSLAB_NGINX"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("WSSLAB_NGINX=%s: %w", p, ErrNoNginx)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("container: %w", ErrNoNginx)
}

var lddPath = regexp.MustCompile(`(?m)(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)`)

// sharedLibraries lists the files the dynamic loader needs for bin, per ldd.
func sharedLibraries(ctx context.Context, bin string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ldd", bin).Output()
	if err != nil {
		if bytes.Contains(out, []byte("not a dynamic executable")) {
			return nil, nil
		}
		return nil, fmt.Errorf("container: ldd %s: %w", bin, err)
	}
	var libs []string
	for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
		libs = append(libs, m[1])
	}
	return libs, nil
}

// nginxFiles is the root filesystem of the nginx image: Debian's nginx
// binary and exactly the shared libraries ldd names, copied from this
// machine (no base image, no registry), with just enough /etc for nginx to
// drop privileges to nobody and resolve the backend's alias through
// Docker's DNS.
func nginxFiles(ctx context.Context) ([]file, error) {
	bin, err := NginxBinary()
	if err != nil {
		return nil, err
	}
	libs, err := sharedLibraries(ctx, bin)
	if err != nil {
		return nil, err
	}
	var files []file
	for _, p := range append([]string{bin}, libs...) {
		data, err := os.ReadFile(p) // follows symlinks: the image gets the real file under the name the loader asks for
		if err != nil {
			return nil, fmt.Errorf("container: nginx image: %w", err)
		}
		dest := p
		if p == bin {
			dest = "/usr/sbin/nginx"
		}
		files = append(files, file{path: dest, data: data, mode: 0o755})
	}
	files = append(files,
		file{path: "/etc/passwd", data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"), mode: 0o644},
		file{path: "/etc/group", data: []byte("root:x:0:\nnogroup:x:65534:\n"), mode: 0o644},
		file{path: "/etc/nsswitch.conf", data: []byte("passwd: files\ngroup: files\nhosts: files dns\n"), mode: 0o644},
		file{path: "/etc/nginx", mode: 0o755, dir: true},
		// Temp paths (see nginx.conf) and the pid file live in /tmp.
		file{path: "/tmp", mode: 0o1777, dir: true},
	)
	return files, nil
}
