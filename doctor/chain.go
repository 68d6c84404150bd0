package doctor

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wsslab/wsslab/certs"
)

// Anchor is a trusted root.
type Anchor struct {
	Cert *x509.Certificate
	// Known: publicly trusted (shipped with the system / browser), as
	// opposed to a private root added with --ca. Chrome applies some rules
	// (398-day validity, 2048-bit RSA) to publicly trusted chains only.
	Known bool
}

// Trust is the set of roots a browser trusts.
type Trust struct {
	bySubject map[string][]Anchor
	byRaw     map[string]Anchor
	// Private counts the --ca roots.
	Private, Known int
}

// NewTrust builds a trust store from publicly trusted roots (system) and
// private roots (--ca).
func NewTrust(system, private []*x509.Certificate) *Trust {
	t := &Trust{bySubject: map[string][]Anchor{}, byRaw: map[string]Anchor{}}
	add := func(c *x509.Certificate, known bool) {
		if c == nil {
			return
		}
		if _, dup := t.byRaw[string(c.Raw)]; dup {
			return
		}
		a := Anchor{Cert: c, Known: known}
		t.byRaw[string(c.Raw)] = a
		t.bySubject[string(c.RawSubject)] = append(t.bySubject[string(c.RawSubject)], a)
		if known {
			t.Known++
		} else {
			t.Private++
		}
	}
	for _, c := range private {
		add(c, false)
	}
	for _, c := range system {
		add(c, true)
	}
	return t
}

// ChainInput is what chain analysis needs; nothing here touches the network
// except FetchAIA.
type ChainInput struct {
	// Host is the canonical host from the URL.
	Host string
	// Served is the certificate list the server sent, in order, as DER.
	Served [][]byte
	Trust  *Trust
	Now    time.Time
	// FetchAIA fetches a caIssuers URL (Chrome does, for a missing
	// intermediate). nil: never fetch.
	FetchAIA func(url string) ([]byte, error)
	// WarnDays: warn when the leaf expires within this many days (0:
	// WarnDays).
	WarnDays int
}

// CertInfo describes one certificate as served, for people and JSON: the
// fields certs.Describe reads (the same the scenario reports show), plus
// where it sits in what the server sent.
type CertInfo struct {
	certs.CertInfo
	SHA256 string `json:"sha256"`
	// Position: "leaf", "intermediate", "root", "unrelated", "unparseable".
	Position string `json:"role,omitempty"`
	Error    string `json:"error,omitempty"`
}

// ChainResult is chain analysis' answer.
type ChainResult struct {
	Served []CertInfo `json:"served"`
	// Path is the path Chrome would build, leaf first, ending at a trusted
	// root when Anchored.
	Path     []CertInfo `json:"path"`
	Anchored bool       `json:"anchored"`
	// KnownRoot: the path ends at a publicly trusted root.
	KnownRoot bool `json:"known_root"`
	// FetchedAIA: the path needed an intermediate fetched from the leaf's
	// caIssuers URL (Chrome does this; most other clients do not).
	FetchedAIA bool       `json:"fetched_aia,omitempty"`
	Status     CertStatus `json:"-"`
	// NetError is Chrome's error for this chain and host, "" if it is fine.
	NetError string    `json:"net_error,omitempty"`
	Name     NameMatch `json:"-"`
	Findings []Finding `json:"-"`
	leaf     *x509.Certificate
}

// Leaf returns the parsed first certificate, or nil.
func (r *ChainResult) Leaf() *x509.Certificate { return r.leaf }

// Limits against hostile chains: Chrome's path builder has an iteration
// limit too (kIterationLimitExceeded, an authority error).
const (
	maxServed     = 64
	maxDepth      = 16
	maxIterations = 2000
	maxAIAFetches = 4
)

