package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/cachectl/cachectl/pkg/verify"
)

// HTML reports are one self-contained file: inline CSS and SVG, no script,
// no font, image or stylesheet fetched from anywhere, so the file reads the
// same from a CI artifact, an e-mail attachment or a machine offline. Every
// value that came from a run (route names, header values, owners) reaches
// the page through html/template's escaping, and the page's
// Content-Security-Policy allows nothing but its own style sheet: even
// markup that slipped through could neither run a script nor fetch a URL.

//go:embed html/page.html.tmpl html/report.css
var htmlFiles embed.FS

var (
	htmlCSS      = mustRead("html/report.css")
	htmlTemplate = template.Must(template.New("report").ParseFS(htmlFiles, "html/page.html.tmpl"))
	// htmlCSP allows the page's one style sheet (by its hash) and nothing
	// else: no script, no request of any kind.
	htmlCSP = "default-src 'none'; style-src 'sha256-" + sha256Base64(htmlCSS) + "'; base-uri 'none'; form-action 'none'"
)

func mustRead(name string) string {
	b, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sha256Base64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// The caps on what an HTML report lists: a browser stays responsive and the
// file stays small enough to attach; the jsonl output has everything.
const (
	htmlMaxProblems = 1000
	htmlMaxRows     = 10000
)

// htmlPage is what the page template shows, every value a plain string the
// template escapes.
type htmlPage struct {
	Title   string
	CSP     string
	CSS     template.CSS
	Verdict htmlVerdict
	// Meta says when the run started and how long it took.
	Meta  string
	Stats []htmlStat
	// Problems are the failed checks (or drifted fields), first on the
	// page; nil when there are none.
	Problems *htmlTable
	HitBars  []statusBar
	Chart    *svgChart
	Table    htmlTable
	Footer   string
}

type htmlVerdict struct {
	// Class is passed, failed or unreachable.
	Class string
	Label string
	Text  string
}

type htmlStat struct {
	Value string
	Label string
	Bad   bool
}

type htmlTable struct {
	Heading string
	Columns []string
	Rows    []htmlRow
	// Note follows the table (rows left out by the cap).
	Note string
}

type htmlRow struct {
	Class string
	Cells []htmlCell
}

type htmlCell struct {
	Text  string
	Class string
	Code  bool
}

// cell is a plain table cell; codeCell one shown in a monospace font.
func cell(text string) htmlCell     { return htmlCell{Text: text} }
func codeCell(text string) htmlCell { return htmlCell{Text: text, Code: text != ""} }

// variantCell holds a variant name, kept on one line.
func variantCell(v string) htmlCell { return htmlCell{Text: v, Class: "variant"} }

func writeHTML(w io.Writer, p *htmlPage) error {
	p.CSP, p.CSS = htmlCSP, template.CSS(htmlCSS)
	return htmlTemplate.ExecuteTemplate(w, "page", p)
}

// htmlMeta is the line under the title: when the run started and how long
// it took, each left out when unknown.
func htmlMeta(start time.Time, elapsedMS float64) string {
	var s string
	if !start.IsZero() {
		s = "started " + start.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if elapsedMS > 0 {
		if s != "" {
			s += " · "
		}
		s += "took " + fmtMS(elapsedMS)
	}
	return s
}

// omittedNote says how many rows a cap left out; what is plural.
func omittedNote(n int, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("…and %d more %s, left out to keep the page light (the jsonl output lists every one).", n, what)
}

// htmlVerdictOf is the banner for a verdict; text says what happened.
func htmlVerdictOf(r verify.Result, passed, failed, text string) htmlVerdict {
	switch r {
	case verify.ChecksFailed:
		return htmlVerdict{Class: "failed", Label: failed, Text: text}
	case verify.Unreachable:
		return htmlVerdict{Class: "unreachable", Label: "NO RESPONSE", Text: text}
	}
	return htmlVerdict{Class: "passed", Label: passed, Text: text}
}
