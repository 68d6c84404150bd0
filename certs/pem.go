package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files names the files CertbotFiles renders, in certbot's layout.
var Files = struct {
	Cert, Chain, FullChain, PrivKey, Root string
}{"cert.pem", "chain.pem", "fullchain.pem", "privkey.pem", "root.pem"}

// PEM encodes certificates as concatenated PEM blocks.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes a private key as PKCS#8 PEM.
func KeyPEM(l *Leaf) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		return nil, fmt.Errorf("certs: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// CertbotFiles renders the leaf in certbot's layout:
//
//	cert.pem       the leaf alone
//	chain.pem      the intermediate(s) (what cert.pem is missing)
//	fullchain.pem  leaf + intermediate(s): what a server must send
//	privkey.pem    the leaf's key (mode 0600)
//	root.pem       the root the chain ends at (what a client must trust)
//
// For a self-signed leaf chain.pem is empty and root.pem is the leaf itself.
// The files describe the certificate as issued; which of them a scenario's
// server actually sends is Leaf.Served.
func CertbotFiles(l *Leaf) ([]File, error) {
	var inters []*x509.Certificate
	root := l.Cert
	if n := len(l.Issuers); n > 0 {
		inters, root = l.Issuers[:n-1], l.Issuers[n-1]
	}
	key, err := KeyPEM(l)
	if err != nil {
		return nil, err
	}
	return []File{
		{Name: Files.Cert, Data: PEM(l.Cert)},
		{Name: Files.Chain, Data: PEM(inters...)},
		{Name: Files.FullChain, Data: PEM(append([]*x509.Certificate{l.Cert}, inters...)...)},
		{Name: Files.PrivKey, Data: key, Mode: 0o600},
		{Name: Files.Root, Data: PEM(root)},
	}, nil
}

// WriteCertbot writes CertbotFiles(l) into dir with WriteFiles: it refuses
// to replace files that exist (*ExistsError).
func WriteCertbot(dir string, l *Leaf) error {
	files, err := CertbotFiles(l)
	if err != nil {
		return err
	}
	return WriteFiles(dir, files, WriteOptions{})
}

// File is one file for WriteFiles.
type File struct {
	// Name is a plain file name inside the directory, no separators.
	Name string
	Data []byte
	// Mode is the file's permission bits, exactly (no umask); 0 means 0644.
	Mode fs.FileMode
}

// WriteOptions says what WriteFiles may do to files that exist.
type WriteOptions struct {
	// Force replaces existing files. The directory entry is replaced: a
	// symlink is swapped for a regular file, its target is never written.
	Force bool
}

// ExistsError is WriteFiles refusing a path that exists (a file, a symlink,
// even a dangling one) because WriteOptions.Force was not set. It matches
// fs.ErrExist.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string        { return "certs: " + e.Path + " already exists" }
func (e *ExistsError) Is(target error) bool { return target == fs.ErrExist }

// syncFile flushes a temporary file; a variable so a test can fail it the
// way a full disk does.
var syncFile = (*os.File).Sync

// WriteFiles writes files into dir (created if missing) so that a reader sees
// each file either as it was or complete, never empty or half written, and
// nothing outside dir is ever written:
//
//   - each file is written to a new temporary file in dir (created with
//     O_EXCL, so no symlink is followed), synced, then renamed over (Force)
//     or hard-linked to (no Force: fails if the name exists, atomically) its
//     name; a symlink in dir is thus replaced or refused, never followed;
//   - without Force every name is checked first, so a refusal writes
//     nothing; the first existing name is returned as *ExistsError;
//   - if any write fails (a full disk), every temporary file is removed and
//     no file has been replaced yet: the old files stay as they were.
//
// Files are published one by one only after all were written, so an error
// while renaming (rare: the names were checked) may leave some files new and
// some old. Without Force the names published so far are removed again.
func WriteFiles(dir string, files []File, opts WriteOptions) (err error) {
	seen := map[string]bool{}
	for _, f := range files {
		if f.Name == "" || f.Name == "." || f.Name == ".." || strings.ContainsAny(f.Name, `/\`) {
			return fmt.Errorf("certs: file name %q: want a plain name inside the directory", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("certs: file name %q given twice", f.Name)
		}
		seen[f.Name] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("certs: %w", err) // an *fs.PathError naming dir
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		fi, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("certs: %w", err)
		case !opts.Force:
			return &ExistsError{Path: path}
		case fi.IsDir():
			return fmt.Errorf("certs: %s is a directory", path)
		}
	}

	temps := make([]string, len(files))
	defer func() {
		for _, t := range temps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	for i, f := range files {
		if temps[i], err = writeTemp(dir, f); err != nil {
			return err
		}
	}

	var published []string
	for i, f := range files {
		path := filepath.Join(dir, f.Name)
		if err := publish(temps[i], path, opts.Force); err != nil {
			if !opts.Force {
				for _, p := range published {
					os.Remove(p) // they did not exist before this call
				}
			}
			return err
		}
		published = append(published, path)
		temps[i] = ""
	}
	// Make the renames durable. Best effort: the files are in place already,
	// and not every filesystem can sync a directory.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// writeTemp writes f to a new temporary file in dir and returns its path.
// On error nothing is left behind.
func writeTemp(dir string, f File) (_ string, err error) {
	path := filepath.Join(dir, f.Name)
	tmp, err := os.CreateTemp(dir, "."+f.Name+".tmp-*")
	if err != nil {
		return "", writeError("write", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	mode := f.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := tmp.Chmod(mode); err != nil {
		return "", writeError("write", path, err)
	}
	if _, err := tmp.Write(f.Data); err != nil {
		return "", writeError("write", path, err)
	}
	if err := syncFile(tmp); err != nil {
		return "", writeError("write", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", writeError("write", path, err)
	}
	return tmp.Name(), nil
}

// publish gives the temporary file tmp its final name path. rename(2) and
// link(2) both act on the directory entry and never follow a symlink at
// path; link fails if path exists, which is the no-overwrite check without
// a window between checking and writing.
func publish(tmp, path string, force bool) error {
	if force {
		if err := os.Rename(tmp, path); err != nil {
			return writeError("rename", path, err)
		}
		return nil
	}
	err := os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		return &ExistsError{Path: path}
	}
	if err != nil {
		// A filesystem without hard links: check, then rename (a small window
		// in which a file created meanwhile would be replaced).
		if _, lerr := os.Lstat(path); lerr == nil {
			return &ExistsError{Path: path}
		}
		if err := os.Rename(tmp, path); err != nil {
			return writeError("rename", path, err)
		}
		return nil
	}
	if err := os.Remove(tmp); err != nil {
		return writeError("remove", tmp, err)
	}
	return nil
}

// writeError names the file the caller asked for, not the temporary file
// the failure happened on: "certs: write DIR/cert.pem: no space left on
// device". It wraps an *fs.PathError around the system error.
func writeError(op, path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("certs: %w", &fs.PathError{Op: op, Path: path, Err: err})
}