// AnalyzeChain models Chrome's certificate verifier (the "builtin" verifier:
// BoringSSL's path builder plus net/cert/cert_verify_proc.cc) on the chain a
// server sent.
func AnalyzeChain(in ChainInput) *ChainResult {
	r := &ChainResult{}
	var f findings
	if in.Trust == nil {
		in.Trust = NewTrust(nil, nil)
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	if len(in.Served) == 0 {
		r.Status = StatusInvalid
		r.NetError = r.Status.NetError()
		f.add(Error, "chain-empty", "the server sent no certificate", "Configure the server with its certificate chain (fullchain.pem) and key.")
		r.Findings = f
		return r
	}
	served := in.Served
	if len(served) > maxServed {
		f.add(Warn, "chain-too-long", fmt.Sprintf("the server sent %d certificates; only the first %d were examined", len(served), maxServed), "Send only the leaf and its intermediates.")
		served = served[:maxServed]
	}
	var parsed []*x509.Certificate
	for i, der := range served {
		c, err := parseCertificate(der)
		if err != nil {
			r.Served = append(r.Served, CertInfo{Position: "unparseable", Error: clip(err.Error()), SHA256: fingerprint(der)})
			if i == 0 {
				r.Status = StatusInvalid
				r.NetError = r.Status.NetError()
				f.add(Error, "cert-malformed", "the server's certificate cannot be parsed: "+clip(err.Error()), "Re-issue the certificate; check the PEM/DER file the server loads.")
				r.Findings = f
				return r
			}
			f.add(Warn, "cert-malformed", fmt.Sprintf("certificate #%d the server sent cannot be parsed (%s); browsers ignore it", i, clip(err.Error())), "Remove it from the chain file.")
			continue
		}
		parsed = append(parsed, c)
		r.Served = append(r.Served, info(c))
	}
	leaf := parsed[0]
	r.leaf = leaf
	b := &builder{in: in, served: parsed[1:], fetched: map[string]*x509.Certificate{}}
	b.build([]*x509.Certificate{leaf})
	best := b.best()
	r.Anchored, r.FetchedAIA = best.anchored, best.aia
	for _, c := range best.certs {
		r.Path = append(r.Path, info(c))
	}
	if best.anchored {
		r.KnownRoot = in.Trust.byRaw[string(best.certs[len(best.certs)-1].Raw)].Known
	}
	errs := evaluate(best, in, b.limited)
	var unmapped bool
	for _, e := range errs {
		if e.hidden {
			continue
		}
		if e.bit == 0 {
			unmapped = true
		}
		r.Status |= e.bit
	}
	// cert_verify_proc_builtin.cc: a path error with no specific status
	// becomes CERT_STATUS_INVALID, but only when no specific one was set.
	if unmapped && r.Status == 0 {
		r.Status |= StatusInvalid
	}
	r.Name = MatchHost(in.Host, leaf)
	if !r.Name.OK {
		r.Status |= StatusCommonNameInvalid
	}
	if best.anchored {
		r.Status |= postPathChecks(best.certs, r.KnownRoot, &f)
	}
	r.NetError = r.Status.NetError()
	describe(r, best, errs, in, &f)
	r.Findings = f
	markRoles(r, best, parsed)
	return r
}

type path struct {
	certs    []*x509.Certificate
	anchored bool
	aia      bool
}

type builder struct {
	in         ChainInput
	served     []*x509.Certificate
	fetched    map[string]*x509.Certificate
	fetches    int
	iterations int
	limited    bool
	paths      []path
}

func (b *builder) build(p []*x509.Certificate) { b.extend(p, false) }

func (b *builder) extend(p []*x509.Certificate, aia bool) {
	b.iterations++
	if b.iterations > maxIterations || len(b.paths) > 64 {
		b.limited = true
		return
	}
	cur := p[len(p)-1]
	if _, ok := b.in.Trust.byRaw[string(cur.Raw)]; ok {
		b.paths = append(b.paths, path{certs: clone(p), anchored: true, aia: aia})
		return
	}
	if len(p) >= maxDepth {
		b.limited = true
		b.paths = append(b.paths, path{certs: clone(p), aia: aia})
		return
	}
	found := false
	for _, a := range b.in.Trust.bySubject[string(cur.RawIssuer)] {
		if issuedBy(cur, a.Cert) && !inPath(p, a.Cert) {
			found = true
			b.paths = append(b.paths, path{certs: append(clone(p), a.Cert), anchored: true, aia: aia})
		}
	}
	for _, c := range b.served {
		if bytes.Equal(c.RawSubject, cur.RawIssuer) && !inPath(p, c) && issuedBy(cur, c) {
			found = true
			b.extend(append(clone(p), c), aia)
		}
	}
	if !found && b.in.FetchAIA != nil {
		for _, u := range cur.IssuingCertificateURL {
			c := b.fetch(u)
			if c != nil && bytes.Equal(c.RawSubject, cur.RawIssuer) && !inPath(p, c) && issuedBy(cur, c) {
				found = true
				b.extend(append(clone(p), c), true)
			}
		}
	}
	if !found {
		b.paths = append(b.paths, path{certs: clone(p), aia: aia})
	}
}

func (b *builder) fetch(u string) *x509.Certificate {
	if c, ok := b.fetched[u]; ok {
		return c
	}
	b.fetched[u] = nil
	if b.fetches >= maxAIAFetches || !strings.HasPrefix(strings.ToLower(u), "http://") {
		return nil
	}
	b.fetches++
	der, err := b.in.FetchAIA(u)
	if err != nil {
		return nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	b.fetched[u] = c
	return c
}

// best is the path Chrome reports on: the first one without errors, else
// the first that reaches a trusted root, else the longest partial one.
func (b *builder) best() path {
	var firstAnchored, longest *path
	for i := range b.paths {
		p := &b.paths[i]
		if p.anchored {
			if len(evaluate(*p, b.in, false)) == 0 {
				return *p
			}
			if firstAnchored == nil {
				firstAnchored = p
			}
		} else if longest == nil || len(p.certs) > len(longest.certs) {
			longest = p
		}
	}
	if firstAnchored != nil {
		return *firstAnchored
	}
	if longest != nil {
		return *longest
	}
	return path{}
}

func clone(p []*x509.Certificate) []*x509.Certificate {
	return append([]*x509.Certificate(nil), p...)
}

func inPath(p []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range p {
		if bytes.Equal(x.RawSubject, c.RawSubject) && bytes.Equal(x.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
			return true
		}
	}
	return false
}

// issuedBy: subject/issuer names chain and parent's key made child's
// signature. A signature Go will not check (SHA-1, ...) counts as a link
// when the names chain: Chrome then rejects the algorithm itself.
func issuedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if !acceptableSigAlg(child.SignatureAlgorithm) {
		return true
	}
	return parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
}

// acceptableSigAlg is Chrome's list: RSA PKCS#1 and PSS, ECDSA, with
// SHA-256/384/512. SHA-1 and MD5 are rejected anywhere but in a root's
// self-signature (which is never checked).
func acceptableSigAlg(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return true
	}
	return false
}

