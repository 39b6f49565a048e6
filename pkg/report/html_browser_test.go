package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/chromium"
	"github.com/cachectl/cachectl/internal/golden"
)

// renderFacts is what the browser reports about a rendered page.
type renderFacts struct {
	Title    string `json:"title"`
	Verdict  string `json:"verdict"`
	Viewport int    `json:"viewport"`
	// ProblemTop and ProblemBottom bound the first failed check's row; -1
	// when there is none.
	ProblemTop    float64 `json:"problemTop"`
	ProblemBottom float64 `json:"problemBottom"`
	// Bars counts the TTFB chart's bars and Segments the hit-ratio bar's
	// segments that were drawn with a size; Painted those whose fill is a
	// colour the style sheet gave them.
	Bars     int `json:"bars"`
	Segments int `json:"segments"`
	Painted  int `json:"painted"`
	// Styled: the style sheet applied (the policy accepted its hash).
	Styled bool `json:"styled"`
	// Foreign counts elements the report never writes: scripts, images,
	// iframes, objects, links, forms; Handlers counts on* attributes.
	Foreign  int    `json:"foreign"`
	Handlers int    `json:"handlers"`
	Text     string `json:"text"`
	Rows     int    `json:"rows"`
}

const factsJS = `(() => {
  const first = document.querySelector('#problems tbody tr');
  const r = first ? first.getBoundingClientRect() : {top: -1, bottom: -1};
  const drawn = sel => [...document.querySelectorAll(sel)].filter(e => { const b = e.getBBox(); return b.width > 0 && b.height > 0; });
  const shapes = [...drawn('#ttfb-chart rect.bar'), ...drawn('#cache svg rect')];
  const painted = shapes.filter(e => { const f = getComputedStyle(e).fill; return f !== 'rgb(0, 0, 0)' && f !== 'none'; });
  const header = document.querySelector('header.verdict');
  return {
    title: document.title,
    verdict: (document.getElementById('verdict') || {}).textContent || '',
    viewport: window.innerHeight,
    problemTop: r.top, problemBottom: r.bottom,
    bars: drawn('#ttfb-chart rect.bar').length,
    segments: drawn('#cache svg rect').length,
    painted: painted.length,
    styled: !!header && getComputedStyle(header).borderBottomWidth === '4px',
    foreign: document.querySelectorAll('script, img, iframe, object, embed, link, form, base, meta[http-equiv="refresh"]').length,
    handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
    text: document.body.innerText,
    rows: document.querySelectorAll('#all tbody tr').length,
  };
})()`

// TestHTMLInBrowser renders each kind of HTML report in one headless
// Chromium (started once for the package) from a file: URL, as a reader
// opening a CI artifact would: the page makes no network request and logs
// no error, its style sheet applies under its own Content-Security-Policy,
// the charts are drawn, the first failed check is visible without
// scrolling, and hostile values show as text. Screenshots of a passing and
// a failing report go to the test's artifact directory, and to testdata
// under -update (the README shows them).
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	b := chromium.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	page, err := b.NewPage(ctx, 1280, 800)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the harness sees what a bad page does", func(t *testing.T) {
		checkHarness(ctx, t, page)
	})
	for _, tc := range []struct {
		name       string
		html       []byte
		screenshot string
		check      func(t *testing.T, f renderFacts)
	}{
		{"verify passing", siteVerifyHTML(t, siteRun(false)), "html_verify_passing.png", checkPassing},
		{"verify failing", siteVerifyHTML(t, siteRun(true)), "html_verify_failing.png", checkFailing},
		{"verify unreachable", writeVerify(t, HTML, Style{}), "", checkUnreachable},
		{"hostile values", siteVerifyHTML(t, hostileRun()), "", checkHostile},
		{"diff drift", siteDiffHTML(t, siteDiff()), "html_diff_drift.png", checkDrift},
		{"diff unreachable", writeDiff(t, HTML, Style{}), "", checkDiffFixture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := render(ctx, t, page, tc.html, tc.screenshot)
			if !f.Styled {
				t.Error("the style sheet did not apply (is its hash in the Content-Security-Policy?)")
			}
			if f.Foreign != 0 || f.Handlers != 0 {
				t.Errorf("%d script/img/link/... elements and %d elements with event handlers, want none", f.Foreign, f.Handlers)
			}
			tc.check(t, f)
		})
	}
}

