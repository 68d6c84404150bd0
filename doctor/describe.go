package doctor

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/wsslab/wsslab/certs"
)

// WarnDays is how close to expiry a certificate draws a warning, unless
// ChainInput says otherwise.
const WarnDays = 21

func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "\"" + clip(c.Subject.CommonName) + "\""
	}
	return "\"" + name(c.Subject.String()) + "\""
}

func role(i, n int, anchored bool) string {
	switch {
	case i == 0:
		return "the server's certificate"
	case i == n-1 && anchored:
		return "the root"
	}
	return "the intermediate"
}

// describe turns the chosen path's problems into findings with fixes.
func describe(r *ChainResult, best path, errs []pathErr, in ChainInput, f *findings) {
	n := len(best.certs)
	leaf := best.certs[0]
	for _, e := range errs {
		c := best.certs[e.idx]
		who := role(e.idx, n, best.anchored) + " " + certName(c)
		switch e.check {
		case "untrusted":
			describeUntrusted(best, in, f)
		case "chain-loop":
			f.add(Error, "chain-loop", fmt.Sprintf("no path to a trusted root within Chrome-like limits (%d certificates sent; loops or too many candidates)", len(in.Served)), "Send only the leaf and its intermediates, in order (fullchain.pem).")
		case "sha1-signature":
			f.add(Error, "sha1-signature", fmt.Sprintf("%s is signed with %s; Chrome rejects SHA-1 (and any algorithm but RSA/ECDSA with SHA-256/384/512) everywhere except a root's own self-signature", who, c.SignatureAlgorithm), "Re-issue it signed with SHA-256 (openssl ... -sha256; every current CA does this by default).")
		case "signature-invalid":
			f.add(Error, "signature-invalid", fmt.Sprintf("%s's signature does not verify with its issuer's key", who), "The chain file mixes certificates from different issuances: rebuild fullchain.pem from the files your CA gave you.")
		case "expired":
			f.add(Error, "expired", fmt.Sprintf("%s expired on %s (%s ago)", who, c.NotAfter.UTC().Format(time.RFC3339), ago(in.Now.Sub(c.NotAfter))), "Renew it (certbot renew), install the new files and reload the server; automate renewal.")
		case "not-yet-valid":
			f.add(Error, "not-yet-valid", fmt.Sprintf("%s is not valid until %s (in %s)", who, c.NotBefore.UTC().Format(time.RFC3339), ago(c.NotBefore.Sub(in.Now))), "Check the clock of the machine that issued it (and of this one); re-issue with a start date in the past.")
		case "weak-key":
			f.add(Error, "weak-key", fmt.Sprintf("%s has a %s key, which Chrome does not accept", who, certs.Describe(c).Key), "Re-issue with an ECDSA P-256 or RSA 2048+ key.")
		case "name-constraints":
			f.add(Error, "name-constraints", "name constraints violated: "+e.msg, "Get the certificate from a CA allowed to issue for this name, or fix the CA's constraints.")
		case "critical-extension":
			f.add(Error, "critical-extension", fmt.Sprintf("%s has a critical extension Chrome does not understand (%s)", who, e.msg), "Re-issue it without that extension, or mark it non-critical.")
		case "intermediate-not-ca":
			f.add(Error, "basic-constraints", fmt.Sprintf("%s signs other certificates but is not a CA (basicConstraints CA:TRUE missing)", who), "Re-issue the intermediate with basicConstraints=critical,CA:TRUE.")
		case "root-not-ca":
			msg := fmt.Sprintf("the trusted root %s is not a CA (basicConstraints CA:TRUE missing)", certName(c))
			if n == 1 {
				msg = fmt.Sprintf("the server's own certificate %s is trusted directly as a root, but it is not a CA certificate (basicConstraints CA:TRUE missing); Chrome refuses such a trust anchor", certName(c))
			}
			f.add(Error, "basic-constraints", msg, "Use a local CA instead (mkcert -install; mkcert HOST), or re-create the self-signed certificate with -addext basicConstraints=critical,CA:TRUE.")
		case "ca-key-usage":
			f.add(Error, "key-usage", fmt.Sprintf("%s is a CA whose keyUsage lacks keyCertSign", who), "Re-issue the CA certificate with keyUsage keyCertSign.")
		case "no-server-auth":
			if e.idx == 0 {
				f.add(Error, "no-server-auth", fmt.Sprintf("%s's extended key usage is %s, without serverAuth: it is a client certificate, not a server certificate", who, ekuString(c)), "Re-issue it with extendedKeyUsage=serverAuth (or without the extension).")
			} else {
				f.add(Error, "no-server-auth", fmt.Sprintf("%s restricts its extended key usage to %s, without serverAuth, so nothing below it can serve TLS", who, ekuString(c)), "Use a CA (and intermediate) allowed to issue server certificates.")
			}
		case "path-length":
			f.add(Error, "path-length", fmt.Sprintf("%s allows at most %d CA(s) below it, and this chain has more", who, c.MaxPathLen), "Issue the leaf from the intermediate directly, or re-issue the CA without that pathlen.")
		}
	}
	for _, e := range errs {
		if e.hidden {
			f.add(Info, "hidden-by-earlier-error", "Chrome stopped checking below a bad signature: the problems listed after it would surface once it is fixed", "")
			break
		}
	}
	describeName(r, leaf, in, f)
	if best.anchored {
		describeTrusted(r, best, in, f)
	}
	describeServedOrder(best, in, f)
	warnDays := WarnDays
	if in.WarnDays > 0 {
		warnDays = in.WarnDays
	}
	if !validAt(leaf, in.Now) {
		return
	}
	if left := leaf.NotAfter.Sub(in.Now); left < time.Duration(warnDays)*24*time.Hour {
		f.add(Warn, "expires-soon", fmt.Sprintf("the server's certificate expires in %s (%s)", ago(left), leaf.NotAfter.UTC().Format(time.RFC3339)), "Renew now and automate renewal (certbot renew from a timer), then reload the server.")
	}
}

