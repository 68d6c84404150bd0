package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wsslab/wsslab/harness"
	"github.com/wsslab/wsslab/scenarios"
)

// collectWithBrowser runs scenarios with the real browser (screenshots on).
func collectWithBrowser(t *testing.T, ids ...string) *report {
	t.Helper()
	needBrowser(t)
	list, err := scenarios.Select(ids...)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := scenarios.NewLab()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	lab.Screenshots = true
	rep, err := collect(t.Context(), lab, scenarios.RunConfig{Scenarios: list, Clients: scenarios.Clients})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestHTMLReportRenders writes the HTML report of a real run and opens it in
// headless Chromium: one section per scenario, every screenshot decoded,
// the console line and the chain shown, nothing fetched from elsewhere.
// WSSLAB_REPORT_PNG=FILE saves a full-page screenshot of the report to look at.
func TestHTMLReportRenders(t *testing.T) {
	ids := []string{"valid-fullchain", "self-signed", "missing-intermediate", "expired"}
	rep := collectWithBrowser(t, ids...)
	var buf bytes.Buffer
	if err := writeHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	// Self-contained: no stylesheet, script, image or font from anywhere.
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(html); m != "" {
		t.Errorf("report loads an external resource: %s", m)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := newChromium(t)
	if err := harness.Navigate(ctx, "file://"+path); err != nil {
		t.Fatal(err)
	}
	type facts struct {
		Sections   int      `json:"sections"`
		Images     int      `json:"images"`
		Decoded    int      `json:"decoded"`
		Consoles   []string `json:"consoles"`
		NotSent    int      `json:"notSent"`
		Expired    int      `json:"expired"`
		MatrixRows int      `json:"matrixRows"`
		Title      string   `json:"title"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[facts](`(() => {
		const imgs = [...document.querySelectorAll("img.shot")];
		return {
			sections: document.querySelectorAll("section.scenario").length,
			images: imgs.length,
			decoded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
			consoles: [...document.querySelectorAll(".console")].map(e => e.textContent.trim()),
			notSent: document.querySelectorAll(".notsent").length,
			expired: document.querySelectorAll(".chain .expired").length,
			matrixRows: document.querySelectorAll("table.matrix tr").length - 1,
			title: document.querySelector("h1").textContent,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sections != len(ids) || got.MatrixRows != len(ids) {
		t.Errorf("sections %d, matrix rows %d, want %d", got.Sections, got.MatrixRows, len(ids))
	}
	if got.Images != len(ids) || got.Decoded != len(ids) {
		t.Errorf("screenshots: %d shown, %d decoded, want %d", got.Images, got.Decoded, len(ids))
	}
	if got.NotSent != 1 {
		t.Errorf("want the missing intermediate called out once, got %d", got.NotSent)
	}
	if got.Expired != 1 {
		t.Errorf("want one expired validity highlighted, got %d", got.Expired)
	}
	// The console line exactly as DevTools shows it, for each failure.
	for _, s := range rep.Scenarios {
		br, _ := s.Result(harness.ChromeID)
		if br.Outcome == harness.Connected {
			continue
		}
		want := "WebSocket connection to '" + s.URL + "' failed: Error in connection establishment: " + br.Reason
		if br.Error != want {
			t.Errorf("%s: console line %q, want %q", s.Scenario.ID, br.Error, want)
		}
		found := false
		for _, c := range got.Consoles {
			found = found || strings.Contains(c, want)
		}
		if !found {
			t.Errorf("%s: console line not rendered; consoles: %q", s.Scenario.ID, got.Consoles)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot is not a PNG")
	}
	if out := os.Getenv("WSSLAB_REPORT_PNG"); out != "" {
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("report screenshot: %s", out)
	}
}