// checkHarness opens a page that fetches an image from loopback, logs a
// console error and throws: each must show among the page's problems, or
// the checks above would pass for want of seeing anything.
func checkHarness(ctx context.Context, t *testing.T, page *chromium.Page) {
	path := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><title>bad</title><img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom"); throw new Error("thrown")</script>`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(page.Problems())
	if err := page.Open(ctx, "file://"+path); err != nil {
		t.Fatal(err)
	}
	var title string
	if err := page.Eval(ctx, "document.title", &title); err != nil || title != "bad" {
		t.Fatalf("title %q, %v", title, err)
	}
	got := strings.Join(page.Problems()[before:], "\n")
	for _, want := range []string{"network request: http://127.0.0.1:9/pixel.png", "console.error: boom", "uncaught exception:"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

// render opens html from a file, checks that the browser saw no problem,
// and returns what the page shows; it saves a screenshot as name.
func render(ctx context.Context, t *testing.T, page *chromium.Page, html []byte, name string) renderFacts {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, html, 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(page.Problems())
	if err := page.Open(ctx, "file://"+path); err != nil {
		t.Fatal(err)
	}
	var f renderFacts
	if err := page.Eval(ctx, factsJS, &f); err != nil {
		t.Fatal(err)
	}
	if problems := page.Problems()[before:]; len(problems) > 0 {
		t.Errorf("the browser reported:\n  %s", strings.Join(problems, "\n  "))
	}
	shot, err := page.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 1280 || got.Y != 800 {
		t.Errorf("screenshot is %v, want 1280x800", got)
	}
	if name != "" {
		saveScreenshot(t, name, shot)
	}
	return f
}

func saveScreenshot(t *testing.T, name string, shot []byte) {
	t.Helper()
	dirs := []string{t.ArtifactDir()}
	if golden.Updating() {
		dirs = append(dirs, "testdata")
	}
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func checkPassing(t *testing.T, f renderFacts) {
	if f.Verdict != "PASSED" || f.ProblemTop != -1 {
		t.Errorf("verdict %q, first failed check at %v; want PASSED and none", f.Verdict, f.ProblemTop)
	}
	if f.Bars == 0 || f.Segments != 2 || f.Painted != f.Bars+f.Segments {
		t.Errorf("chart bars %d, hit-ratio segments %d (want HIT and MISS), painted %d: want every shape drawn and coloured", f.Bars, f.Segments, f.Painted)
	}
	if f.Rows != 22*4 {
		t.Errorf("%d rows in the full table, want %d", f.Rows, 22*4)
	}
}

func checkFailing(t *testing.T, f renderFacts) {
	if f.Verdict != "FAILED" {
		t.Errorf("verdict %q, want FAILED", f.Verdict)
	}
	if f.ProblemTop < 0 || f.ProblemBottom > float64(f.Viewport) {
		t.Errorf("the first failed check spans %v to %v px; want it within the %d px viewport, without scrolling", f.ProblemTop, f.ProblemBottom, f.Viewport)
	}
	for _, want := range []string{"/dashboard", "Cache-Control: public, max-age=120", "web-team", "remove the /dashboard rule from production.vcl and reload Varnish"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if f.Bars == 0 || f.Painted != f.Bars+f.Segments {
		t.Errorf("chart bars %d, segments %d, painted %d: want every shape drawn and coloured", f.Bars, f.Segments, f.Painted)
	}
}

func checkUnreachable(t *testing.T, f renderFacts) {
	if f.Verdict != "NO RESPONSE" || !strings.Contains(f.Text, "timeout after 10s") {
		t.Errorf("verdict %q; want NO RESPONSE with the probe's error shown", f.Verdict)
	}
}

func checkHostile(t *testing.T, f renderFacts) {
	if f.Title != "cachectl verify: production" {
		t.Errorf("title %q: a hostile value ran as script", f.Title)
	}
	if !strings.Contains(f.Text, `<script>document.title="pwned"</script>`) {
		t.Error("the hostile value is not shown as text")
	}
}

func checkDrift(t *testing.T, f renderFacts) {
	if f.Verdict != "DRIFT" {
		t.Errorf("verdict %q, want DRIFT", f.Verdict)
	}
	if f.ProblemTop < 0 || f.ProblemBottom > float64(f.Viewport) {
		t.Errorf("the first difference spans %v to %v px; want it within the %d px viewport", f.ProblemTop, f.ProblemBottom, f.Viewport)
	}
	if f.Segments != 4 || f.Bars == 0 || f.Painted != f.Bars+f.Segments {
		t.Errorf("hit-ratio segments %d (want HIT and MISS on each side), chart bars %d, painted %d", f.Segments, f.Bars, f.Painted)
	}
	for _, want := range []string{"content-team", "60 s", "600 s", "MISS · production"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if f.Rows != 16 {
		t.Errorf("%d rows in the full table, want one per route and variant (16)", f.Rows)
	}
}

func checkDiffFixture(t *testing.T, f renderFacts) {
	if f.Verdict != "DRIFT" || !strings.Contains(f.Text, "revert the staging TTL cap") {
		t.Errorf("verdict %q; want DRIFT with the route's rollback shown", f.Verdict)
	}
}
