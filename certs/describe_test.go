package certs

import (
	"net"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		req      Request
		role     string
		sans     string
		key      string
		valid    bool
		notSent  int
		servedCt int
	}{
		{"valid", Request{DNSNames: []string{"a.wsslab.test"}}, "leaf", "DNS:a.wsslab.test", "ECDSA P-256", true, 0, 2},
		{"self-signed", Request{DNSNames: []string{"a.wsslab.test"}, Defects: []Defect{SelfSigned}}, "self-signed leaf", "DNS:a.wsslab.test", "ECDSA P-256", true, 0, 1},
		{"missing intermediate", Request{DNSNames: []string{"a.wsslab.test"}, Defects: []Defect{MissingIntermediate}}, "leaf", "DNS:a.wsslab.test", "ECDSA P-256", true, 1, 1},
		{"expired", Request{DNSNames: []string{"a.wsslab.test"}, Defects: []Defect{Expired}}, "leaf", "DNS:a.wsslab.test", "ECDSA P-256", false, 0, 2},
		{"ip, no SAN", Request{CommonName: "127.0.0.1", Defects: []Defect{NoSAN}}, "leaf", "(none)", "ECDSA P-256", true, 0, 2},
		{"ip SAN, rsa", Request{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Key: "rsa-2048"}, "leaf", "IP:127.0.0.1", "RSA 2048", true, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := pki.Mint(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			i := Describe(l.Cert)
			if i.Role() != tc.role || i.SANList() != tc.sans || i.Key != tc.key || i.ValidAt(time.Now()) != tc.valid {
				t.Errorf("got role %q sans %q key %q valid %v", i.Role(), i.SANList(), i.Key, i.ValidAt(time.Now()))
			}
			if n := len(l.NotServed()); n != tc.notSent {
				t.Errorf("NotServed: %d, want %d", n, tc.notSent)
			}
			if len(l.Served) != tc.servedCt {
				t.Errorf("served %d", len(l.Served))
			}
		})
	}
	if r := Describe(pki.Root.Cert); r.Role() != "root" || !r.SelfSigned {
		t.Errorf("root: %+v", r)
	}
	if r := Describe(pki.Intermediate.Cert); r.Role() != "intermediate" {
		t.Errorf("intermediate: %+v", r)
	}
}