// pathErr is one problem found on a path. bit is the Chrome status it maps
// to, 0 for the problems Chrome folds into CERT_STATUS_INVALID. hidden: a
// real problem that Chrome does not look at because an earlier signature
// error stopped its checks.
type pathErr struct {
	bit    CertStatus
	idx    int
	check  string
	msg    string
	fix    string
	hidden bool
}

// evaluate checks a path the way BoringSSL's VerifyCertificateChain does:
// from the root down, each certificate's signature first (an unacceptable
// or bad signature stops the checks below it), then its dates, name
// constraints, CA bits and path length, then the leaf's key usage.
func evaluate(p path, in ChainInput, limited bool) []pathErr {
	var errs []pathErr
	n := len(p.certs)
	if n == 0 {
		return []pathErr{{bit: StatusInvalid, check: "chain-empty", msg: "no certificate"}}
	}
	add := func(e pathErr) { errs = append(errs, e) }
	stopped := false
	addc := func(e pathErr) {
		e.hidden = stopped
		add(e)
	}
	if !p.anchored {
		e := pathErr{bit: StatusAuthorityInvalid, idx: n - 1, check: "untrusted"}
		if limited {
			e.check = "chain-loop"
		}
		add(e)
	}
	top := n - 1
	if p.anchored {
		a := p.certs[n-1]
		anchor := in.Trust.byRaw[string(a.Raw)]
		if !validAt(a, in.Now) {
			addc(pathErr{bit: StatusDateInvalid, idx: n - 1, check: dateCheck(a, in.Now)})
		}
		if !anchor.Known {
			// Chrome enforces a locally trusted root's own constraints.
			if a.Version == 3 && (!a.BasicConstraintsValid || !a.IsCA) {
				addc(pathErr{idx: n - 1, check: "root-not-ca"})
			}
			if !ekuAllowsServer(a) {
				addc(pathErr{idx: n - 1, check: "no-server-auth"})
			}
			if n > 1 && a.KeyUsage != 0 && a.KeyUsage&x509.KeyUsageCertSign == 0 {
				addc(pathErr{idx: n - 1, check: "ca-key-usage"})
			}
		}
		top = n - 2
	}
	for i := top; i >= 0; i-- {
		c := p.certs[i]
		if i+1 < n {
			parent := p.certs[i+1]
			if !acceptableSigAlg(c.SignatureAlgorithm) {
				// Its own status, not the fallback for unmapped errors:
				// measured, SHA-1 anywhere on the path gives
				// ERR_CERT_INVALID even beside a date or authority error
				// (an unmapped error such as a clientAuth EKU does not).
				addc(pathErr{bit: StatusInvalid, idx: i, check: "sha1-signature"})
				stopped = true
			} else if parent.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) != nil {
				addc(pathErr{bit: StatusAuthorityInvalid, idx: i, check: "signature-invalid"})
				stopped = true
			}
		}
		if !validAt(c, in.Now) {
			addc(pathErr{bit: StatusDateInvalid, idx: i, check: dateCheck(c, in.Now)})
		}
		if !acceptableKey(c) {
			// The path builder refuses the key; Chrome's weak-key status
			// comes only from its check of RSA sizes (measured: an Ed25519
			// leaf is ERR_CERT_INVALID alone, and loses to a date error).
			bit := CertStatus(0)
			if _, ok := c.PublicKey.(*rsa.PublicKey); ok {
				bit = StatusWeakKey
			}
			addc(pathErr{bit: bit, idx: i, check: "weak-key"})
		}
		for j := i + 1; j < n; j++ {
			if msg := violatesNameConstraints(c, p.certs[j]); msg != "" {
				addc(pathErr{idx: i, check: "name-constraints", msg: msg})
			}
		}
		if len(c.UnhandledCriticalExtensions) > 0 {
			addc(pathErr{idx: i, check: "critical-extension", msg: fmt.Sprint(c.UnhandledCriticalExtensions)})
		}
		if i > 0 {
			if !c.BasicConstraintsValid || !c.IsCA {
				addc(pathErr{idx: i, check: "intermediate-not-ca"})
			}
			if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
				addc(pathErr{idx: i, check: "ca-key-usage"})
			}
		}
		if !ekuAllowsServer(c) {
			addc(pathErr{idx: i, check: "no-server-auth"})
		}
	}
	// Path length: a CA's pathLenConstraint bounds the CAs below it.
	for j := n - 1; j >= 1; j-- {
		c := p.certs[j]
		if !c.BasicConstraintsValid || (c.MaxPathLen < 0) || (c.MaxPathLen == 0 && !c.MaxPathLenZero) {
			continue
		}
		below := j - 1 // intermediates between c and the leaf
		if below > c.MaxPathLen {
			addc(pathErr{idx: j, check: "path-length"})
		}
	}
	return errs
}