func describeUntrusted(best path, in ChainInput, f *findings) {
	n := len(best.certs)
	last := best.certs[n-1]
	// Self-signed: its own key made its signature. CheckSignatureFrom would
	// also demand CA:TRUE, which most self-signed server certificates lack
	// (so they were taken for a leaf whose issuer is missing).
	selfIssued := bytes.Equal(last.RawSubject, last.RawIssuer) &&
		(!acceptableSigAlg(last.SignatureAlgorithm) || last.CheckSignature(last.SignatureAlgorithm, last.RawTBSCertificate, last.Signature) == nil)
	if who := namedIssuerPresent(last, in); who != "" && !selfIssued {
		// The issuer is there by name, but its key did not sign: not a
		// missing certificate, a broken or mismatched one.
		f.add(Error, "signature-invalid", fmt.Sprintf("%s names %q as its issuer, and %s has that name, but its key did not make the signature: the certificate is corrupted, or it and its issuer come from different issuances", certName(last), name(last.Issuer.String()), who),
			"Re-download the certificate and chain from your CA (certbot: the live/ files) and serve them unmodified.")
		return
	}
	switch {
	case n == 1 && selfIssued:
		f.add(Error, "self-signed", fmt.Sprintf("the server's certificate %s is self-signed: no CA the browser trusts vouches for it", certName(last)),
			"Use a CA-issued certificate (Let's Encrypt: certbot certonly -d HOST). For development: mkcert -install && mkcert HOST. If it is meant to be trusted as a private root, re-check with it trusted.")
		f.recheck(RecheckCA)
	case selfIssued:
		f.add(Error, "untrusted-root", fmt.Sprintf("the chain ends at the root %s, which the browser does not trust (not a public CA, not in this trust store)", certName(last)),
			"Use a publicly trusted CA, or install that root on every client (company CA); re-check with that root trusted.")
		f.recheck(RecheckCA)
	case n > 1 && last.BasicConstraintsValid && last.IsCA:
		// The server sent its intermediate(s); what is missing is the
		// issuer above them, usually a root (servers need not send it).
		// Advising "serve fullchain.pem" would be wrong when it already does.
		f.add(Error, "issuer-unknown", fmt.Sprintf("the chain the server sends ends at the CA %s, issued by %q, which the browser does not have: a private root not installed here (a company CA, or a test root), or another intermediate the server should send", certName(last), name(last.Issuer.String())),
			"If it is your own root, install it on every client (company CA) and re-check with it trusted. If it is an intermediate, add it to the chain file after the others.")
		f.recheck(RecheckCA)
	default:
		msg := fmt.Sprintf("the chain is incomplete: %s was issued by %q, which the server did not send and the browser does not have", certName(last), name(last.Issuer.String()))
		if len(last.IssuingCertificateURL) > 0 {
			msg += fmt.Sprintf("; Chrome tried the certificate's caIssuers URL (%s) without success", clip(last.IssuingCertificateURL[0]))
		}
		if n == 1 && len(in.Served) == 1 {
			msg += " (the server sends only its own certificate: cert.pem instead of fullchain.pem)"
		}
		f.add(Error, "missing-intermediate", msg,
			"Serve the full chain: leaf + intermediates (fullchain.pem, not cert.pem). nginx: ssl_certificate /etc/letsencrypt/live/HOST/fullchain.pem; Python ssl: load_cert_chain('fullchain.pem', 'privkey.pem').")
	}
}

