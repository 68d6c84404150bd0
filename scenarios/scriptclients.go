package scenarios

import (
	"context"
	"io"
	"sync"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/harness/scriptclient"
)

// ownedClients are a lab's clients that run as processes of their own (the
// node and python scripts, openssl's dir): started on first use, shared by
// every run of the lab like the browser, stopped by Lab.Close.
type ownedClients struct {
	mu sync.Mutex
	by map[string]*ownedClient
}

type ownedClient struct {
	mu  sync.Mutex
	c   harness.Client
	err error // kept only when the runtime is missing
}

// get returns the lab's client id, starting it with start on first use,
// and again if its process has died. A missing runtime is kept (missing for
// one run, missing for all); another start error is retried by the next run.
func (o *ownedClients) get(id string, start func() (harness.Client, error)) (harness.Client, error) {
	o.mu.Lock()
	if o.by == nil {
		o.by = map[string]*ownedClient{}
	}
	oc := o.by[id]
	if oc == nil {
		oc = &ownedClient{}
		o.by[id] = oc
	}
	o.mu.Unlock()
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if e, ok := oc.c.(interface{ Exited() bool }); ok && e.Exited() {
		// Its process died (crashed, killed): this run gets a new one.
		if cl, ok := oc.c.(io.Closer); ok {
			cl.Close()
		}
		oc.c = nil
	}
	if oc.c != nil || oc.err != nil {
		return oc.c, oc.err
	}
	c, err := start()
	switch {
	case err == nil:
		oc.c = c
	case harness.IsNotInstalled(err):
		oc.err = err
	}
	return c, err
}

// closeAll stops every client that started.
func (o *ownedClients) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, oc := range o.by {
		oc.mu.Lock() // one still starting has finished
		if cl, ok := oc.c.(io.Closer); ok {
			cl.Close()
		}
		oc.c = nil
		oc.mu.Unlock()
		delete(o.by, id)
	}
}

// scriptConfig is what the clients in other runtimes get from the lab: the
// run's root (the strict Go client's only root) and where temp dirs go.
func (l *Lab) scriptConfig() scriptclient.Config {
	return scriptclient.Config{Root: certs.PEM(l.PKI.Root.Cert), TempDir: l.TempDir}
}

// startScript is a ClientSpec.Start for a client the lab owns. The process
// outlives the run's ctx (it is the lab's); ctx bounds only its start.
func startScript[C harness.Client](id string, start func(context.Context, scriptclient.Config) (C, error)) func(context.Context, *Lab) (harness.Client, error) {
	return func(ctx context.Context, l *Lab) (harness.Client, error) {
		return l.owned.get(id, func() (harness.Client, error) {
			c, err := start(ctx, l.scriptConfig())
			if err != nil {
				return nil, err
			}
			return c, nil
		})
	}
}
