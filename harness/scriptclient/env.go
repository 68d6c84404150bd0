package scriptclient

import (
	"os"
	"strings"
)

// trustVars are environment variables that change what a runtime trusts or
// how strictly it verifies: inherited, they would make a column measure the
// caller's environment instead of the run's root (NODE_TLS_REJECT_UNAUTHORIZED=0
// turns Node's verification off; NODE_EXTRA_CA_CERTS and SSL_CERT_* add
// roots; OPENSSL_CONF can lower the security level the table was measured
// at). A client's own process never sees them.
var trustVars = []string{
	"NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "OPENSSL_CONF", "OPENSSL_MODULES",
	"PYTHONHTTPSVERIFY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
}

// cleanEnv is this process's environment without trustVars, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, v := range trustVars {
			if name == v {
				drop = true
				break
			}
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
