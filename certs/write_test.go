package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsslab/wsslab/internal/testenv"
)

// certbotLive builds certbot's layout: live/privkey.pem is a symlink into
// archive/, as certbot makes it. It returns live/ and the archived key's path.
func certbotLive(t *testing.T) (live, archived string) {
	t.Helper()
	root := t.TempDir()
	live, archive := filepath.Join(root, "live"), filepath.Join(root, "archive")
	for _, d := range []string{live, archive} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	archived = filepath.Join(archive, "privkey1.pem")
	if err := os.WriteFile(archived, []byte("the user's real key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../archive/privkey1.pem", filepath.Join(live, Files.PrivKey)); err != nil {
		t.Fatal(err)
	}
	return live, archived
}

func testFiles() []File {
	return []File{
		{Name: Files.Cert, Data: []byte("new cert\n")},
		{Name: Files.PrivKey, Data: []byte("new key\n"), Mode: 0o600},
		{Name: Files.Root, Data: []byte("new root\n")},
	}
}

// names lists dir's entries, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func wantContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s = %q, want %q", path, got, want)
	}
}

// The repro: writing into certbot's live/ must not replace the
// archived key through the symlink, and must refuse before writing anything.
func TestWriteFilesRefusesSymlink(t *testing.T) {
	live, archived := certbotLive(t)
	err := WriteFiles(live, testFiles(), WriteOptions{})
	var ex *ExistsError
	if !errors.As(err, &ex) || ex.Path != filepath.Join(live, Files.PrivKey) {
		t.Fatalf("err = %v, want *ExistsError for %s", err, filepath.Join(live, Files.PrivKey))
	}
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("%v is not fs.ErrExist", err)
	}
	wantContent(t, archived, "the user's real key\n")
	if got := names(t, live); !slices.Equal(got, []string{Files.PrivKey}) {
		t.Errorf("live/ holds %q after a refusal, want only the symlink", got)
	}
	// WriteCertbot, which the container backend uses, refuses the same way.
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	l, err := pki.Mint(Request{DNSNames: []string{"a.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCertbot(live, l); !errors.As(err, &ex) {
		t.Errorf("WriteCertbot into live/: %v, want *ExistsError", err)
	}
	wantContent(t, archived, "the user's real key\n")
}

func TestWriteFilesRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, Files.Root)
	if err := os.WriteFile(old, []byte("old root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFiles(dir, testFiles(), WriteOptions{})
	var ex *ExistsError
	if !errors.As(err, &ex) || ex.Path != old {
		t.Fatalf("err = %v, want *ExistsError for %s", err, old)
	}
	wantContent(t, old, "old root\n")
	if got := names(t, dir); !slices.Equal(got, []string{Files.Root}) {
		t.Errorf("dir holds %q after a refusal", got)
	}
	// A dangling symlink exists too: it is refused, not written through.
	target := filepath.Join(t.TempDir(), "elsewhere.pem")
	dangling := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dangling, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dangling, Files.Cert)); err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(dangling, testFiles(), WriteOptions{}); !errors.As(err, &ex) {
		t.Errorf("dangling symlink: err = %v, want *ExistsError", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a write went through the dangling symlink: %v", err)
	}
}

// With Force the symlink itself is replaced by a regular file; its target,
// the archived key, stays as it was.
func TestWriteFilesForceReplacesSymlinkNotTarget(t *testing.T) {
	live, archived := certbotLive(t)
	if err := os.WriteFile(filepath.Join(live, Files.Cert), []byte("old cert\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(live, testFiles(), WriteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	wantContent(t, archived, "the user's real key\n")
	key := filepath.Join(live, Files.PrivKey)
	fi, err := os.Lstat(key)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("privkey.pem is %v, want a regular file with mode 0600", fi.Mode())
	}
	wantContent(t, key, "new key\n")
	wantContent(t, filepath.Join(live, Files.Cert), "new cert\n")
	if fi, err := os.Stat(filepath.Join(live, Files.Cert)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("cert.pem mode: %v %v", fi, err)
	}
	if got, want := names(t, live), []string{Files.Cert, Files.PrivKey, Files.Root}; !slices.Equal(got, want) {
		t.Errorf("live/ = %q, want %q (no temp files)", got, want)
	}
}

// A directory in the way is an error even with Force, reported before
// anything is written.
func TestWriteFilesForceDirectoryInTheWay(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, Files.Root), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(dir, testFiles(), WriteOptions{Force: true}); err == nil {
		t.Fatal("wrote over a directory")
	}
	if got := names(t, dir); !slices.Equal(got, []string{Files.Root}) {
		t.Errorf("dir holds %q after the error", got)
	}
}

