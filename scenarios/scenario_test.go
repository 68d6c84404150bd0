package scenarios

import (
	"errors"
	"net"
	"testing"

	"github.com/wsslab/wsslab/harness"
)

// Resolution never borrows another client's expectation: a row that says
// nothing for a client's class is an error, and so is a failing
// expectation without its reason (a browser column must never pass with an
// unchecked reason).
func TestWantFor(t *testing.T) {
	firefox := harness.ClientInfo{ID: "firefox", Class: harness.BrowserClass, Reasons: "nss"}
	node := harness.ClientInfo{ID: "node", Class: harness.VerifyingClass, Reasons: "node"}
	w := Want{
		Browser: harness.CertUntrusted, Verifying: harness.CertUntrusted, Lax: harness.Connected,
		Reasons: Reasons{chrome: "net::ERR_CERT_AUTHORITY_INVALID", goErr: "x509.UnknownAuthorityError"},
		Except:  map[string]Expect{"node": {Outcome: harness.Connected}},
	}
	for _, tc := range []struct {
		c    harness.ClientInfo
		want Expect
		err  bool
	}{
		{harness.ChromeInfo, Expect{harness.CertUntrusted, "net::ERR_CERT_AUTHORITY_INVALID"}, false},
		{harness.Strict(nil).Info(), Expect{harness.CertUntrusted, "x509.UnknownAuthorityError"}, false},
		{harness.Lax().Info(), Expect{Outcome: harness.Connected}, false},
		{node, Expect{Outcome: harness.Connected}, false},
		// A browser in another vocabulary: the row has no reason for it.
		{firefox, Expect{}, true},
		// A class the row says nothing about.
		{harness.ClientInfo{ID: "x", Class: "other"}, Expect{}, true},
	} {
		got, err := w.For(tc.c)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("For(%s) = %v, %v; want %v (error %v)", tc.c.ID, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrNoExpectation) {
			t.Errorf("For(%s): error %v does not wrap ErrNoExpectation", tc.c.ID, err)
		}
	}
	// Exceptions are checked like defaults.
	bad := Want{Except: map[string]Expect{"chrome": {Outcome: harness.CertUntrusted}}}
	if _, err := bad.For(harness.ChromeInfo); err == nil {
		t.Error("a failing exception without a reason resolved")
	}
	odd := Want{Browser: harness.Connected, Except: map[string]Expect{"chrome": {Outcome: harness.Connected, Reason: "x"}}}
	if _, err := odd.For(harness.ChromeInfo); err == nil {
		t.Error("a connecting exception with a reason resolved")
	}
}

// The login URL of a plain ws:// server is http://, of a wss:// one https://.
func TestLoginURL(t *testing.T) {
	for _, tc := range []struct {
		plain  bool
		scheme string
	}{{false, "https://"}, {true, "http://"}} {
		sc := Scenario{ID: "login", Host: "login.wsslab.test", Cert: dns("login.wsslab.test"),
			Server: harness.ServerOptions{Plain: tc.plain}, LoginPath: "/login", Query: "?token=x"}
		in, err := lab.Start(t.Context(), sc, "")
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		_, port, _ := net.SplitHostPort(in.Endpoint.Addr)
		if got, want := in.Target().Login, tc.scheme+"login.wsslab.test:"+port+"/login"; got != want {
			t.Errorf("plain=%v: login %q, want %q", tc.plain, got, want)
		}
	}
}
