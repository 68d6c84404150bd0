package scenarios

import (
	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// ownServerWith is wsslab's own server image treated as "your image",
// started the way a user would start theirs: with the certificate file
// named on its command line.
func ownServerWith(certFile string) *harness.Topology {
	return &harness.Topology{Image: &harness.ServerImage{
		Ref: harness.OwnServerImage,
		// The certificate files are in certbot's layout: /etc/letsencrypt/live/${HOST}.
		Port: "8443",
		Cmd:  []string{"-listen", ":8443", "-cert", "${CERT_DIR}/" + certFile, "-key", "${CERT_DIR}/" + certs.Files.PrivKey},
	}}
}

// nginx is the topology with nginx, configured as p, in front.
func nginx(p harness.NginxProxy) *harness.Topology { return &harness.Topology{Proxy: &p} }

// ContainerTable is every container-only scenario: production topologies
// (nginx terminating TLS in front of a plain ws:// backend) and a server
// from an image (bring your own), as plain data in Topology. Every Want is
// what the real clients did when the scenario was run. IDs are stable and
// distinct from Table's.
var ContainerTable = []Scenario{
	{
		ID:          "nginx-proxy-ok",
		Description: "control: nginx terminates TLS with fullchain.pem and proxies to a plain ws:// backend with HTTP/1.1, forwarding Upgrade and Connection",
		Kind:        Control,
		Lesson:      "The standard deployment: the proxy holds the certificate, the backend speaks plain ws:// on a private network. A WebSocket needs the proxy to speak HTTP/1.1 upstream and pass the Upgrade and Connection headers on, because they are hop-by-hop and dropped by default.",
		Fix:         "Nothing to fix. In nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; ssl_certificate .../fullchain.pem.",
		Host:        "nginx-proxy-ok.wsslab.test",
		Cert:        dns("nginx-proxy-ok.wsslab.test"),
		Want:        everyoneConnects,
		Topology:    nginx(harness.NginxProxy{}),
	},
	{
		ID:          "nginx-no-upgrade-headers",
		Description: "nginx proxies with HTTP/1.1 but does not forward the Upgrade and Connection headers",
		Kind:        AllFail,
		Lesson:      "A proxy problem, not a certificate one: TLS to nginx succeeds for every client, but the backend receives a plain GET without Upgrade, answers it as an ordinary HTTP request, and every client, Postman included, sees a non-101 response (the code is whatever your backend answers a plain GET with: 200 here, often 400 or 426).",
		Fix:         "Forward the upgrade: proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; (with map $http_upgrade $connection_upgrade { default upgrade; '' close; }).",
		Host:        "nginx-no-upgrade-headers.wsslab.test",
		Cert:        dns("nginx-no-upgrade-headers.wsslab.test"),
		Want: Want{
			Browser: harness.HandshakeRejected, Verifying: harness.HandshakeRejected, Lax: harness.HandshakeRejected,
			Reasons: Reasons{chrome: "Unexpected response code: 200", goErr: "HTTP 200"},
		},
		Topology: nginx(harness.NginxProxy{NoUpgradeHeaders: true}),
	},
	{
		ID:          "nginx-bare-proxy-pass",
		Description: "nginx with a bare proxy_pass: its defaults, HTTP/1.0 upstream and no Upgrade/Connection forwarded",
		Kind:        AllFail,
		Lesson:      "A proxy problem, not a certificate one: the most common first nginx config. TLS to nginx succeeds for every client, but Upgrade and Connection are hop-by-hop headers that nginx drops unless told to pass them, so the backend never sees a WebSocket request and every client, Postman included, gets a non-101 answer.",
		Fix:         "In the location: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; (nginx.org/en/docs/http/websocket.html).",
		Host:        "nginx-bare-proxy-pass.wsslab.test",
		Cert:        dns("nginx-bare-proxy-pass.wsslab.test"),
		Want: Want{
			Browser: harness.HandshakeRejected, Verifying: harness.HandshakeRejected, Lax: harness.HandshakeRejected,
			Reasons: Reasons{chrome: "Unexpected response code: 200", goErr: "HTTP 200"},
		},
		Topology: nginx(harness.NginxProxy{HTTP10: true, NoUpgradeHeaders: true}),
	},
	{
		ID:          "nginx-http10-upstream",
		Description: "nginx forwards Upgrade and Connection but leaves proxy_http_version at its default, HTTP/1.0",
		Kind:        BrowserAccepts,
		Lesson:      "Measured, and a surprise: nginx 1.22 sends GET / HTTP/1.0 with Upgrade: websocket to the backend, and this backend (gorilla/websocket) does not check the version, answers 101, and nginx relays it. Every client connects. RFC 6455 (section 4.1) requires HTTP/1.1 or higher, so a backend that enforces it refuses; the headers are what nginx cannot do without, the version is what your backend may or may not forgive.",
		Fix:         "Add proxy_http_version 1.1; anyway: it is what the WebSocket handshake requires, and what nginx's WebSocket guide configures.",
		Host:        "nginx-http10-upstream.wsslab.test",
		Cert:        dns("nginx-http10-upstream.wsslab.test"),
		Want:        everyoneConnects,
		Topology:    nginx(harness.NginxProxy{HTTP10: true}),
	},
	{
		ID:          "nginx-cert-only",
		Description: "nginx's ssl_certificate points at cert.pem instead of fullchain.pem (the intermediate is not sent)",
		Kind:        BrowserOnly,
		Lesson:      "The proxy is where the chain is served, so the proxy is where it goes wrong: ssl_certificate cert.pem sends the leaf alone, and the browser cannot build a path to a root it trusts. Postman does not check, so it connects.",
		Fix:         "ssl_certificate /etc/letsencrypt/live/NAME/fullchain.pem; then nginx -s reload.",
		Host:        "nginx-cert-only.wsslab.test",
		Cert:        with(dns("nginx-cert-only.wsslab.test"), certs.MissingIntermediate),
		Want: Want{
			Browser: harness.CertUntrusted, Verifying: harness.CertUntrusted, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_AUTHORITY_INVALID", goErr: "x509.UnknownAuthorityError"},
		},
		Topology: nginx(harness.NginxProxy{}),
	},
	{
		ID:          "byo-image-fullchain",
		Description: "your own server image (here wsslab's), given fullchain.pem and privkey.pem from certbot's layout",
		Kind:        Control,
		Lesson:      "Configured with the full chain, a server in a container is like any other: the browser connects.",
		Fix:         "Nothing to fix: point the server at fullchain.pem (certfile=fullchain.pem in Python's ssl, cert: fullchain.pem in Node's tls).",
		Host:        "byo-image-fullchain.wsslab.test",
		Cert:        dns("byo-image-fullchain.wsslab.test"),
		Want:        everyoneConnects,
		Topology:    ownServerWith(certs.Files.FullChain),
	},
	{
		ID:          "byo-image-cert-only",
		Description: "your own server image (here wsslab's), given cert.pem instead of fullchain.pem",
		Kind:        BrowserOnly,
		Lesson:      "The certificate is fine; the server's configuration sends the leaf without its intermediate. The browser fails with the missing-intermediate error while Postman connects.",
		Fix:         "Give the server fullchain.pem, not cert.pem.",
		Host:        "byo-image-cert-only.wsslab.test",
		Cert:        dns("byo-image-cert-only.wsslab.test"),
		Want: Want{
			Browser: harness.CertUntrusted, Verifying: harness.CertUntrusted, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_AUTHORITY_INVALID", goErr: "x509.UnknownAuthorityError"},
		},
		Topology: ownServerWith(certs.Files.Cert),
	},
}