// namedIssuerPresent says which certificate by c's issuer name is at hand
// (c itself, one the server sent, a trusted root), or "".
func namedIssuerPresent(c *x509.Certificate, in ChainInput) string {
	if bytes.Equal(c.RawSubject, c.RawIssuer) {
		return "the certificate itself"
	}
	for _, der := range in.Served[:min(len(in.Served), maxServed)] {
		if s, err := parseCertificate(der); err == nil && bytes.Equal(s.RawSubject, c.RawIssuer) {
			return "a certificate the server sent"
		}
	}
	if len(in.Trust.bySubject[string(c.RawIssuer)]) > 0 {
		return "a trusted root"
	}
	return ""
}

func describeName(r *ChainResult, leaf *x509.Certificate, in ChainInput, f *findings) {
	m := r.Name
	if !m.OK {
		fix := "Get a certificate whose subjectAltName lists exactly the host in the URL (certbot -d " + in.Host + "), or connect by a name the certificate has."
		switch {
		case m.CNOnly && !isIP(in.Host):
			fix = "Re-issue with the name in the subjectAltName: openssl req ... -addext \"subjectAltName=DNS:" + in.Host + "\" (certbot and mkcert always do)."
		case m.Defect == "ip-san-connect-by-name":
			fix = "Connect by the IP address the certificate lists, or re-issue it with DNS:" + in.Host + " in the subjectAltName."
		case isIP(in.Host):
			fix = "Connect by a DNS name that the certificate lists (wss://ws.example.com), not by IP: public CAs rarely issue IP certificates. If you must use the IP, put it in the SAN as IP:" + in.Host + "."
		}
		f.add(Error, m.Defect, m.Why, fix)
		return
	}
	if isIP(in.Host) {
		f.add(Info, "ip-host", "the URL uses the IP address "+in.Host+"; it is in the certificate's SAN so Chrome accepts it, but public CAs rarely issue such certificates", "Prefer a DNS name pointing at the server.")
	}
}

