package container

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// OwnServer as Image.Ref means wsslab's own server image (built on first
// use): handy to try the bring-your-own-image path, and what the demo uses.
const OwnServer = "wsslab-server"

// Image is your own WSS server image. For each scenario the harness mints
// the certificate, writes it in certbot's layout, copies the files into the
// container where Files says, starts it with Env and Cmd, waits until Port
// answers TLS, and lets every client dial it.
//
// Which certificates your server sends is up to your configuration (Cmd,
// Env, a config file in the image): point it at fullchain.pem and the
// browser connects, at cert.pem and it does not. The scenario's certificate
// defects still apply to what is minted (expired, wrong name, ...); its
// "served chain" does not, since your server chooses the file.
//
// In CertDir, Files' paths, Env values and Cmd, ${HOST} is the scenario's
// host name and ${CERT_DIR} is CertDir.
type Image struct {
	// Ref is the image reference. It is used as is; an image missing
	// locally is pulled as docker run would.
	Ref string
	// Port is the container's TLS port, "8443" or "8443/tcp".
	Port string
	// CertDir is where the certificate files go (default
	// /etc/letsencrypt/live/${HOST}, certbot's).
	CertDir string
	// Files maps certbot file names (certs.Files: cert.pem, chain.pem,
	// fullchain.pem, privkey.pem, root.pem) to paths in the container.
	// Default: each of them under CertDir. A relative path is under CertDir.
	Files map[string]string
	// Env and Cmd are passed to the container (Cmd replaces the image's CMD;
	// the ENTRYPOINT stays).
	Env map[string]string
	Cmd []string
}

// DefaultCertDir is certbot's live directory for a host.
const DefaultCertDir = "/etc/letsencrypt/live/${HOST}"

// WithImage returns a harness.Backend that runs each scenario's server from
// img instead of wsslab's server. Its resources belong to b (labels, Close).
func (b *Backend) WithImage(img Image) harness.Backend { return &imageBackend{b: b, img: img} }

type imageBackend struct {
	b   *Backend
	img Image
}

func (ib *imageBackend) Name() string { return "container:" + ib.img.Ref }

func (ib *imageBackend) Start(ctx context.Context, spec harness.ServerSpec) (*harness.Endpoint, error) {
	img := ib.img
	if img.Ref == "" || img.Port == "" {
		return nil, fmt.Errorf("container: image: Ref and Port are required")
	}
	if spec.Leaf == nil {
		return nil, fmt.Errorf("container: %s: no certificate", spec.ID)
	}
	port := img.Port
	if !strings.Contains(port, "/") {
		port += "/tcp"
	}
	fixed, err := listenPort(spec.Listen)
	if err != nil {
		return nil, err
	}
	ref := img.Ref
	if ref == OwnServer {
		if ref, err = ib.b.ServerImage(ctx); err != nil {
			return nil, err
		}
	}
	expand := func(s, certDir string) string {
		return os.Expand(s, func(k string) string {
			switch k {
			case "HOST":
				return spec.Host
			case "CERT_DIR":
				return certDir
			}
			return "${" + k + "}"
		})
	}
	certDir := img.CertDir
	if certDir == "" {
		certDir = DefaultCertDir
	}
	certDir = expand(certDir, "")
	files, err := ib.certbotFiles(spec)
	if err != nil {
		return nil, err
	}
	mapping := img.Files
	if len(mapping) == 0 {
		mapping = map[string]string{}
		for name := range files {
			mapping[name] = name
		}
	}
	rs := runSpec{
		id:      spec.ID,
		image:   ref,
		env:     map[string]string{},
		files:   map[string][]byte{},
		publish: []string{port},
		fixed:   map[string]string{port: fixed},
		wait:    tlsAnswers{port: port},
	}
	for name, dest := range mapping {
		data, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("container: image: unknown certificate file %q (want one of %s)", name, strings.Join(certbotNames(), ", "))
		}
		dest = expand(dest, certDir)
		if !path.IsAbs(dest) {
			dest = path.Join(certDir, dest)
		}
		rs.files[dest] = data
	}
	for k, v := range img.Env {
		rs.env[k] = expand(v, certDir)
	}
	for _, a := range img.Cmd {
		rs.cmd = append(rs.cmd, expand(a, certDir))
	}
	c, err := ib.b.run(ctx, rs)
	if err != nil {
		return nil, err
	}
	// A user's server reports no evidence.
	return ib.b.endpoint(ctx, c, spec, port, "")
}

func certbotNames() []string {
	return []string{certs.Files.Cert, certs.Files.Chain, certs.Files.FullChain, certs.Files.PrivKey, certs.Files.Root}
}

// certbotFiles renders the leaf in certbot's layout, by file name.
func (ib *imageBackend) certbotFiles(spec harness.ServerSpec) (map[string][]byte, error) {
	dir, err := os.MkdirTemp(ib.b.tmp, "certs-")
	if err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := certs.WriteCertbot(dir, spec.Leaf); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, name := range certbotNames() {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("container: %w", err)
		}
		out[name] = data
	}
	return out, nil
}
