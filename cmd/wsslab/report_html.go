package main

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wsslab/wsslab/certs"
	"github.com/wsslab/wsslab/harness"
)

// reportHTML is the report's template: one self-contained page (inline CSS,
// screenshots as data: URIs), readable offline and attachable to a ticket.
//
//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"isBrowser": func(r clientResult) bool { return r.Info.Class == harness.BrowserClass },
	"outcomeClass": func(r clientResult) string {
		switch {
		case !r.Ran():
			return "skip"
		case r.Outcome == harness.Connected:
			return "ok"
		}
		return "bad"
	},
	"png": func(b []byte) template.URL {
		// A PNG as a data: URI; html/template only lets typed URLs through.
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	},
	"day":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"validAt": func(i certs.CertInfo, t time.Time) bool { return i.ValidAt(t) },
	"short":   firstSentence,
}).Parse(reportHTML))

// writeHTML renders the report as one self-contained HTML page.
func writeHTML(w io.Writer, rep *report) error {
	var buf bytes.Buffer
	if err := reportTmpl.Execute(&buf, rep); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// writeHTMLFile writes the report to path, replacing it only when complete:
// a temporary file in the same directory, renamed over path.
func writeHTMLFile(path string, rep *report) error {
	var buf bytes.Buffer
	if err := writeHTML(&buf, rep); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".wsslab-report-*.html")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer os.Remove(f.Name()) // gone after the rename; removed if anything failed
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Versions is every client's version, for the template.
func (rep *report) Versions() string { return rep.versions() }

// Summary is the one-line summary, for the template.
func (rep *report) Summary() string { return summaryLine(rep) }

// Expectation is the expected-result cell for a scenario, for the template.
func (s scenarioRun) Expectation() string { return expectedCell(s) }

// Got is what the client saw in Expect's notation, for the template.
func (r clientResult) Got() string { return r.got() }

// Cell is the matrix cell, for the template.
func (r clientResult) Cell() string { return r.cell() }
