package container

import (
	"context"
	"testing"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// BenchmarkStart is container start-up as a scenario pays for it: start
// wsslab's own server in a container (image already built), wait until it
// is READY, stop and remove it. BenchmarkImageBuild is the one-off cost per
// process. BenchmarkNginxStart is the proxy topology (network, backend and
// nginx containers).
func BenchmarkStart(b *testing.B) {
	be, spec := benchBackend(b)
	if _, err := be.ServerImage(context.Background()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ep, err := be.Start(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		ep.Close()
	}
}

func BenchmarkNginxStart(b *testing.B) {
	be, spec := benchBackend(b)
	nb := be.Nginx(Proxy{})
	for b.Loop() {
		ep, err := nb.Start(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		ep.Close()
	}
}

func BenchmarkImageBuild(b *testing.B) {
	for b.Loop() {
		be, _ := benchBackend(b)
		if _, err := be.ServerImage(context.Background()); err != nil {
			b.Fatal(err)
		}
		be.Close()
	}
}

func benchBackend(b *testing.B) (*Backend, harness.ServerSpec) {
	b.Helper()
	if err := Available(context.Background()); err != nil {
		b.Skip(err)
	}
	be, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Close() })
	pki, err := certs.NewPKI()
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := pki.Mint(certs.Request{DNSNames: []string{"bench.wsslab.test"}})
	if err != nil {
		b.Fatal(err)
	}
	return be, harness.ServerSpec{ID: "bench", Host: "bench.wsslab.test", Leaf: leaf}
}
