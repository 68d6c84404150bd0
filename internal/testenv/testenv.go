// Package testenv is the one rule for a dependency a test (or a run) cannot
// find: on a laptop it is skipped with a message naming the fix; under
// CI=true, or when WSSLAB_REQUIRE names it (or "all"), it is a failure. A
// column, a browser or an engine never silently vanishes from CI.
package testenv

import (
	"testing"

	"github.com/wsslab/wsslab/internal/require"
)

// Required is require.Required: whether a missing what must fail.
func Required(what string) bool { return require.Required(what) }

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
