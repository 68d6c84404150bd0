package main

import (
	"fmt"

	"github.com/wsslab/wsslab/harness"
)

// backendFromFlags returns the backend `--backend KIND --image IMAGE` asks
// for, and a function that releases it.
//
// STUB: the container backend (harness/container) lands separately; when it
// does, cmd/wsslab/backend.go replaces this file.
func backendFromFlags(kind, image string) (harness.Backend, func(), error) {
	switch kind {
	case "", "inprocess":
		if image != "" {
			return nil, nil, fmt.Errorf("--image applies to --backend container only")
		}
		return harness.InProcess{}, func() {}, nil
	case "container":
		return nil, nil, fmt.Errorf("container backend not built yet")
	}
	return nil, nil, fmt.Errorf("unknown backend %q (want inprocess or container)", kind)
}
