package doctor

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// An ExamineError keeps its cause: errors.As and errors.Is see through it.
func TestExamineErrorUnwrap(t *testing.T) {
	_, err := Examine(context.Background(), Config{URL: "wss://a b.test/"})
	var ee *ExamineError
	if !errors.As(err, &ee) {
		t.Fatalf("Examine(bad URL) = %v (%T), want an *ExamineError", err, err)
	}
	if ee.Err == nil {
		t.Fatalf("ExamineError %q has no cause", ee.Msg)
	}
	var he url.InvalidHostError
	if !errors.As(err, &he) {
		t.Errorf("errors.As(%v, url.InvalidHostError) = false; cause is %T", err, ee.Err)
	}
	var canceled error = &ExamineError{Msg: "interrupted", Err: context.Canceled}
	if !errors.Is(canceled, context.Canceled) {
		t.Error("errors.Is(ExamineError{Err: context.Canceled}, context.Canceled) = false")
	}
}

// Library errors name no CLI flag; cmd/wsslab adds the wording.
func TestParseResolveErrorNamesNoFlag(t *testing.T) {
	for _, bad := range []string{"nope", "[::1]:443:127.0.0.1", "a.test:0:127.0.0.1", "a.test:443:example.com"} {
		_, err := ParseResolve(bad)
		if err == nil {
			t.Fatalf("ParseResolve(%q) accepted", bad)
		}
		if s := err.Error(); strings.Contains(s, "--") {
			t.Errorf("ParseResolve(%q) error %q names a CLI flag", bad, s)
		}
	}
}
