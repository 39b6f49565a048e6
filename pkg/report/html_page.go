package report

import (
	"strconv"
	"strings"
)

// The page is written by hand rather than with html/template: any template
// package makes the linker keep every exported method of every reachable
// type, since a template may call any of them by name. Every value from a
// run goes through htmlEscape, which writes exactly what html/template's
// escapers wrote for the contexts the page uses (element text, <title>
// text and quoted attribute values).

// htmlEscaper replaces the characters html/template escapes in text and in
// quoted attribute values, with the same references.
var htmlEscaper = strings.NewReplacer(
	"\x00", "\uFFFD",
	`"`, "&#34;",
	"&", "&amp;",
	"'", "&#39;",
	"+", "&#43;",
	"<", "&lt;",
	">", "&gt;",
)

// htmlBuf collects a page; raw appends markup, text a value, escaped.
type htmlBuf struct{ strings.Builder }

func (b *htmlBuf) raw(s ...string) {
	for _, x := range s {
		b.WriteString(x)
	}
}

func (b *htmlBuf) text(s string) { _, _ = htmlEscaper.WriteString(&b.Builder, s) }

func (b *htmlBuf) page(p *htmlPage) {
	b.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"")
	b.text(htmlCSP)
	b.raw("\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"cachectl\">\n<title>")
	b.text(p.Title)
	b.raw("</title>\n<style>", htmlCSS, "</style>\n</head>\n<body>\n<header class=\"verdict ")
	b.text(p.Verdict.Class)
	b.raw("\"><div class=\"inner\">\n<h1>")
	b.text(p.Title)
	b.raw("</h1>\n<span class=\"badge\" id=\"verdict\">")
	b.text(p.Verdict.Label)
	b.raw("</span>\n<p class=\"headline\">")
	b.text(p.Verdict.Text)
	b.raw("</p>\n<p class=\"meta\">")
	b.text(p.Meta)
	b.raw("</p>\n</div></header>\n<main>\n<section class=\"stats\" id=\"summary\" aria-label=\"summary\">\n")
	for _, s := range p.Stats {
		b.raw("<div class=\"stat")
		if s.Bad {
			b.raw(" bad")
		}
		b.raw("\"><span class=\"v\">")
		b.text(s.Value)
		b.raw("</span><span class=\"k\">")
		b.text(s.Label)
		b.raw("</span></div>\n")
	}
	b.raw("</section>\n")
	if p.Problems != nil {
		b.raw("<section id=\"problems\">\n<h2>")
		b.text(p.Problems.Heading)
		b.raw("</h2>\n")
		b.table(p.Problems)
		b.raw("\n</section>\n")
	}
	b.raw("<section id=\"cache\">\n<h2>Cache status and hit ratio</h2>\n")
	for i := range p.HitBars {
		b.hitBar(&p.HitBars[i])
	}
	if len(p.HitBars) == 0 {
		b.raw("<p class=\"note\">No probe got a response.</p>\n")
	}
	b.raw("</section>\n<section id=\"ttfb\">\n<h2>Time to first byte by cache status</h2>\n")
	if p.Chart != nil {
		b.chart(p.Chart)
	} else {
		b.raw("<p class=\"note\">No probe got a response.</p>\n")
	}
	b.raw("</section>\n<section id=\"all\">\n<h2>")
	b.text(p.Table.Heading)
	b.raw("</h2>\n")
	b.table(&p.Table)
	b.raw("\n</section>\n<footer>")
	b.text(p.Footer)
	b.raw("</footer>\n</main>\n</body>\n</html>\n")
}

func (b *htmlBuf) table(t *htmlTable) {
	b.raw("<table>\n<thead><tr>")
	for _, c := range t.Columns {
		b.raw("<th>")
		b.text(c)
		b.raw("</th>")
	}
	b.raw("</tr></thead>\n<tbody>\n")
	for _, r := range t.Rows {
		b.raw("<tr")
		b.classAttr(r.Class)
		b.raw(">")
		for _, c := range r.Cells {
			b.raw("<td")
			b.classAttr(c.Class)
			b.raw(">")
			if c.Code {
				b.raw("<code>")
				b.text(c.Text)
				b.raw("</code>")
			} else {
				b.text(c.Text)
			}
			b.raw("</td>")
		}
		b.raw("</tr>\n")
	}
	b.raw("</tbody>\n</table>\n")
	if t.Note != "" {
		b.raw("<p class=\"note\">")
		b.text(t.Note)
		b.raw("</p>\n")
	}
}

