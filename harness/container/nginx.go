package container

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// Proxy is how nginx is configured in front of the plain ws:// backend. The
// zero value is the configuration nginx's own WebSocket guide gives
// (https://nginx.org/en/docs/http/websocket.html): HTTP/1.1 upstream,
// Upgrade and Connection forwarded.
type Proxy struct {
	// NoUpgradeHeaders leaves out proxy_set_header Upgrade/Connection. These
	// are hop-by-hop headers: a proxy drops them unless told otherwise.
	NoUpgradeHeaders bool
	// HTTP10 leaves proxy_http_version at nginx's default, 1.0, which has
	// no Upgrade mechanism.
	HTTP10 bool
}

// BackendAlias is the backend container's name on the proxy network.
const BackendAlias = "backend"

// Nginx returns a harness.Backend for the production topology: Debian's
// nginx in a container terminating TLS with the scenario's certificate, on
// a user-defined network in front of wsslab-server speaking plain ws:// and
// reached by its alias. nginx sends the file matching the scenario's served
// chain: fullchain.pem normally, cert.pem for a missing-intermediate
// scenario, exactly the mistake people make in ssl_certificate.
func (b *Backend) Nginx(p Proxy) harness.Backend { return &nginxBackend{b: b, proxy: p} }

type nginxBackend struct {
	b     *Backend
	proxy Proxy
}

func (nb *nginxBackend) Name() string { return "container:nginx" }

const nginxPort = "443/tcp"

func (nb *nginxBackend) Start(ctx context.Context, spec harness.ServerSpec) (_ *harness.Endpoint, err error) {
	b := nb.b
	if spec.Leaf == nil {
		return nil, fmt.Errorf("container: %s: no certificate", spec.ID)
	}
	fixed, err := listenPort(spec.Listen)
	if err != nil {
		return nil, err
	}
	serverTag, err := b.ServerImage(ctx)
	if err != nil {
		return nil, err
	}
	nginxTag, err := b.image(ctx, "nginx")
	if err != nil {
		return nil, err
	}
	nw, err := tcnetwork.New(ctx, tcnetwork.WithLabels(b.Labels()))
	if nw != nil {
		b.mu.Lock()
		b.networks[nw.ID] = nw
		b.mu.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("container: %s: network: %w", spec.ID, err)
	}
	var started []*testcontainers.DockerContainer
	closeAll := func() {
		for i := len(started) - 1; i >= 0; i-- {
			b.terminate(started[i])
		}
		nw.Remove(context.Background())
		b.mu.Lock()
		delete(b.networks, nw.ID)
		b.mu.Unlock()
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()

	// The backend: plain ws://, reachable only through the network; its
	// evidence port is published so the test sees what reached it.
	backendSpec := spec
	backendSpec.Options.Plain = true
	rs, err := serverRun(backendSpec, serverTag)
	if err != nil {
		return nil, err
	}
	rs.id = spec.ID + "-backend"
	rs.cmd = []string{"-listen", ":8080", "-evidence-listen", ":8081"}
	rs.publish = []string{evidencePort}
	rs.network, rs.aliases = nw.Name, []string{BackendAlias}
	backend, err := b.run(ctx, rs)
	if err != nil {
		return nil, err
	}
	started = append(started, backend)
	evidence := b.evidence(ctx, backend, evidencePort)

	files, err := (&imageBackend{b: b}).certbotFiles(spec)
	if err != nil {
		return nil, err
	}
	dir := "/etc/letsencrypt/live/" + spec.Host
	certFile := servedFile(spec.Leaf)
	certData := files[certFile]
	if certData == nil { // fullchain-root.pem is not in certbot's layout
		certData = certs.PEM(spec.Leaf.Served...)
	}
	ngx := runSpec{
		id:    spec.ID + "-nginx",
		image: nginxTag,
		files: map[string][]byte{
			"/etc/nginx/nginx.conf":         []byte(nb.proxy.Config(spec.Host, dir+"/"+certFile, dir+"/"+certs.Files.PrivKey)),
			dir + "/" + certFile:            certData,
			dir + "/" + certs.Files.PrivKey: files[certs.Files.PrivKey],
		},
		publish: []string{nginxPort},
		fixed:   map[string]string{nginxPort: fixed},
		wait:    tlsAnswers{port: nginxPort},
		network: nw.Name,
	}
	proxy, err := b.run(ctx, ngx)
	if err != nil {
		return nil, err
	}
	started = append(started, proxy)
	ep, err := b.endpoint(ctx, proxy, spec, nginxPort, "")
	if err != nil {
		return nil, err
	}
	ep.Evidence = evidence
	ep.Close = sync.OnceFunc(closeAll)
	return ep, nil
}

// servedFile is the certbot file that sends exactly the leaf's served
// chain.
func servedFile(l *certs.Leaf) string {
	switch {
	case len(l.Issuers) >= 2 && len(l.Served) == 1:
		return certs.Files.Cert // the intermediate is missing
	case len(l.Issuers) >= 1 && len(l.Served) == len(l.Issuers)+1:
		return "fullchain-root.pem" // the root is sent too
	}
	return certs.Files.FullChain
}

// Config renders nginx.conf for host, with the certificate and key paths.
func (p Proxy) Config(host, certPath, keyPath string) string {
	var loc strings.Builder
	loc.WriteString("            proxy_pass http://" + BackendAlias + ":8080;\n")
	if !p.HTTP10 {
		loc.WriteString("            proxy_http_version 1.1;\n")
	}
	if !p.NoUpgradeHeaders {
		loc.WriteString("            proxy_set_header Upgrade $http_upgrade;\n")
		loc.WriteString("            proxy_set_header Connection $connection_upgrade;\n")
	}
	loc.WriteString("            proxy_set_header Host $host;\n")
	loc.WriteString("            proxy_read_timeout 1h;\n")
	return `# wsslab: nginx terminating TLS for ` + host + `, proxying to ws://` + BackendAlias + `:8080
user nobody nogroup;
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log /dev/stdout;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen 443 ssl;
        server_name ` + host + `;
        ssl_certificate     ` + certPath + `;
        ssl_certificate_key ` + keyPath + `;
        location / {
` + loc.String() + `        }
    }
}
`
}
