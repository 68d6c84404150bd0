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

	"github.com/wsslab/wsslab/internal/testenv"
)

// ErrNoBrowser is returned (wrapped) when Chromium or certutil is missing. Its
// message names the command that fixes it.
var ErrNoBrowser = errors.New("Chromium and certutil are needed for the browser client: run `apt-get install -y chromium libnss3-tools` (or set WSSLAB_CHROMIUM to a Chrome/Chromium binary)")

// RequireBrowser reports whether a missing browser must fail rather than skip:
// under CI=true or WSSLAB_REQUIRE_BROWSER=1 the browser column never vanishes.
func RequireBrowser() bool {
	return testenv.Required("browser")
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

// NewTrustHome makes a throwaway HOME under dir whose NSS database
// (~/.pki/nssdb, where Chromium on Linux looks) trusts exactly roots, as CAs
// for TLS servers ("C,,"). Nothing else is touched: not the system store, not
// the user's HOME. Like mkcert it checks, installs, then re-checks.
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
		if err := certutil("-A", "-t", "C,,", "-n", nick, "-i", f); err != nil {
			return err
		}
		// Re-check: the root must now be listed with its trust flags.
		if err := certutil("-L", "-n", nick); err != nil {
			return fmt.Errorf("harness: root not in NSS database after install: %w", err)
		}
	}
	return nil
}