// postPathChecks are cert_verify_proc.cc's checks on the verified chain.
func postPathChecks(chain []*x509.Certificate, known bool, f *findings) CertStatus {
	var s CertStatus
	for _, c := range chain[:len(chain)-1] {
		if k, ok := c.PublicKey.(*rsa.PublicKey); ok && known && k.N.BitLen() < 2048 {
			s |= StatusWeakKey
		}
	}
	leaf := chain[0]
	if known && leaf.NotBefore.After(time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC)) && leaf.NotAfter.Sub(leaf.NotBefore) > 398*24*time.Hour {
		s |= StatusValidityTooLong
	}
	return s
}

func validAt(c *x509.Certificate, now time.Time) bool {
	return !now.Before(c.NotBefore) && !now.After(c.NotAfter)
}

func dateCheck(c *x509.Certificate, now time.Time) string {
	if now.Before(c.NotBefore) {
		return "not-yet-valid"
	}
	return "expired"
}

// acceptableKey: RSA of at least 1024 bits, ECDSA on P-256/384/521
// (BoringSSL's SimplePathBuilderDelegate, as Chrome configures it).
func acceptableKey(c *x509.Certificate) bool {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() >= 1024
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256() || k.Curve == elliptic.P384() || k.Curve == elliptic.P521()
	}
	return false
}

