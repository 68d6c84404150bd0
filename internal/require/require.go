// Package require says whether a missing dependency (a browser, a runtime,
// the Docker engine) must fail rather than skip. It is the rule
// internal/testenv applies in tests, kept apart so that library code can ask
// it without importing package testing.
package require

import (
	"os"
	"strings"
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
