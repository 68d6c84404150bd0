// Package testenv is the one rule for a dependency a test (or a run) cannot
// find: on a laptop it is skipped with a message naming the fix; under
// CI=true, or when WSSLAB_REQUIRE names it (or "all"), it is a failure. A
// column, a browser or an engine never silently vanishes from CI.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Required reports whether a missing dependency named what ("browser",
// "docker", "node", "python", "openssl", "firefox", "root", …) must fail
// rather than skip: CI=true, WSSLAB_REQUIRE=all, or what listed in
// WSSLAB_REQUIRE (comma separated). The older WSSLAB_REQUIRE_BROWSER=1 and
// WSSLAB_REQUIRE_DOCKER=1 still work.
func Required(what string) bool {
	if os.Getenv("CI") == "true" {
		return true
	}
	for _, w := range strings.Split(os.Getenv("WSSLAB_REQUIRE"), ",") {
		if w = strings.TrimSpace(w); w == "all" || (w != "" && w == what) {
			return true
		}
	}
	switch what {
	case "browser":
		return os.Getenv("WSSLAB_REQUIRE_BROWSER") == "1"
	case "docker":
		return os.Getenv("WSSLAB_REQUIRE_DOCKER") == "1"
	}
	return false
}

// Missing ends tb because what is not available here: err says what is
// missing and how to install it. It skips on a laptop and fails when
// Required(what).
func Missing(tb testing.TB, what string, err error) {
	tb.Helper()
	if Required(what) {
		tb.Fatalf("%s missing (a failure under CI=true): %v", what, err)
		return
	}
	tb.Skipf("%s missing, skipped: %v", what, err)
}

// Need calls Missing when err is not nil.
func Need(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		Missing(tb, what, err)
	}
}