func ekuAllowsServer(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// violatesNameConstraints checks c's SAN entries against ca's DNS and IP
// name constraints (RFC 5280 4.2.1.10).
func violatesNameConstraints(c, ca *x509.Certificate) string {
	for _, d := range c.DNSNames {
		d = strings.TrimPrefix(strings.ToLower(d), "*.")
		for _, ex := range ca.ExcludedDNSDomains {
			if dnsWithin(d, ex) {
				return fmt.Sprintf("%s is excluded by %q's name constraints (%s)", d, ca.Subject.CommonName, ex)
			}
		}
		if len(ca.PermittedDNSDomains) > 0 {
			ok := false
			for _, pe := range ca.PermittedDNSDomains {
				ok = ok || dnsWithin(d, pe)
			}
			if !ok {
				return fmt.Sprintf("%s is outside the names %q may issue for (%s)", d, ca.Subject.CommonName, strings.Join(ca.PermittedDNSDomains, ", "))
			}
		}
	}
	for _, ip := range c.IPAddresses {
		for _, ex := range ca.ExcludedIPRanges {
			if ex.Contains(ip) {
				return fmt.Sprintf("IP %s is excluded by %q's name constraints", ip, ca.Subject.CommonName)
			}
		}
		if len(ca.PermittedIPRanges) > 0 {
			ok := false
			for _, r := range ca.PermittedIPRanges {
				ok = ok || r.Contains(ip)
			}
			if !ok {
				return fmt.Sprintf("IP %s is outside the addresses %q may issue for", ip, ca.Subject.CommonName)
			}
		}
	}
	return ""
}

func dnsWithin(name, constraint string) bool {
	constraint = strings.ToLower(constraint)
	if strings.HasPrefix(constraint, ".") {
		return strings.HasSuffix(name, constraint)
	}
	return name == constraint || strings.HasSuffix(name, "."+constraint)
}

func info(c *x509.Certificate) CertInfo {
	ci := CertInfo{CertInfo: certs.Describe(c), SHA256: fingerprint(c.Raw)}
	// What a hostile server sent is clipped before it reaches a terminal.
	ci.Subject, ci.Issuer = name(ci.Subject), name(ci.Issuer)
	ci.NotBefore, ci.NotAfter = ci.NotBefore.UTC(), ci.NotAfter.UTC()
	for i, san := range ci.SANs {
		ci.SANs[i] = clip(san)
	}
	return ci
}

func name(s string) string {
	if s == "" {
		return "(empty)"
	}
	return clip(s)
}

func fingerprint(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}

func markRoles(r *ChainResult, best path, parsed []*x509.Certificate) {
	inBest := map[string]bool{}
	for _, c := range best.certs {
		inBest[string(c.Raw)] = true
	}
	j := 0
	for i := range r.Served {
		if r.Served[i].Position == "unparseable" {
			continue
		}
		c := parsed[j]
		j++
		switch {
		case j == 1:
			r.Served[i].Position = "leaf"
		case !inBest[string(c.Raw)]:
			r.Served[i].Position = "unrelated"
		case bytes.Equal(c.RawSubject, c.RawIssuer):
			r.Served[i].Position = "root"
		default:
			r.Served[i].Position = "intermediate"
		}
	}
}

func isIP(h string) bool { return net.ParseIP(h) != nil }
