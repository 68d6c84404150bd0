package testenv

import (
	"errors"
	"testing"
)

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		ci, req, legacy string
		what            string
		want            bool
	}{
		{"", "", "", "node", false},
		{"true", "", "", "node", true},
		{"false", "", "", "node", false},
		{"", "all", "", "docker", true},
		{"", "python, node", "", "node", true},
		{"", "python", "", "node", false},
		{"", "", "1", "browser", true},
	} {
		t.Setenv("CI", c.ci)
		t.Setenv("WSSLAB_REQUIRE", c.req)
		t.Setenv("WSSLAB_REQUIRE_BROWSER", c.legacy)
		t.Setenv("WSSLAB_REQUIRE_DOCKER", "")
		if got := Required(c.what); got != c.want {
			t.Errorf("CI=%q WSSLAB_REQUIRE=%q legacy=%q: Required(%q) = %v, want %v", c.ci, c.req, c.legacy, c.what, got, c.want)
		}
	}
}

// recorder is a testing.TB that records how it was ended.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.ended = "fatal" }
func (r *recorder) Skipf(string, ...any)  { r.ended = "skip" }

func TestMissingFailsUnderCI(t *testing.T) {
	t.Setenv("WSSLAB_REQUIRE", "")
	for ci, want := range map[string]string{"true": "fatal", "": "skip"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		Missing(r, "node", errors.New("no node: apt-get install -y nodejs"))
		if r.ended != want {
			t.Errorf("CI=%q: Missing ended the test with %q, want %q", ci, r.ended, want)
		}
		r = &recorder{TB: t}
		Need(r, "node", nil)
		if r.ended != "" {
			t.Errorf("Need(nil) ended the test with %q", r.ended)
		}
	}
}
