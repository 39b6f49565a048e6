package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// partOrder lists the parts of a response's time in the order a request
// meets them, for display.
var partOrder = []servertiming.Part{servertiming.Network, servertiming.Edge, servertiming.Origin, servertiming.Database, servertiming.Cache, servertiming.Info}

// maxDesc bounds a description shown in a table (Cloudflare's cfL4 carries
// a whole query string).
const maxDesc = 40

// serverTimingLine lists a response's Server-Timing metrics for a table,
// in the order a request meets them: "cfEdge 3.0ms (cloudflare edge) ·
// db 12.4ms (database: 3 queries)". On a cache hit the origin's metrics
// are the cached copy's, and the line says so.
func serverTimingLine(s servertiming.Set, status cachestatus.Status) string {
	names := s.Names()
	slices.SortStableFunc(names, func(a, b string) int {
		return cmp.Compare(slices.Index(partOrder, s[a].Part), slices.Index(partOrder, s[b].Part))
	})
	parts := make([]string, 0, len(names))
	fromOrigin := false
	for _, n := range names {
		e := s[n]
		fromOrigin = fromOrigin || e.CDN == ""
		var b strings.Builder
		b.WriteString(n)
		if e.Dur != nil {
			b.WriteString(" " + fmtMS(*e.Dur))
		}
		b.WriteString(" (" + strings.TrimSpace(e.CDN+" "+string(e.Part)))
		if e.Desc != "" {
			b.WriteString(": " + shortenEnd(e.Desc, maxDesc))
		}
		b.WriteString(")")
		parts = append(parts, b.String())
	}
	line := strings.Join(parts, " · ")
	if fromOrigin && servedFromCache(status) {
		line += " — the origin's metrics come with the cached copy"
	}
	return line
}

// servedFromCache reports whether a response with this status came out of
// a cache, so that what the origin reported was stored with it.
func servedFromCache(s cachestatus.Status) bool {
	switch s {
	case cachestatus.HIT, cachestatus.STALE, cachestatus.UPDATING, cachestatus.REVALIDATED:
		return true
	}
	return false
}