// classAttr writes ` class="class"`, or nothing when class is empty.
func (b *htmlBuf) classAttr(class string) {
	if class != "" {
		b.raw(" class=\"")
		b.text(class)
		b.raw("\"")
	}
}

func (b *htmlBuf) hitBar(h *statusBar) {
	b.raw("<figure class=\"hitbar\">\n<p class=\"hit\"><strong>")
	b.text(h.HitRatio)
	b.raw("</strong> served from cache")
	if h.Label != "" {
		b.raw(" · ")
		b.text(h.Label)
	}
	b.raw("</p>\n<svg class=\"chart\" viewBox=\"0 0 960 26\" role=\"img\" aria-label=\"cache status of every answered probe")
	if h.Label != "" {
		b.raw(", ")
		b.text(h.Label)
	}
	b.raw("\">\n")
	for _, s := range h.Segments {
		b.raw("<rect class=\"")
		b.text(s.Class)
		b.raw("\" x=\"")
		b.text(s.X)
		b.raw("\" y=\"0\" width=\"")
		b.text(s.W)
		b.raw("\" height=\"26\"><title>")
		b.segment(&s, ": ")
		b.raw("</title></rect>\n")
	}
	b.raw("</svg>\n<ul class=\"legend\">")
	for _, s := range h.Segments {
		b.raw("<li><span class=\"sw ")
		b.text(s.Class)
		b.raw("\"></span>")
		b.segment(&s, " ")
		b.raw("</li>")
	}
	b.raw("</ul>\n</figure>\n")
}

// segment writes "status<sep>count (share)".
func (b *htmlBuf) segment(s *statusSegment, sep string) {
	b.text(s.Status)
	b.raw(sep, strconv.Itoa(s.Count), " (")
	b.text(s.Share)
	b.raw(")")
}

func (b *htmlBuf) chart(c *svgChart) {
	b.raw("<figure>\n<svg class=\"chart\" id=\"ttfb-chart\" viewBox=\"0 0 ")
	b.text(c.Width)
	b.raw(" ")
	b.text(c.Height)
	b.raw("\" role=\"img\" aria-label=\"")
	b.text(c.Label)
	b.raw("\">\n")
	for _, r := range c.Rows {
		b.raw("<g class=\"row\">\n<text x=\"0\" y=\"")
		b.text(r.TextY)
		b.raw("\">")
		b.text(r.Label)
		b.raw("</text>\n<text class=\"sub\" x=\"0\" y=\"")
		b.text(r.SubY)
		b.raw("\">")
		b.text(r.Sub)
		b.raw("</text>\n")
		b.line("grid", c.PlotX1, r.BaseY, c.PlotX2, r.BaseY)
		for _, bar := range r.Bars {
			b.raw("<rect class=\"bar ")
			b.text(r.Class)
			b.raw("\" x=\"")
			b.text(bar.X)
			b.raw("\" y=\"")
			b.text(bar.Y)
			b.raw("\" width=\"")
			b.text(bar.W)
			b.raw("\" height=\"")
			b.text(bar.H)
			b.raw("\"><title>")
			b.text(bar.Title)
			b.raw("</title></rect>\n")
		}
		for _, m := range r.Marks {
			b.line(m.Class, m.X, m.Y1, m.X, m.Y2)
		}
		b.raw("</g>\n")
	}
	b.line("axis", c.PlotX1, c.AxisY, c.PlotX2, c.AxisY)
	for _, t := range c.Ticks {
		b.raw("<text x=\"")
		b.text(t.X)
		b.raw("\" y=\"")
		b.text(t.TextY)
		b.raw("\" text-anchor=\"middle\">")
		b.text(t.Label)
		b.raw("</text>\n")
	}
	b.raw("</svg>\n<figcaption class=\"note\">Each bar is a tenth of a decade on a logarithmic time axis, its height the share of the row's probes; the solid line is the median (p50), the dashed one p95.</figcaption>\n</figure>\n")
}

// line writes an SVG line of class from (x1, y1) to (x2, y2).
func (b *htmlBuf) line(class, x1, y1, x2, y2 string) {
	b.raw("<line class=\"")
	b.text(class)
	b.raw("\" x1=\"")
	b.text(x1)
	b.raw("\" y1=\"")
	b.text(y1)
	b.raw("\" x2=\"")
	b.text(x2)
	b.raw("\" y2=\"")
	b.text(y2)
	b.raw("\"/>\n")
}
