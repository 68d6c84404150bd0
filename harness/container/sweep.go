package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/wsslab/wsslab/harness"
	ownerid "github.com/wsslab/wsslab/internal/owner"
)

// Labels on every container, network and image wsslab creates. Sweep and
// Leftovers find them by LabelHarness; LabelSession tells one Backend's
// resources from another's; LabelOwner names the process that made them, so
// a sweep never touches a run that is still going (go test runs packages in
// parallel processes against the same engine).
const (
	LabelHarness = "wsslab.harness"
	LabelSession = "wsslab.session"
	LabelOwner   = "wsslab.owner"
)

// Resource is one labeled Docker object.
type Resource struct {
	Kind   string // "container", "network" or "image"
	ID     string
	Name   string
	Labels map[string]string
}

func (r Resource) String() string {
	return fmt.Sprintf("%s %s (%s, owner %s in %s)", r.Kind, r.Name, shortID(r.ID), r.Labels[LabelOwner], r.Labels[LabelOwner+".pidns"])
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func newSession() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ownerLabels are this process's owner record as labels: LabelOwner
// (host:pid, for people) and the full identity under LabelOwner+".*"
// (host, boot id, PID namespace, pid, start time, created).
func ownerLabels() map[string]string {
	id := ownerid.Self()
	l := id.Labels(LabelOwner)
	l[LabelOwner] = id.Host + ":" + strconv.Itoa(id.PID)
	return l
}

// ownerAlive reports whether a resource's owner may still be running, so
// the sweep must leave it. Only an owner provably dead — same host, boot and
// PID namespace as this process, and its process gone — is not alive; an
// owner elsewhere (a run in another PID namespace sharing the engine) counts
// as alive until the resource is older than ownerid.ForeignMaxAge. A
// resource without a readable owner record (made by an older wsslab) is
// never swept: nothing proves whose it is.
func ownerAlive(labels map[string]string) bool {
	id, ok := ownerid.FromLabels(LabelOwner, labels)
	if !ok {
		return true
	}
	return !id.Stale(time.Now(), 0)
}

// list returns every resource carrying LabelHarness (and, if session is not
// "", that session).
func list(ctx context.Context, cli client.APIClient, session string) ([]Resource, error) {
	f := client.Filters{}.Add("label", LabelHarness+"=1")
	if session != "" {
		f = f.Add("label", LabelSession+"="+session)
	}
	var out []Resource
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("container: list containers: %w", err)
	}
	for _, c := range cs.Items {
		name := c.ID
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Resource{Kind: "container", ID: c.ID, Name: name, Labels: c.Labels})
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("container: list networks: %w", err)
	}
	for _, n := range ns.Items {
		out = append(out, Resource{Kind: "network", ID: n.ID, Name: n.Name, Labels: n.Labels})
	}
	is, err := cli.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("container: list images: %w", err)
	}
	for _, im := range is.Items {
		name := im.ID
		if len(im.RepoTags) > 0 {
			name = im.RepoTags[0]
		}
		out = append(out, Resource{Kind: "image", ID: im.ID, Name: name, Labels: im.Labels})
	}
	return out, nil
}

// remove deletes resources: containers first (they hold networks and
// images), then networks, then images.
func remove(ctx context.Context, cli client.APIClient, rs []Resource) error {
	var errs []error
	for _, kind := range []string{"container", "network", "image"} {
		for _, r := range rs {
			if r.Kind != kind {
				continue
			}
			var err error
			switch kind {
			case "container":
				_, err = cli.ContainerRemove(ctx, r.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			case "network":
				_, err = cli.NetworkRemove(ctx, r.ID, client.NetworkRemoveOptions{})
			case "image":
				// Never forced: an image a container still uses is not
				// removed from under it.
				_, err = cli.ImageRemove(ctx, r.ID, client.ImageRemoveOptions{PruneChildren: true})
			}
			if err != nil && !gone(err) {
				errs = append(errs, fmt.Errorf("container: remove %s: %w", r, err))
			}
		}
	}
	return errors.Join(errs...)
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }

// gone reports whether a removal error means the resource is gone or going
// anyway: not found, or another sweep (a parallel run) is already removing
// it. Both are success.
func gone(err error) bool {
	return isNotFound(err) || strings.Contains(err.Error(), "already in progress")
}

// Sweep removes what killed runs left behind: every container, network and
// image labeled by wsslab whose owning process is gone. Resources of live
// runs (including this one) are left alone. It returns what it removed.
// New calls it; it is safe to call any time.
func Sweep(ctx context.Context) ([]Resource, error) {
	// The temp dirs of dead runs (the server binary, certificate files)
	// go too; harness names them by owner pid.
	harness.SweepStale("")
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	all, err := list(ctx, cli, "")
	if err != nil {
		return nil, err
	}
	var stale []Resource
	for _, r := range all {
		if !ownerAlive(r.Labels) {
			stale = append(stale, r)
		}
	}
	return stale, remove(ctx, cli, stale)
}

// Leftovers lists wsslab-labeled resources: of one session, or of every run
// when session is "". After Backend.Close, Leftovers(ctx, b.Session()) is
// empty; tests assert it.
func Leftovers(ctx context.Context, session string) ([]Resource, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	return list(ctx, cli, session)
}
