package scenarios

import (
	"crypto/tls"
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

// The reason vocabularies, short for the table's rows.
const (
	chrome = harness.ChromeReasons
	goErr  = harness.GoReasons
)

// everyoneConnects is the Want of a row where every client connects.
var everyoneConnects = Want{Browser: harness.Connected, Verifying: harness.Connected, Lax: harness.Connected}

// Table is every scenario that runs in-process. Every Want is what the real
// clients did when the scenario was run (Chrome: Debian's chromium 156); see
// the README for the measured matrix. IDs are stable.
var Table = []Scenario{
	{
		ID:          "valid-fullchain",
		Description: "control: a certificate for the host from a trusted CA, served with its intermediate (fullchain.pem)",
		Kind:        Control,
		Lesson:      "This is what a browser needs: the host in the SAN, a chain the server sends in full, up to a root the browser trusts, within its dates.",
		Fix:         "Nothing to fix. Serve fullchain.pem (leaf + intermediates) and privkey.pem, for exactly the name clients use.",
		Host:        "valid.wsslab.test",
		Cert:        dns("valid.wsslab.test"),
		Want:        everyoneConnects,
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
			Browser: harness.CertUntrusted, Verifying: harness.CertUntrusted, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_AUTHORITY_INVALID", goErr: "x509.UnknownAuthorityError"},
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
			Browser: harness.CertNameMismatch, Verifying: harness.CertNameMismatch, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_COMMON_NAME_INVALID", goErr: "x509.HostnameError"},
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
			Browser: harness.CertNameMismatch, Verifying: harness.CertNameMismatch, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_COMMON_NAME_INVALID", goErr: "x509.HostnameError"},
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
			Browser: harness.CertUntrusted, Verifying: harness.CertUntrusted, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_AUTHORITY_INVALID", goErr: "x509.UnknownAuthorityError"},
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
			Browser: harness.CertDateInvalid, Verifying: harness.CertDateInvalid, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_DATE_INVALID", goErr: "x509.CertificateInvalidError: Expired"},
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
			Browser: harness.CertNameMismatch, Verifying: harness.CertNameMismatch, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_COMMON_NAME_INVALID", goErr: "x509.HostnameError"},
		},
	},
	{
		ID:          "untrusted-root",
		Description: "a complete chain (leaf, intermediate and root all sent) ending at a private company root the browser does not trust",
		Kind:        BrowserOnly,
		Lesson:      "Sending the root does not make it trusted: trust comes from the client's store, never from the server. A private (company, homelab) CA works only on machines where it was installed.",
		Fix:         "For public clients use a public CA (Let's Encrypt). For an internal CA, install its root on every client device (MDM/group policy); sending it from the server changes nothing.",
		Host:        "untrusted-root.wsslab.test",
		Cert:        with(dns("untrusted-root.wsslab.test"), certs.UntrustedRoot),
		Want: Want{
			Browser: harness.CertUntrusted, Verifying: harness.CertUntrusted, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_AUTHORITY_INVALID", goErr: "x509.UnknownAuthorityError"},
		},
	},
	{
		ID:          "not-yet-valid",
		Description: "a certificate whose validity starts 30 days from now (a server or CA clock in the future)",
		Kind:        BrowserOnly,
		Lesson:      "Not-yet-valid is the same date check as expired, and Chrome reports it with the same error. It usually means a wrong clock where the certificate was made, or a client clock in the past.",
		Fix:         "Fix the clock (NTP) where certificates are issued, or on the client; reissue the certificate with a correct notBefore.",
		Host:        "not-yet-valid.wsslab.test",
		Cert:        with(dns("not-yet-valid.wsslab.test"), certs.NotYetValid),
		Want: Want{
			Browser: harness.CertDateInvalid, Verifying: harness.CertDateInvalid, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_DATE_INVALID", goErr: "x509.CertificateInvalidError: Expired"},
		},
	},
	{
		ID:          "cn-only-no-san",
		Description: "a CA-issued certificate with the host only in the Common Name and no subjectAltName extension",
		Kind:        BrowserOnly,
		Lesson:      "Chrome has ignored the Common Name since version 58 (2017), and Go since 1.15: the name must be in the SAN. Old openssl recipes and some internal CAs still produce CN-only certificates.",
		Fix:         "Reissue with a SAN: openssl ... -addext \"subjectAltName=DNS:ws.example.com\"; in an internal CA template, add the DNS name to subjectAltName.",
		Host:        "cn-only.wsslab.test",
		Cert:        with(certs.Request{CommonName: "cn-only.wsslab.test"}, certs.NoSAN),
		Want: Want{
			Browser: harness.CertNameMismatch, Verifying: harness.CertNameMismatch, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_COMMON_NAME_INVALID", goErr: "x509.HostnameError"},
		},
	},
	{
		ID:          "sha1-signature",
		Description: "a leaf signed with SHA-1 (ecdsa-with-SHA1) by a trusted intermediate",
		Kind:        BrowserOnly,
		Lesson:      "SHA-1 signatures are forgeable in practice (SHAttered, 2017); browsers refuse them even under a private root the user installed. Surprise: Chrome names it net::ERR_CERT_INVALID, not ERR_CERT_WEAK_SIGNATURE_ALGORITHM, because its verifier now treats a SHA-1 signature as an unparseable one. Go refuses it too, but reports it as x509.UnknownAuthorityError (\"signed by unknown authority (possibly because of ... insecure algorithm)\").",
		Fix:         "Reissue the certificate with SHA-256 (every current CA and openssl default does); check old internal CA templates for sha1.",
		Host:        "sha1.wsslab.test",
		Cert:        with(dns("sha1.wsslab.test"), certs.SHA1Signature),
		Want: Want{
			Browser: harness.CertInvalid, Verifying: harness.CertUntrusted, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_INVALID", goErr: "x509.UnknownAuthorityError"},
		},
	},
	{
		ID:          "no-server-auth",
		Description: "a leaf whose extended key usage is clientAuth only (a client certificate installed on a server)",
		Kind:        BrowserOnly,
		Lesson:      "A certificate with an extended key usage must list serverAuth to be used by a TLS server. Reusing a client or code-signing certificate on a server fails in every verifying client.",
		Fix:         "Issue a server certificate (extendedKeyUsage = serverAuth), e.g. from the CA's web-server template.",
		Host:        "no-server-auth.wsslab.test",
		Cert:        with(dns("no-server-auth.wsslab.test"), certs.NoServerAuth),
		Want: Want{
			Browser: harness.CertInvalid, Verifying: harness.CertInvalid, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_INVALID", goErr: "x509.CertificateInvalidError: IncompatibleUsage"},
		},
	},
	{
		ID:          "weak-rsa-1024",
		Description: "a leaf with a 1024-bit RSA key from a trusted CA",
		Kind:        BrowserAccepts,
		Lesson:      "Surprise: Chrome accepts it. Its verifier's floor is 1024-bit RSA; the 2048-bit minimum is a rule for publicly trusted CAs (the CA/Browser Forum's), which a locally installed root is exempt from. Go accepts it too. No public CA would issue it.",
		Fix:         "Nothing breaks here, but reissue with RSA 2048+ or ECDSA P-256 (openssl req -newkey rsa:2048, or -newkey ec -pkeyopt ec_paramgen_curve:P-256): 1024-bit RSA is within reach of well-funded attackers.",
		Host:        "weak-rsa.wsslab.test",
		Cert:        with(dns("weak-rsa.wsslab.test"), certs.WeakKey),
		Want: Want{
			Browser: harness.Connected, Verifying: harness.Connected, Lax: harness.Connected,
		},
	},
	{
		ID:          "wildcard-too-deep",
		Description: "a wildcard *.wsslab.test visited as a.b.wsslab.test",
		Kind:        BrowserOnly,
		Lesson:      "A wildcard covers exactly one label: *.example.com matches ws.example.com but not a.ws.example.com, and not example.com itself.",
		Fix:         "Get a certificate for the exact name, or a wildcard one level down (*.ws.example.com), or use a single-label host.",
		Host:        "a.b.wsslab.test",
		Cert:        dns("*.wsslab.test"),
		Want: Want{
			Browser: harness.CertNameMismatch, Verifying: harness.CertNameMismatch, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_COMMON_NAME_INVALID", goErr: "x509.HostnameError"},
		},
	},
	{
		ID:          "wildcard-match",
		Description: "control: a wildcard *.wsslab.test visited as wild.wsslab.test",
		Kind:        Control,
		Lesson:      "A wildcard is fine for a one-label subdomain: *.example.com covers ws.example.com.",
		Fix:         "Nothing to fix. (With Let's Encrypt a wildcard needs the DNS-01 challenge.)",
		Host:        "wild.wsslab.test",
		Cert:        dns("*.wsslab.test"),
		Want:        everyoneConnects,
	},
	{
		ID:          "long-validity-private-root",
		Description: "a leaf valid for 5 years from the (locally trusted) private root",
		Kind:        BrowserAccepts,
		Lesson:      "Surprise: Chrome accepts it. The 398-day maximum applies only to certificates from publicly trusted CAs; a root the user or admin installed is exempt. The same certificate from a public CA would be rejected.",
		Fix:         "Nothing breaks here; still prefer short-lived certificates with automated renewal (a stolen key then expires soon).",
		Host:        "long-validity.wsslab.test",
		Cert:        with(dns("long-validity.wsslab.test"), certs.LongValidity),
		Want:        everyoneConnects,
	},
	{
		ID:          "ip-in-san",
		Description: "connecting by IP (wss://127.0.0.1:PORT) with 127.0.0.1 in the certificate's SAN, from a trusted CA",
		Kind:        Control,
		Lesson:      "Connecting by IP is not forbidden: it works when the IP is an iPAddress SAN of a certificate from a CA the browser trusts. It usually fails in practice because public CAs rarely issue IP certificates and people use DNS-name certificates or a CN instead (see ip-url-dns-cert, ip-in-cn-only).",
		Fix:         "Nothing to fix for a private, installed CA. For public clients prefer a DNS name; if you need an IP, the IP must be in the SAN (subjectAltName=IP:203.0.113.7) from a CA the clients trust.",
		Host:        "127.0.0.1",
		Cert:        certs.Request{IPs: []net.IP{loopback}},
		Want:        everyoneConnects,
	},
	{
		ID:          "ip-san-connect-by-name",
		Description: "a certificate for the IP only (IP SAN), dialed by a DNS name that resolves to that IP",
		Kind:        BrowserOnly,
		Lesson:      "The check is against the name in the URL, not the address it resolves to: an IP certificate does not cover a DNS name pointing at that IP.",
		Fix:         "Put the DNS name in the SAN (a certificate may list both: DNS:ws.example.com, IP:203.0.113.7).",
		Host:        "ip-cert.wsslab.test",
		Cert:        certs.Request{IPs: []net.IP{loopback}},
		Want: Want{
			Browser: harness.CertNameMismatch, Verifying: harness.CertNameMismatch, Lax: harness.Connected,
			Reasons: Reasons{chrome: "net::ERR_CERT_COMMON_NAME_INVALID", goErr: "x509.HostnameError"},
		},
	},
	{
		ID:          "localhost-dev-cert",
		Description: "control: a development certificate for localhost, 127.0.0.1 and ::1 from a locally trusted CA (the mkcert way)",
		Kind:        Control,
		Lesson:      "For local development a locally installed CA plus a certificate for localhost is exactly what browsers accept; mkcert -install and mkcert localhost 127.0.0.1 ::1 do this. Never ship that CA or certificate to production.",
		Fix:         "Nothing to fix locally. In production use a public CA for a real DNS name.",
		Host:        "localhost",
		Cert:        certs.Request{DNSNames: []string{"localhost"}, IPs: []net.IP{loopback, net.IPv6loopback}},
		Want:        everyoneConnects,
	},
	{
		ID:          "tls10-only",
		Description: "a server that only speaks TLS 1.0 and 1.1, with a valid certificate",
		Kind:        AllFail,
		Lesson:      "Not every failure is browser vs Postman: Chrome removed TLS 1.0/1.1 in 2020 and Postman's (Node.js) and Go's clients default to TLS 1.2+, so both fail. The certificate is fine.",
		Fix:         "Enable TLS 1.2 and 1.3 on the server (nginx: ssl_protocols TLSv1.2 TLSv1.3; Python: context.minimum_version = ssl.TLSVersion.TLSv1_2); upgrade old OpenSSL/runtime.",
		Host:        "tls10.wsslab.test",
		Cert:        dns("tls10.wsslab.test"),
		Server:      harness.ServerOptions{MinTLS: tls.VersionTLS10, MaxTLS: tls.VersionTLS11},
		Want: Want{
			Browser: harness.TLSFailed, Verifying: harness.TLSFailed, Lax: harness.TLSFailed,
			Reasons: Reasons{chrome: "net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH", goErr: "remote error: tls: protocol version not supported"},
		},
	},
	{
		ID:          "origin-check",
		Description: "the server enforces same-origin (gorilla/websocket's default CheckOrigin) and the page is on another origin",
		Kind:        BrowserOnly,
		Lesson:      "Browsers always send an Origin header on a WebSocket handshake; Postman and most non-browser clients send none, so an Origin check only ever bites the browser. The certificate is fine; the server answered 403.",
		Fix:         "Allow your front end's origin explicitly on the server (gorilla: Upgrader.CheckOrigin comparing against an allow-list; Python websockets: origins=[\"https://app.example.com\"]). Do not just return true for every origin on an authenticated endpoint.",
		Host:        "origin.wsslab.test",
		Cert:        dns("origin.wsslab.test"),
		Server:      harness.ServerOptions{SameOrigin: true},
		Want: Want{
			Browser: harness.HandshakeRejected, Verifying: harness.Connected, Lax: harness.Connected,
			Reasons: Reasons{chrome: "Unexpected response code: 403"},
		},
	},
	{
		ID:          "mixed-content",
		Description: "a page served over https opens ws:// (plain, unencrypted) to a server",
		Kind:        BrowserOnly,
		Lesson:      "A page loaded over HTTPS may not open ws:// (mixed content): Chrome throws a SecurityError in the WebSocket constructor and never connects. Only localhost and 127.0.0.1 are exempt, which is why it works on your laptop and fails when deployed.",
		Fix:         "Use wss:// from https pages: terminate TLS for the WebSocket too (the same nginx that serves the page can proxy /ws to ws://127.0.0.1:3500).",
		Host:        "mixed.wsslab.test",
		Server:      harness.ServerOptions{Plain: true},
		Want: Want{
			Browser: harness.Blocked, Verifying: harness.Connected, Lax: harness.Connected,
			Reasons: Reasons{chrome: "SecurityError: Failed to construct 'WebSocket': An insecure WebSocket connection may not be initiated from a page loaded over HTTPS."},
		},
	},
	{
		ID:          "subprotocol-required",
		Description: "the server requires the subprotocol chat.v2 and the client offers none",
		Kind:        AllFail,
		Lesson:      "A server that requires Sec-WebSocket-Protocol rejects a client that does not offer it, whether browser or Postman. In the browser it looks like any other failed connection; the reason is the HTTP status.",
		Fix:         "Offer the protocol in the client (new WebSocket(url, [\"chat.v2\"]); Postman: add the Sec-WebSocket-Protocol header) or make it optional on the server.",
		Host:        "subprotocol.wsslab.test",
		Cert:        dns("subprotocol.wsslab.test"),
		Server:      harness.ServerOptions{Subprotocols: []string{"chat.v2"}, RequireSubprotocol: true},
		Want: Want{
			Browser: harness.HandshakeRejected, Verifying: harness.HandshakeRejected, Lax: harness.HandshakeRejected,
			Reasons: Reasons{chrome: "Unexpected response code: 400", goErr: "HTTP 400"},
		},
	},
	{
		ID:          "subprotocol-unrequested",
		Description: "the server answers with subprotocol chat.v1 although the client asked for none",
		Kind:        AllFail,
		Lesson:      "RFC 6455 says a client must fail the connection when the server selects a subprotocol it did not offer. Chrome does; so does Postman's Node.js client. Go's gorilla/websocket does not check, so a Go test alone would miss it.",
		Fix:         "Only echo a subprotocol the client offered (gorilla: Upgrader.Subprotocols; do not set Sec-WebSocket-Protocol by hand).",
		Host:        "subprotocol-unrequested.wsslab.test",
		Cert:        dns("subprotocol-unrequested.wsslab.test"),
		Server:      harness.ServerOptions{ForceSubprotocol: "chat.v1"},
		Want: Want{
			Browser: harness.HandshakeInvalid, Verifying: harness.HandshakeInvalid, Lax: harness.HandshakeInvalid,
			Reasons: Reasons{chrome: "Response must not include 'Sec-WebSocket-Protocol' header if not present in request: chat.v1", goErr: "subprotocol not offered: chat.v1"},
		},
	},
	{
		ID:          "auth-header-required",
		Description: "the server requires an Authorization header; Postman sends one, a browser page cannot",
		Kind:        BrowserOnly,
		Lesson:      "The browser WebSocket API cannot set request headers, so an endpoint that only accepts Authorization: Bearer works in Postman and fails in the browser. Chrome does not even say 401: it tries HTTP authentication, has no credentials, and reports \"HTTP Authentication failed; no valid credentials available\".",
		Fix:         "Accept a credential the browser can send: a cookie (same-site, see auth-token-in-cookie), a short-lived token in the query string (?token=, see auth-token-in-query) or in the subprotocol (see auth-token-in-subprotocol), or authenticate with the first message.",
		Host:        "auth.wsslab.test",
		Cert:        dns("auth.wsslab.test"),
		Server:      harness.ServerOptions{RequireAuth: true, AuthToken: authToken},
		Header:      http.Header{"Authorization": {"Bearer " + authToken}},
		Want: Want{
			Browser: harness.HandshakeRejected, Verifying: harness.Connected, Lax: harness.Connected,
			Reasons: Reasons{chrome: "HTTP Authentication failed; no valid credentials available"},
		},
	},
	{
		ID:          "auth-token-in-query",
		Description: "control: the same authenticated server, token passed as ?token= in the URL",
		Kind:        Control,
		Lesson:      "A token in the query string is something every client, the browser included, can send. Keep it short-lived: URLs end up in logs.",
		Fix:         "Nothing to fix; issue a short-lived, single-use token from your authenticated HTTP API and pass it as ?token=.",
		Host:        "auth-query.wsslab.test",
		Cert:        dns("auth-query.wsslab.test"),
		Server:      harness.ServerOptions{RequireAuth: true, AuthToken: authToken},
		Query:       "?token=" + authToken,
		Want:        everyoneConnects,
	},
	{
		ID:           "auth-token-in-subprotocol",
		Description:  "control: the same authenticated server, token passed as the subprotocol bearer.TOKEN (echoed back by the server)",
		Kind:         Control,
		Lesson:       "new WebSocket(url, [\"bearer.\" + token]) sends the token in Sec-WebSocket-Protocol, the one header a page controls. The server must echo the protocol back, or the browser fails the connection.",
		Fix:          "Nothing to fix; the server validates the token and selects that subprotocol in its answer.",
		Host:         "auth-subprotocol.wsslab.test",
		Cert:         dns("auth-subprotocol.wsslab.test"),
		Server:       harness.ServerOptions{RequireAuth: true, AuthToken: authToken},
		Subprotocols: []string{"bearer." + authToken},
		Want:         everyoneConnects,
	},
	{
		ID:          "auth-token-in-cookie",
		Description: "control: the same authenticated server; the page first calls its /login, which sets a SameSite=Lax cookie, then opens the socket",
		Kind:        Control,
		Lesson:      "Cookies are the credential browsers send on a WebSocket handshake by themselves: a cookie set by the server (here by its /login) goes with new WebSocket() from a same-site page (app.example.com and ws.example.com). Postman sends it from its cookie jar. Cross-site pages do not send SameSite=Lax cookies, and third-party cookies are being phased out.",
		Fix:         "Nothing to fix; keep the WebSocket host same-site with the app, set the cookie Secure and HttpOnly, and check Origin on the server (a cookie-authenticated socket is open to cross-site WebSocket hijacking otherwise).",
		Host:        "auth-cookie.wsslab.test",
		Cert:        dns("auth-cookie.wsslab.test"),
		Server:      harness.ServerOptions{RequireAuth: true, AuthToken: authToken},
		LoginPath:   "/login",
		Header:      http.Header{"Cookie": {"token=" + authToken}},
		Want:        everyoneConnects,
	},
	{
		ID:           "subprotocol-not-offered",
		Description:  "the page offers subprotocol chat.v2; the server answers chat.v1, which it did not offer",
		Kind:         BrowserOnly,
		Lesson:       "RFC 6455 §4.1: the client fails the connection when the server selects a subprotocol that was not among those it offered. Both browsers enforce this one (Firefox too, which lets an unrequested subprotocol through: see subprotocol-unrequested). Go's gorilla/websocket does not check, so Go clients connect with chat.v1 and a Go test passes. Firefox gives no reason at all: BiDi shows the 101 answer, then the page's error; the console says only that it cannot connect.",
		Fix:          "Answer only with a subprotocol the client offered (gorilla: list them in Upgrader.Subprotocols and let it pick; never set Sec-WebSocket-Protocol by hand), and keep client and server releases agreeing on the protocol names.",
		Host:         "subprotocol-other.wsslab.test",
		Cert:         dns("subprotocol-other.wsslab.test"),
		Server:       harness.ServerOptions{ForceSubprotocol: "chat.v1"},
		Subprotocols: []string{"chat.v2"},
		Want: Want{
			Browser: harness.HandshakeInvalid, Verifying: harness.Connected, Lax: harness.Connected,
			Reasons: Reasons{
				chrome:                 "'Sec-WebSocket-Protocol' header value 'chat.v1' in response does not match any of sent values",
				harness.FirefoxReasons: "HTTP 101 refused",
			},
		},
	},
	{
		ID:          "revoked",
		Description: "the certificate is revoked: the CA's OCSP responder, named in the leaf's AIA extension, answers \"revoked\"",
		Kind:        BrowsersDiffer,
		Lesson:      "A browser must check the certificate is \"not revoked\", and here the browsers differ. Firefox asks the OCSP responder during the handshake and refuses: SEC_ERROR_REVOKED_CERTIFICATE. Chrome never asks (the responder saw no request from it): for ordinary certificates it checks revocation only against lists it downloads (CRLSets), which know nothing of this CA, so it connects. Go's crypto/tls never checks revocation. A revoked certificate keeps working in Chrome, Postman and your Go tests, and fails in Firefox.",
		Fix:         "Replace a revoked certificate at once (certbot certonly --force-renewal, or your CA's reissue) and reload the server: the CA revoked it because its key must no longer be trusted.",
		Host:        "revoked.wsslab.test",
		Cert:        dns("revoked.wsslab.test"),
		Revocation:  harness.OCSPRevoked,
		Want:        everyoneConnects,
	},
	{
		ID:          "ocsp-must-staple",
		Description: "the certificate demands a stapled OCSP answer (TLS Feature status_request, \"must-staple\"); the server staples nothing",
		Kind:        BrowsersDiffer,
		Lesson:      "RFC 7633: a certificate with the must-staple extension is only valid with a stapled OCSP response. Firefox enforces it and refuses: MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING, even though the CA's responder would have said good. Chrome ignores the extension and connects, as do Go clients. A certificate ordered with --must-staple breaks only in Firefox, and only until the server staples.",
		Fix:         "Turn on OCSP stapling (nginx: ssl_stapling on; ssl_stapling_verify on; with a resolver), or reorder the certificate without --must-staple.",
		Host:        "must-staple.wsslab.test",
		Cert:        with(dns("must-staple.wsslab.test"), certs.MustStaple),
		Revocation:  harness.OCSPGood,
		Want:        everyoneConnects,
	},
}
