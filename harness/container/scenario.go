package container

import (
	"context"
	"fmt"

	"github.com/wsslab/wsslab/harness"
)

// Topologies returns a backend that runs each spec the way its
// harness.Topology says (nginx in front of wsslab's server, or a server
// image), and a spec without one on b itself. The scenario table describes
// its container rows as plain data; this is where they become containers.
func (b *Backend) Topologies() harness.Backend { return topologies{b} }

type topologies struct{ b *Backend }

func (t topologies) Name() string { return t.b.Name() }

func (t topologies) Start(ctx context.Context, spec harness.ServerSpec) (*harness.Endpoint, error) {
	top := spec.Topology
	switch {
	case top == nil:
		return t.b.Start(ctx, spec)
	case top.Proxy != nil:
		return t.b.Nginx(Proxy(*top.Proxy)).Start(ctx, spec)
	case top.Image != nil:
		img := Image{Ref: top.Image.Ref, Port: top.Image.Port, Cmd: top.Image.Cmd}
		if img.Ref == harness.OwnServerImage {
			img.Ref = OwnServer
		}
		return t.b.WithImage(img).Start(ctx, spec)
	}
	return nil, fmt.Errorf("container: %s: a topology with neither proxy nor image", spec.ID)
}
