package doctor

import (
	"crypto/x509"
	"net"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// NameMatch is the result of checking the URL's host against a leaf, with
// Chrome's rules (net/cert/x509_certificate.cc VerifyHostname), measured
// against Chromium 156:
//
//   - only the subjectAltName counts; the Common Name is ignored entirely;
//   - an IP host matches only iPAddress entries (never a dNSName "1.2.3.4");
//   - names compare case-insensitively, trailing dots ignored;
//   - a wildcard is only a whole leftmost label "*.", matches exactly one
//     label, and never on a registry-controlled suffix (*.com, *.co.uk, and
//     *.test: unknown top-level names count as registries) — but private
//     registries (*.github.io) are allowed;
//   - a host with characters outside letters, digits, '-', '_' and '.'
//     matches nothing.
type NameMatch struct {
	OK bool
	// By is the SAN entry that matched.
	By string
	// CNOnly: no usable SAN, the host is only in the Common Name.
	CNOnly bool
	// Defect names the mismatch with the scenario table's ids: wrong-san,
	// ip-url-dns-cert, ip-in-cn-only, ip-san-connect-by-name,
	// cn-only-no-san, no-san, wildcard-too-deep, and wildcard-apex,
	// wildcard-public-suffix, wildcard-partial, host-chars for the cases
	// the table has no row for. "" when OK.
	Defect string
	// Why explains a mismatch in one sentence.
	Why string
}

// MatchHost checks host (canonical, see CanonicalHost) against leaf.
func MatchHost(host string, leaf *x509.Certificate) NameMatch {
	m := NameMatch{Defect: "wrong-san"}
	cn := strings.TrimSuffix(strings.ToLower(leaf.Subject.CommonName), ".")
	if ip := net.ParseIP(host); ip != nil {
		for _, san := range leaf.IPAddresses {
			if san.Equal(ip) {
				return NameMatch{OK: true, By: "IP:" + san.String()}
			}
		}
		for _, d := range leaf.DNSNames {
			if d == host {
				m.Defect = "ip-url-dns-cert"
				m.Why = "the certificate lists " + host + " as a DNS name, but an IP address only matches an IP SAN entry (IP:" + host + ")"
				return m
			}
		}
		m.CNOnly = cn == host && len(leaf.IPAddresses) == 0
		m.Why = "the URL's host is the IP address " + host + ", which is not among the certificate's IP SAN entries" + sanList(leaf)
		switch {
		case m.CNOnly:
			m.Defect = "ip-in-cn-only"
			m.Why = "the IP address " + host + " is only in the Common Name; Chrome ignores the Common Name"
		case len(leaf.IPAddresses) == 0 && len(leaf.DNSNames) > 0:
			// A name certificate dialed by IP.
			m.Defect = "ip-url-dns-cert"
		case len(leaf.IPAddresses) == 0:
			m.Defect = "no-san"
		}
		return m
	}
	if !validHostChars(host) {
		m.Defect = "host-chars"
		m.Why = "the host " + host + " has characters Chrome never matches against a certificate (only letters, digits, '-', '_' and '.')"
		return m
	}
	for _, d := range leaf.DNSNames {
		if ok, defect, why := matchDNS(host, d); ok {
			return NameMatch{OK: true, By: "DNS:" + d}
		} else if why != "" && m.Why == "" {
			m.Defect, m.Why = defect, why
		}
	}
	if len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 {
		if ok, _, _ := matchDNS(host, cn); ok && cn != "" {
			m.CNOnly = true
			m.Defect = "cn-only-no-san"
			m.Why = host + " is only in the Common Name and the certificate has no subjectAltName; Chrome ignores the Common Name (since Chrome 58)"
			return m
		}
		m.Defect = "no-san"
		m.Why = "the certificate has no subjectAltName at all; Chrome ignores the Common Name (" + cn + ")"
		return m
	}
	if len(leaf.DNSNames) == 0 {
		m.Defect = "ip-san-connect-by-name"
		m.Why = "the certificate names only IP addresses" + sanList(leaf) + ", and the URL's host " + host + " is a name: a name matches only a DNS SAN entry"
		return m
	}
	if m.Why == "" {
		m.Why = host + " is not among the certificate's names" + sanList(leaf)
	}
	return m
}

// matchDNS matches a host against one dNSName entry; defect and why are
// set when the entry is a wildcard that looks like it should match but
// does not.
func matchDNS(host, san string) (ok bool, defect, why string) {
	san = strings.TrimSuffix(strings.ToLower(san), ".")
	if san == host {
		return true, "", ""
	}
	if !strings.Contains(san, "*") {
		return false, "", ""
	}
	if !strings.HasPrefix(san, "*.") || strings.Contains(san[2:], "*") {
		if wildGlob(san, host) {
			return false, "wildcard-partial", "the certificate's name " + san + " is a partial or inner wildcard; Chrome only accepts a whole leftmost label (*.example.com)"
		}
		return false, "", ""
	}
	base := san[2:]
	label, rest, ok := strings.Cut(host, ".")
	if !ok || label == "" || rest != base {
		if strings.HasSuffix(host, "."+base) {
			return false, "wildcard-too-deep", "the wildcard " + san + " covers exactly one label: it does not match " + host + " (two or more labels deep)"
		}
		if host == base {
			return false, "wildcard-apex", "the wildcard " + san + " does not cover the bare domain " + base + "; add " + base + " as its own SAN entry"
		}
		return false, "", ""
	}
	if registryLen(base) >= len(base) {
		return false, "wildcard-public-suffix", "the wildcard " + san + " is on a public suffix (" + base + "); Chrome never accepts a wildcard for a registry-controlled domain"
	}
	return true, "", ""
}

// registryLen is the length of domain's registry-controlled suffix as
// Chrome counts it: ICANN suffixes and unknown top-level names count,
// private registries (github.io, ...) do not.
func registryLen(domain string) int {
	suffix, icann := publicsuffix.PublicSuffix(domain)
	if icann || !strings.Contains(suffix, ".") {
		return len(suffix)
	}
	labels := strings.Split(suffix, ".")
	for i := 1; i < len(labels); i++ {
		sub := strings.Join(labels[i:], ".")
		if s, ic := publicsuffix.PublicSuffix(sub); ic && s == sub {
			return len(sub)
		}
	}
	return len(labels[len(labels)-1])
}

func wildGlob(pattern, host string) bool {
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		pre, post, ok := strings.Cut(pl[i], "*")
		if !ok {
			if pl[i] != hl[i] {
				return false
			}
			continue
		}
		if !strings.HasPrefix(hl[i], pre) || !strings.HasSuffix(hl[i][len(pre):], post) {
			return false
		}
	}
	return true
}

func validHostChars(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func sanList(leaf *x509.Certificate) string {
	var names []string
	for _, d := range leaf.DNSNames {
		names = append(names, "DNS:"+d)
	}
	for _, ip := range leaf.IPAddresses {
		names = append(names, "IP:"+ip.String())
	}
	if len(names) == 0 {
		return ""
	}
	if len(names) > 6 {
		names = append(names[:6], "...")
	}
	return " (" + strings.Join(names, ", ") + ")"
}
