package harness

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsslab/wsslab/internal/owner"
)

// TestSweepCutShort: a dir holding only an empty owner record (a run killed
// between creating the record and writing it) is swept once old enough;
// one that is younger, holds anything else, or has a record, is not.
func TestSweepCutShort(t *testing.T) {
	parent := t.TempDir()
	old := time.Now().Add(-time.Minute)
	mk := func(name string, age time.Time, extra bool) string {
		d := filepath.Join(parent, name)
		os.Mkdir(d, 0o700)
		m := filepath.Join(d, owner.Marker)
		os.WriteFile(m, nil, 0o600)
		os.Chtimes(m, age, age)
		if extra {
			os.WriteFile(filepath.Join(d, "notes.txt"), []byte("keep"), 0o600)
		}
		return d
	}
	cut := mk("wsslab-python-1", old, false)
	young := mk("wsslab-python-2", time.Now(), false)
	withData := mk("wsslab-python-3", old, true)
	removed, err := SweepStale(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != cut {
		t.Errorf("removed %v, want only %s", removed, cut)
	}
	for _, d := range []string{young, withData} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
}