func TestWriteFilesBadName(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../x.pem", "a/b.pem"} {
		if err := WriteFiles(t.TempDir(), []File{{Name: name, Data: []byte("x")}}, WriteOptions{}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	twice := []File{{Name: "a.pem"}, {Name: "a.pem"}}
	if err := WriteFiles(t.TempDir(), twice, WriteOptions{}); err == nil {
		t.Error("a name given twice accepted")
	}
}

// A write that fails part-way (here the third file's sync, as a full disk
// reports it on filesystems that allocate late) leaves the old files exactly
// as they were and no temporary or empty file behind.
func TestWriteFilesFailingWrite(t *testing.T) {
	for _, force := range []bool{false, true} {
		dir := t.TempDir()
		old := map[string]string{}
		if force {
			for _, f := range testFiles() {
				old[f.Name] = "old " + f.Name
				if err := os.WriteFile(filepath.Join(dir, f.Name), []byte(old[f.Name]), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		n := 0
		syncFile = func(f *os.File) error {
			if n++; n == 3 {
				return &fs.PathError{Op: "sync", Path: f.Name(), Err: syscall.ENOSPC}
			}
			return f.Sync()
		}
		err := WriteFiles(dir, testFiles(), WriteOptions{Force: force})
		syncFile = (*os.File).Sync
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("force=%v: err = %v, want ENOSPC", force, err)
		}
		var want []string
		for name := range old {
			want = append(want, name)
		}
		slices.Sort(want)
		if got := names(t, dir); !slices.Equal(got, want) {
			t.Errorf("force=%v: dir holds %q after the failure, want %q", force, got, want)
		}
		for name, data := range old {
			wantContent(t, filepath.Join(dir, name), data)
		}
	}
}

// mountTiny mounts a tmpfs of each size at a new temp dir. The mounts live
// in a mount namespace of their own, so a killed test leaves no mount behind:
// the test re-runs itself in a child process with a new namespace, and the
// parent only reports the child's result (ok is false there: return). Needs
// root (CAP_SYS_ADMIN).
func mountTiny(t *testing.T, sizes ...string) (dirs []string, ok bool) {
	t.Helper()
	const marker = "WSSLAB_TEST_MOUNT_NAMESPACE"
	if os.Getenv(marker) != "1" {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang guard only
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), marker+"=1")
		// Go makes the new namespace's mounts private before exec.
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err != nil && !errors.As(err, &exit):
			testenv.Missing(t, "root", fmt.Errorf("new mount namespace: %v: needs root; TestWriteFilesFailingWrite covers the logic", err))
		case err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()):
			t.Errorf("in its own mount namespace: %v\n%s", err, out)
		}
		return nil, false
	}
	for _, size := range sizes {
		dir := t.TempDir()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
			t.Fatalf("mount tmpfs: %v", err)
		}
		t.Cleanup(func() {
			if err := syscall.Unmount(dir, 0); err != nil {
				t.Errorf("unmount %s: %v", dir, err)
			}
		})
		dirs = append(dirs, dir)
	}
	return dirs, true
}

// A real full disk: a tmpfs with room for two pages. Before the fix this left
// 0-byte files; now it leaves nothing, and with Force the old files intact.
func TestWriteFilesFullDisk(t *testing.T) {
	pki, err := NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	l, err := pki.Mint(Request{DNSNames: []string{"a.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := CertbotFiles(l)
	if err != nil {
		t.Fatal(err)
	}
	dirs, ok := mountTiny(t, "8k", "64k")
	if !ok {
		return
	}
	empty, full := dirs[0], dirs[1]
	err = WriteFiles(empty, files, WriteOptions{})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	if got := names(t, empty); len(got) != 0 {
		t.Errorf("a failed write into an empty dir left %q", got)
	}

	// Old files present, the rest of the disk filled: --force fails and
	// leaves them byte for byte.
	if err := WriteFiles(full, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, f := range files {
		before[f.Name], _ = os.ReadFile(filepath.Join(full, f.Name))
	}
	filler, err := os.Create(filepath.Join(full, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := filler.Write(make([]byte, 1024)); err != nil {
			break
		}
	}
	filler.Close()
	l2, err := pki.Mint(Request{DNSNames: []string{"b.wsslab.test"}})
	if err != nil {
		t.Fatal(err)
	}
	files2, err := CertbotFiles(l2)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(full, files2, WriteOptions{Force: true}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("force on a full disk: err = %v, want ENOSPC", err)
	}
	for name, data := range before {
		got, err := os.ReadFile(filepath.Join(full, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s changed by a failed write (err %v)", name, err)
		}
	}
	for _, n := range names(t, full) {
		if strings.HasPrefix(n, ".") {
			t.Errorf("temp file %s left behind", n)
		}
	}
}
