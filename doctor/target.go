package doctor

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Target is a parsed doctor URL.
type Target struct {
	// URL is the canonical URL as the browser would dial it.
	URL string
	// Scheme is "wss", "https" or "ws".
	Scheme string
	// Host is the canonical host: lower-case, IDNA A-label, no brackets
	// around an IPv6 address, no trailing dot.
	Host string
	// IP is set when Host is an IP literal.
	IP   net.IP
	Port int
	// Path is the request target: path and query ("/" at least).
	Path string
}

// TLS reports whether the scheme runs over TLS.
func (t Target) TLS() bool { return t.Scheme != "ws" }

// HostPort is host:port as it goes in the Host header and in addresses.
func (t Target) HostPort() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// HostHeader is the Host header value: the port is left out when it is the
// scheme's default, as browsers do.
func (t Target) HostHeader() string {
	h := t.Host
	if t.IP != nil && t.IP.To4() == nil {
		h = "[" + h + "]"
	}
	if (t.TLS() && t.Port == 443) || (!t.TLS() && t.Port == 80) {
		return h
	}
	return h + ":" + strconv.Itoa(t.Port)
}

// ParseURL parses a wss://, https:// or ws:// URL the way a browser would
// canonicalize it. The error is one line, fit to show a user.
func ParseURL(raw string) (Target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Target{}, errors.New("no URL given (want wss://HOST[:PORT]/PATH)")
	}
	if len(raw) > 8192 {
		return Target{}, errors.New("URL longer than 8192 bytes")
	}
	if !strings.Contains(raw, "://") {
		return Target{}, fmt.Errorf("%q has no scheme (want wss://%s)", clip(raw), clip(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Target{}, fmt.Errorf("malformed URL %q: %w", clip(raw), err)
	}
	t := Target{Scheme: strings.ToLower(u.Scheme)}
	switch t.Scheme {
	case "wss", "https":
		t.Port = 443
	case "ws":
		t.Port = 80
	case "http":
		return Target{}, fmt.Errorf("%q is plain http: doctor examines wss://, https:// and ws:// URLs", clip(raw))
	default:
		return Target{}, fmt.Errorf("unsupported scheme %q (want wss, https or ws)", clip(u.Scheme))
	}
	if u.User != nil {
		return Target{}, fmt.Errorf("URL %q carries credentials (user@host); browsers do not send them on a WebSocket", clip(raw))
	}
	if u.Opaque != "" {
		return Target{}, fmt.Errorf("malformed URL %q: want %s://HOST/...", clip(raw), t.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return Target{}, fmt.Errorf("URL %q has no host", clip(raw))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("bad port %q in %q (want 1-65535)", clip(p), clip(raw))
		}
		t.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return Target{}, fmt.Errorf("empty port in %q", clip(raw))
	}
	h, ip, err := CanonicalHost(host)
	if err != nil {
		return Target{}, err
	}
	t.Host, t.IP = h, ip
	t.Path = u.EscapedPath()
	if t.Path == "" {
		t.Path = "/"
	}
	if u.RawQuery != "" {
		t.Path += "?" + u.RawQuery
	}
	t.URL = t.Scheme + "://" + t.HostHeader() + t.Path
	return t, nil
}

// CanonicalHost lower-cases a host, converts an internationalized name to
// its A-label (punycode) form as the browser's URL parser does, drops a
// trailing dot, and recognizes IP literals.
func CanonicalHost(host string) (string, net.IP, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip := net.ParseIP(h); ip != nil {
		if v4 := ip.To4(); v4 != nil && !strings.Contains(h, ":") {
			return v4.String(), v4, nil
		}
		if strings.Contains(h, "%") {
			return "", nil, fmt.Errorf("IPv6 zone in host %q is not supported", clip(host))
		}
		return ip.String(), ip, nil
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" {
		return "", nil, fmt.Errorf("empty host %q", clip(host))
	}
	if strings.ContainsAny(h, " \t\r\n/\\?#@%") {
		return "", nil, fmt.Errorf("invalid character in host %q", clip(host))
	}
	ascii, err := idna.Lookup.ToASCII(h)
	if err != nil {
		// idna.Lookup rejects '_' and other characters browsers accept in
		// hosts; keep the lower-cased host when it is plain ASCII.
		if !isASCII(h) {
			return "", nil, fmt.Errorf("invalid internationalized host %q: %v", clip(host), err)
		}
		ascii = h
	}
	return ascii, nil, nil
}

// Resolve is a curl-like --resolve HOST:PORT:ADDR override.
type Resolve struct {
	Host string
	Port int
	Addr string // IP address (no port)
}

// ParseResolve parses HOST:PORT:ADDR. ADDR may be an IPv6 address, with or
// without brackets.
func ParseResolve(s string) (Resolve, error) {
	host, rest, ok := strings.Cut(s, ":")
	if strings.HasPrefix(s, "[") {
		return Resolve{}, fmt.Errorf("%q: HOST must be a name, not a bracketed address", clip(s))
	}
	if !ok {
		return Resolve{}, fmt.Errorf("%q: want HOST:PORT:ADDR (e.g. ws.example.com:443:127.0.0.1)", clip(s))
	}
	port, addr, ok := strings.Cut(rest, ":")
	if !ok || host == "" || addr == "" {
		return Resolve{}, fmt.Errorf("%q: want HOST:PORT:ADDR (e.g. ws.example.com:443:127.0.0.1)", clip(s))
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return Resolve{}, fmt.Errorf("%q: bad port %q", clip(s), clip(port))
	}
	a := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	ip := net.ParseIP(a)
	if ip == nil {
		return Resolve{}, fmt.Errorf("%q: ADDR %q is not an IP address", clip(s), clip(addr))
	}
	h, _, err := CanonicalHost(host)
	if err != nil {
		return Resolve{}, fmt.Errorf("%q: %v", clip(s), err)
	}
	return Resolve{Host: h, Port: n, Addr: ip.String()}, nil
}

// DialAddr is the address to connect to for t, after resolve overrides.
func DialAddr(t Target, overrides []Resolve) string {
	for _, r := range overrides {
		if r.Host == t.Host && r.Port == t.Port {
			return net.JoinHostPort(r.Addr, strconv.Itoa(r.Port))
		}
	}
	return t.HostPort()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// clip keeps user input in messages to one readable line.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
