package scenarios

import (
	"net"
	"net/http"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// authToken is the demo credential of the auth scenarios.
const authToken = "s3cret"

func dns(names ...string) certs.Request { return certs.Request{DNSNames: names} }

func with(r certs.Request, d ...certs.Defect) certs.Request {
	r.Defects = append(r.Defects, d...)
	return r
}

var loopback = net.IPv4(127, 0, 0, 1)

// Shorthands for expectations.
func ok() Expect                     { return Expect{Outcome: harness.Connected} }
func fails(o harness.Outcome) Expect { return Expect{Outcome: o} }
func chrome(o harness.Outcome, netErr string) Expect {
	return Expect{Outcome: o, NetError: netErr}
}

// Table is every scenario. Every Want is what real Chromium (Debian's
// chromium 156) did when the scenario was run; see the README for the
// measured matrix. IDs are stable.
var Table = []Scenario{
	{
		ID:          "valid-fullchain",
		Description: "control: a certificate for the host from a trusted CA, served with its intermediate (fullchain.pem)",
		Kind:        Control,
		Lesson:      "This is what a browser needs: the host in the SAN, a chain the server sends in full, up to a root the browser trusts, within its dates.",
		Fix:         "Nothing to fix. Serve fullchain.pem (leaf + intermediates) and privkey.pem, for exactly the name clients use.",
		Host:        "valid.wsslab.test",
		Cert:        dns("valid.wsslab.test"),
		Want:        Want{Browser: ok(), Lax: ok(), Strict: ok()},
	},
	{
		ID:          "self-signed",
		Description: "a self-signed certificate for the right name",
		Kind:        BrowserOnly,
		Lesson:      "No CA the browser trusts vouches for a self-signed certificate. Postman does not verify by default, so it connects; the browser refuses, and the page only sees close code 1006.",
		Fix:         "Use a certificate from a CA: Let's Encrypt (certbot) for a public name; for local development a locally trusted CA (mkcert -install; mkcert localhost).",
		Host:        "self-signed.wsslab.test",
		Cert:        with(dns("self-signed.wsslab.test"), certs.SelfSigned),
		Want: Want{
			Browser: chrome(harness.CertUntrusted, "net::ERR_CERT_AUTHORITY_INVALID"),
			Lax:     ok(),
			Strict:  fails(harness.CertUntrusted),
		},
	},
	{
		ID:          "ip-url-dns-cert",
		Description: "connecting by bare IP (wss://127.0.0.1:PORT) to a server whose certificate names only its DNS name",
		Kind:        BrowserOnly,
		Lesson:      "The browser checks the host you typed, here an IP address, against the certificate's SAN. A certificate for a DNS name does not cover the server's IP, even if that name resolves to it.",
		Fix:         "Connect by the DNS name the certificate is for (wss://ws.example.com), not by IP. Point a DNS record at the server and get a certificate for that name.",
		Host:        "127.0.0.1",
		Cert:        dns("ip-url.wsslab.test"),
		Want: Want{
			Browser: chrome(harness.CertNameMismatch, "net::ERR_CERT_COMMON_NAME_INVALID"),
			Lax:     ok(),
			Strict:  fails(harness.CertNameMismatch),
		},
	},
	{
		ID:          "ip-in-cn-only",
		Description: "connecting by IP to a certificate that carries the IP only in its Common Name (openssl req -subj /CN=IP), no SAN",
		Kind:        BrowserOnly,
		Lesson:      "Browsers ignore the Common Name entirely (Chrome since version 58): an IP or name must be in the subjectAltName extension. The classic openssl one-liner without -addext subjectAltName makes exactly this certificate.",
		Fix:         "Put the name (or, if you must, the IP) in the SAN: openssl req ... -addext \"subjectAltName=DNS:ws.example.com\". Better: a DNS name and a CA-issued certificate.",
		Host:        "127.0.0.1",
		Cert:        with(certs.Request{CommonName: "127.0.0.1"}, certs.NoSAN),
		Want: Want{
			Browser: chrome(harness.CertNameMismatch, "net::ERR_CERT_COMMON_NAME_INVALID"),
			Lax:     ok(),
			Strict:  fails(harness.CertNameMismatch),
		},
	},
	{
		ID:          "missing-intermediate",
		Description: "the server sends its leaf without the intermediate (cert.pem instead of fullchain.pem)",
		Kind:        BrowserOnly,
		Lesson:      "The browser must build a path from the leaf to a root it trusts; without the intermediate there is none. Some desktop browsers hide this by caching or fetching intermediates; do not count on it.",
		Fix:         "Serve fullchain.pem (cert.pem + chain.pem), not cert.pem: ssl_certificate /etc/letsencrypt/live/NAME/fullchain.pem in nginx; certfile=fullchain.pem in Python's ssl.",
		Host:        "missing-intermediate.wsslab.test",
		Cert:        with(dns("missing-intermediate.wsslab.test"), certs.MissingIntermediate),
		Want: Want{
			Browser: chrome(harness.CertUntrusted, "net::ERR_CERT_AUTHORITY_INVALID"),
			Lax:     ok(),
			Strict:  fails(harness.CertUntrusted),
		},
	},
	{
		ID:          "expired",
		Description: "a certificate that expired 30 days ago",
		Kind:        BrowserOnly,
		Lesson:      "Browsers check dates against the real clock. Postman does not check the certificate at all, so an expired certificate keeps working there until someone opens the site in a browser.",
		Fix:         "Renew it and automate renewal (certbot renew from a timer), then reload the server so it reads the new file.",
		Host:        "expired.wsslab.test",
		Cert:        with(dns("expired.wsslab.test"), certs.Expired),
		Want: Want{
			Browser: chrome(harness.CertDateInvalid, "net::ERR_CERT_DATE_INVALID"),
			Lax:     ok(),
			Strict:  fails(harness.CertDateInvalid),
		},
	},
	{
		ID:          "wrong-san",
		Description: "the certificate is valid, but for another name (other.wsslab.test)",
		Kind:        BrowserOnly,
		Lesson:      "A certificate for yourapp.com does not cover ws.yourapp.com: the exact host in the URL must be in the SAN (or covered by a wildcard one level deep).",
		Fix:         "Get a certificate that lists the WebSocket host (certbot -d ws.yourapp.com, or a wildcard *.yourapp.com), or connect by a name the certificate has.",
		Host:        "wrong-san.wsslab.test",
		Cert:        dns("other.wsslab.test"),
		Want: Want{
			Browser: chrome(harness.CertNameMismatch, "net::ERR_CERT_COMMON_NAME_INVALID"),
			Lax:     ok(),
			Strict:  fails(harness.CertNameMismatch),
		},
	},
}

var _ = http.Header{}
var _ = loopback