func describeTrusted(r *ChainResult, best path, in ChainInput, f *findings) {
	n := len(best.certs)
	leaf := best.certs[0]
	if best.aia {
		f.add(Warn, "missing-intermediate", fmt.Sprintf("the server does not send the intermediate %q: Chrome fetches it from the caIssuers URL in the certificate and connects, but curl, Go, Python, Node, Android apps and Postman with verification on fail", name(leaf.Issuer.String())),
			"Serve the full chain (fullchain.pem, not cert.pem).")
	}
	if r.KnownRoot {
		for _, c := range best.certs[:n-1] {
			if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
				f.add(Error, "weak-key", fmt.Sprintf("%s has an RSA %d key; Chrome requires 2048 bits from publicly trusted CAs", certName(c), k.N.BitLen()), "Re-issue with an ECDSA P-256 or RSA 2048+ key.")
			}
		}
		if r.Status&StatusValidityTooLong != 0 {
			f.add(Error, "long-validity", fmt.Sprintf("the certificate is valid for %d days; Chrome rejects publicly trusted certificates valid for more than 398", int(leaf.NotAfter.Sub(leaf.NotBefore).Hours()/24)), "Re-issue it (Let's Encrypt issues 90-day certificates) and automate renewal.")
		}
		return
	}
	root := best.certs[n-1]
	f.add(Info, "private-root", fmt.Sprintf("the chain ends at the private root %s (trusted privately, not a public CA): only browsers that have it installed will connect", certName(root)), "Fine for a company CA pushed to every client, or for development (mkcert); public users need a public CA.")
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 398*24*time.Hour {
		f.add(Info, "long-validity", fmt.Sprintf("the certificate is valid for %d days; Chrome accepts that from a private root, but rejects more than 398 days from a public CA", int(d.Hours()/24)), "")
	}
	for _, c := range best.certs[:n-1] {
		if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
			f.add(Warn, "weak-key", fmt.Sprintf("%s has an RSA %d key: Chrome accepts it from a private root, but public CAs, OpenSSL's default security level and many clients refuse keys under 2048 bits", certName(c), k.N.BitLen()), "Re-issue with an ECDSA P-256 or RSA 2048+ key.")
		}
	}
	if leaf.BasicConstraintsValid && leaf.IsCA && n > 1 {
		f.add(Info, "basic-constraints", "the server's certificate is itself a CA (CA:TRUE); Chrome accepts that, but a server certificate should not be one", "Issue server certificates with basicConstraints CA:FALSE.")
	}
}

// describeServedOrder explains what the server sent beyond what the path
// needs: wrong order, unrelated certificates, the root itself.
func describeServedOrder(best path, in ChainInput, f *findings) {
	if len(in.Served) < 2 {
		return
	}
	var sent []*x509.Certificate
	for _, der := range in.Served[1:min(len(in.Served), maxServed)] {
		if c, err := parseCertificate(der); err == nil {
			sent = append(sent, c)
		}
	}
	inPathIdx := map[string]int{}
	for i, c := range best.certs {
		inPathIdx[string(c.Raw)] = i
	}
	last := 0
	ordered := true
	for _, c := range sent {
		i, ok := inPathIdx[string(c.Raw)]
		if !ok {
			f.add(Warn, "chain-extra", fmt.Sprintf("the server sends %s, which is not part of the path to the root", certName(c)), "Send only the leaf and its own intermediates (fullchain.pem).")
			continue
		}
		if i < last {
			ordered = false
		}
		last = i
		if bytes.Equal(c.RawSubject, c.RawIssuer) && i == len(best.certs)-1 && best.anchored {
			f.add(Info, "chain-root-sent", fmt.Sprintf("the server also sends the root %s; harmless (clients use their own copy) but wasted bytes", certName(c)), "")
		}
	}
	if !ordered {
		f.add(Warn, "chain-order", "the server sends its intermediates out of order; Chrome reorders them, some older clients do not", "Order the chain file leaf first, then each issuer (fullchain.pem is already in order).")
	}
}

func ekuString(c *x509.Certificate) string {
	names := map[x509.ExtKeyUsage]string{x509.ExtKeyUsageClientAuth: "clientAuth", x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection", x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning", x509.ExtKeyUsageAny: "any"}
	var out []string
	for _, u := range c.ExtKeyUsage {
		if s, ok := names[u]; ok {
			out = append(out, s)
		} else {
			out = append(out, fmt.Sprint(int(u)))
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		out = append(out, o.String())
	}
	return strings.Join(out, ", ")
}

func ago(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}
