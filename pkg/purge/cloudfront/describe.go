package cloudfront

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"

	"github.com/cachectl/cachectl/pkg/purge"
)

// apiVersion is the CloudFront API version the SDK speaks.
const apiVersion = "2020-05-31"

// Describe says which requests Purge would send for b, for dry runs, and
// which targets it would refuse: one CreateInvalidation per batch_size
// paths, with the body the SDK sends. b.Run must be set, as the Runner
// does, for the CallerReference to be the one Purge sends.
func (p *Provider) Describe(b purge.Batch) ([]purge.RequestDescription, []error) {
	if b.Kind == purge.KindEverything && len(b.Targets) == 0 {
		b.Targets = []purge.Target{{Kind: purge.KindEverything}}
	}
	paths, _, refused := batchPaths(b)
	var out []purge.RequestDescription
	for chunk := range slices.Chunk(paths, p.batch) {
		out = append(out, purge.RequestDescription{
			Method: http.MethodPost,
			URL:    p.endpoint + "/" + apiVersion + "/distribution/" + url.PathEscape(p.s.DistributionID) + "/invalidation",
			Header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 REDACTED", "Content-Type": "application/xml"},
			Body:   invalidationBody(callerReference(b.Run, chunk), chunk),
		})
	}
	return out, refused
}

// invalidationBody is the InvalidationBatch document, written as the SDK
// writes it.
func invalidationBody(ref string, paths []string) string {
	var b bytes.Buffer
	text := func(s string) {
		if err := xml.EscapeText(&b, []byte(s)); err != nil {
			b.WriteString("?")
		}
	}
	b.WriteString(`<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/` + apiVersion + `/"><CallerReference>`)
	text(ref)
	b.WriteString(`</CallerReference><Paths><Items>`)
	for _, p := range paths {
		b.WriteString("<Path>")
		text(p)
		b.WriteString("</Path>")
	}
	fmt.Fprintf(&b, "</Items><Quantity>%d</Quantity></Paths></InvalidationBatch>", len(paths))
	return b.String()
}

// PlanNote says how many invalidations and paths the plan makes and what
// CloudFront charges for them.
func (p *Provider) PlanNote(batches iter.Seq[purge.Batch]) string {
	invalidations := 0
	var l load
	for b := range batches {
		if b.Kind == purge.KindEverything && len(b.Targets) == 0 {
			b.Targets = []purge.Target{{Kind: purge.KindEverything}}
		}
		paths, _, _ := batchPaths(b)
		for chunk := range slices.Chunk(paths, p.batch) {
			invalidations++
			l = l.add(loadOf(chunk))
		}
	}
	total := l.plain + l.wild
	return fmt.Sprintf(`cloudfront: %d invalidation%s of %d path%s (%d wildcard) on distribution %s.
  CloudFront bills invalidation paths per AWS account and month: the first 1,000 are free, then each
  path costs $0.005 (a wildcard path such as /blog/* counts as one path, however much it matches).
  This plan submits %d path%s: $%.2f while none of this month's free paths is used, $%.2f once all are.
`, invalidations, plural(invalidations), total, plural(total), l.wild, p.s.DistributionID,
		total, plural(total), float64(max(total-freePaths, 0))*pricePerPath, float64(total)*pricePerPath)
}

// What CloudFront charges for invalidation paths (AWS list price).
const (
	freePaths    = 1000
	pricePerPath = 0.005
)

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
