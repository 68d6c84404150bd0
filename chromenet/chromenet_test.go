package chromenet

import (
	"os/exec"
	"strings"
	"testing"
)

func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/wsslab/wsslab/chromenet" {
			t.Errorf("chromenet depends on %s; it must import only the standard library", p)
		}
	}
}

func TestNetErrorPrecedence(t *testing.T) {
	for _, c := range []struct {
		s    CertStatus
		want string
	}{
		{0, ""},
		{StatusDateInvalid | StatusCommonNameInvalid | StatusAuthorityInvalid, "net::ERR_CERT_AUTHORITY_INVALID"},
		{StatusDateInvalid | StatusCommonNameInvalid, "net::ERR_CERT_COMMON_NAME_INVALID"},
		{StatusInvalid | StatusCommonNameInvalid, "net::ERR_CERT_INVALID"},
		{StatusWeakKey | StatusDateInvalid, "net::ERR_CERT_WEAK_KEY"},
	} {
		if got := c.s.NetError(); got != c.want {
			t.Errorf("%b.NetError() = %q, want %q", c.s, got, c.want)
		}
	}
}

func TestClassifyNetError(t *testing.T) {
	for text, want := range map[string]Outcome{
		"Error in connection establishment: net::ERR_CERT_AUTHORITY_INVALID": CertUntrusted,
		"net::ERR_CERT_WEAK_KEY": CertInvalid,
		"net::ERR_UNSAFE_PORT":   Blocked,
		HTTPAuthFailed:           HandshakeRejected,
		"Error during WebSocket handshake: Sent non-empty 'Sec-WebSocket-Protocol' header but no response was received": HandshakeInvalid,
		"something else": Failed,
	} {
		if got := ClassifyNetError(text); got != want {
			t.Errorf("ClassifyNetError(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestRestrictedPort(t *testing.T) {
	for port, want := range map[int]bool{6000: true, 10080: true, 22: true, 443: false, 8443: false} {
		if got := RestrictedPort(port); got != want {
			t.Errorf("RestrictedPort(%d) = %v, want %v", port, got, want)
		}
	}
}
