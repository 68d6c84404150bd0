package harness

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wsslab/wsslab/internal/require"
)

// ErrNoBrowser is returned (wrapped) when Chromium or certutil is missing. Its
// message names the command that fixes it.
var ErrNoBrowser = errors.New("Chromium and certutil are needed for the browser client: run `apt-get install -y chromium libnss3-tools` (or set WSSLAB_CHROMIUM to a Chrome/Chromium binary)")

// RequireBrowser reports whether a missing browser must fail rather than skip:
// under CI=true or WSSLAB_REQUIRE_BROWSER=1 the browser column never vanishes.
func RequireBrowser() bool {
	return require.Required("browser")
}

// FindChromium returns the browser binary: $WSSLAB_CHROMIUM, else the first of
// chromium, chromium-browser, google-chrome, google-chrome-stable on PATH.
func FindChromium() (string, error) {
	if p := os.Getenv("WSSLAB_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("WSSLAB_CHROMIUM=%s: %w", p, ErrNoBrowser)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH: %w", ErrNoBrowser)
}

// CheckBrowserTools reports whether the browser client can run here.
func CheckBrowserTools() error {
	if _, err := FindChromium(); err != nil {
		return err
	}
	if _, err := exec.LookPath("certutil"); err != nil {
		return fmt.Errorf("no certutil on PATH: %w", ErrNoBrowser)
	}
	return nil
}

// checkTrusted reads the NSS database's trust attributes for nick (`certutil
// -L`: "NICK   SSL,S/MIME,JAR") and fails unless its SSL field trusts it as
// a CA for servers (C: valid CA, T: trusted CA for client auth implies C).
func checkTrusted(db, home, nick string) error {
	cmd := exec.Command("certutil", "-d", "sql:"+db, "-L")
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("harness: certutil -L: %v: %s", err, strings.TrimSpace(string(out)))
	}
	for _, l := range strings.Split(string(out), "\n") {
		rest, ok := strings.CutPrefix(l, nick+" ")
		if !ok {
			continue
		}
		ssl, _, _ := strings.Cut(strings.TrimSpace(rest), ",")
		if strings.ContainsAny(ssl, "CT") {
			return nil
		}
		return fmt.Errorf("harness: root %s not trusted as a TLS CA after install (trust %q)", nick, strings.TrimSpace(rest))
	}
	return fmt.Errorf("harness: root %s not in the NSS database after install", nick)
}

// trustFlags are the NSS trust flags a root gets: a CA for TLS servers.
// A variable so a test can prove the re-check catches a root without trust.
var trustFlags = "C,,"

// NewTrustHome makes a throwaway HOME under dir whose NSS database
// (~/.pki/nssdb, where Chromium on Linux looks) trusts exactly roots, as CAs
// for TLS servers ("C,,"). Nothing else is touched: not the system store, not
// the user's HOME. Like mkcert it installs, then re-checks that NSS really
// trusts each root as a TLS CA (its trust attributes, see checkTrusted): a
// root merely present in the database may carry no trust.
func NewTrustHome(dir string, roots []*x509.Certificate) (home string, err error) {
	home = filepath.Join(dir, "home")
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		return "", fmt.Errorf("harness: nss: %w", err)
	}
	if err := InstallRoots(db, dir, roots); err != nil {
		return "", err
	}
	return home, nil
}

// InstallRoots creates the NSS database db (a directory, opened as sql:db:
// cert9.db and key4.db, the format Chromium and Firefox read) with an empty
// password and adds roots to it as CAs for TLS servers ("C,,"), each
// checked once installed. The roots' PEM files are written into scratch.
// certutil runs with HOME=scratch so that it touches nothing of the user's.
func InstallRoots(db, scratch string, roots []*x509.Certificate) error {
	certutil := func(args ...string) error {
		cmd := exec.Command("certutil", append([]string{"-d", "sql:" + db}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+scratch)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("harness: certutil %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := certutil("-N", "--empty-password"); err != nil {
		return err
	}
	for i, root := range roots {
		f := filepath.Join(scratch, fmt.Sprintf("root-%d.pem", i))
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o644); err != nil {
			return fmt.Errorf("harness: nss: %w", err)
		}
		nick := fmt.Sprintf("wsslab-root-%d", i)
		if err := certutil("-A", "-t", trustFlags, "-n", nick, "-i", f); err != nil {
			return err
		}
		// Re-check what NSS now holds: the root's trust attributes must make
		// it a CA for TLS servers (C or T in the SSL field). Not `certutil -V
		// -u L`, mkcert's check: that also judges the root's own validity
		// (dates, key usage), which tests break on purpose.
		if err := checkTrusted(db, scratch, nick); err != nil {
			return err
		}
	}
	return nil
}
