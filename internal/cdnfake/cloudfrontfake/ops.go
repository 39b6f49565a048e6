package cloudfrontfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The XML shapes, as CloudFront's model names them.
type (
	invalidationBatch struct {
		XMLName         xml.Name `xml:"InvalidationBatch"`
		Xmlns           string   `xml:"xmlns,attr,omitempty"`
		CallerReference string   `xml:"CallerReference"`
		Paths           struct {
			Quantity int      `xml:"Quantity"`
			Items    []string `xml:"Items>Path"`
		} `xml:"Paths"`
	}
	invalidation struct {
		XMLName           xml.Name `xml:"Invalidation"`
		Xmlns             string   `xml:"xmlns,attr,omitempty"`
		ID                string   `xml:"Id"`
		Status            string   `xml:"Status"`
		CreateTime        string   `xml:"CreateTime"`
		InvalidationBatch invalidationBatch
	}
	invalidationSummary struct {
		ID         string `xml:"Id"`
		CreateTime string `xml:"CreateTime"`
		Status     string `xml:"Status"`
	}
	invalidationList struct {
		XMLName     xml.Name              `xml:"InvalidationList"`
		Xmlns       string                `xml:"xmlns,attr"`
		Marker      string                `xml:"Marker"`
		NextMarker  string                `xml:"NextMarker,omitempty"`
		MaxItems    int                   `xml:"MaxItems"`
		IsTruncated bool                  `xml:"IsTruncated"`
		Quantity    int                   `xml:"Quantity"`
		Items       []invalidationSummary `xml:"Items>InvalidationSummary,omitempty"`
	}
	errorResponse struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
)

// timeFormat is how CloudFront writes timestamps.
const timeFormat = "2006-01-02T15:04:05.000Z"

func (f *Fake) shape(inv *Invalidation, now time.Time) invalidation {
	out := invalidation{Xmlns: Namespace, ID: inv.ID, Status: inv.Status(now), CreateTime: inv.Created.UTC().Format(timeFormat)}
	out.InvalidationBatch.CallerReference = inv.CallerReference
	out.InvalidationBatch.Paths.Quantity = len(inv.Paths)
	out.InvalidationBatch.Paths.Items = slices.Clone(inv.Paths)
	return out
}

// create is CreateInvalidation.
func (f *Fake) create(x *exchange) {
	var in invalidationBatch
	if len(x.rec.Body) == 0 {
		f.fail(x, apiError{http.StatusBadRequest, "MissingBody", "This operation requires a body. Ensure that the body is present and the Content-Type header is set."})
		return
	}
	if err := xml.Unmarshal(x.rec.Body, &in); err != nil || in.XMLName.Space != Namespace {
		f.fail(x, apiError{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("the body is not an InvalidationBatch in namespace %s", Namespace)})
		return
	}
	paths := in.Paths.Items
	x.rec.Kind, x.rec.Items = kindOf(paths), len(paths)
	if ae := f.checkBatch(in, paths); ae != nil {
		f.fail(x, *ae)
		return
	}
	now := time.Now()
	f.mu.Lock()
	inv, ae := f.admit(in.CallerReference, paths, now)
	lose := ae == nil && f.lost < f.opts.LoseAnswers
	if lose {
		f.lost++
	}
	var out invalidation
	if ae == nil {
		out = f.shape(inv, now)
	}
	f.mu.Unlock()
	switch {
	case ae != nil:
		f.fail(x, *ae)
	case lose:
		x.rec.Fault = true
		f.fail(x, apiError{http.StatusInternalServerError, "InternalFailure", "the invalidation was created, but this answer was lost (injected)"})
	default:
		x.w.Header().Set("Location", "https://cloudfront.amazonaws.com/"+APIVersion+"/distribution/"+f.opts.DistributionID+"/invalidation/"+inv.ID)
		f.reply(x, http.StatusCreated, out)
	}
}

// checkBatch refuses a batch CloudFront would refuse whatever is in
// progress: counts that disagree, too many paths, a path it cannot take.
func (f *Fake) checkBatch(in invalidationBatch, paths []string) *apiError {
	switch {
	case in.CallerReference == "":
		return &apiError{http.StatusBadRequest, "InvalidArgument", "CallerReference is required."}
	case in.Paths.Quantity != len(paths):
		return &apiError{http.StatusBadRequest, "InconsistentQuantities", "The value of Quantity and the size of Items don't match."}
	case len(paths) == 0:
		return &apiError{http.StatusBadRequest, "InvalidArgument", "Your request contains no invalidation paths."}
	case len(paths) > MaxPaths:
		return &apiError{http.StatusRequestEntityTooLarge, "BatchTooLarge", fmt.Sprintf("Invalidation batch specified is too large: %d paths, at most %d.", len(paths), MaxPaths)}
	}
	for _, p := range paths {
		if !validPath(p) || f.rejected(p) {
			return &apiError{http.StatusBadRequest, "InvalidArgument", "Your request contains one or more invalid invalidation paths."}
		}
	}
	return nil
}

// validPath: absolute, not too long, printable ASCII (anything else must
// be percent-encoded), a wildcard only at the end.
func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") || len(p) > MaxPathLength {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || (c == '*' && i != len(p)-1) {
			return false
		}
	}
	return true
}

// rejected reports whether the faults name p, as a path or by a URL whose
// path and query it is.
func (f *Fake) rejected(p string) bool {
	for _, v := range f.opts.Faults.Reject {
		if v == p {
			return true
		}
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			vp := u.EscapedPath()
			if u.RawQuery != "" {
				vp += "?" + u.RawQuery
			}
			if vp == p {
				return true
			}
		}
	}
	return false
}

// admit returns the invalidation for ref: the one ref already made when
// its paths are the same, or a new one when the work in progress leaves
// room. f.mu is held.
func (f *Fake) admit(ref string, paths []string, now time.Time) (*Invalidation, *apiError) {
	if inv, ok := f.byRef[ref]; ok {
		if !slices.Equal(inv.Paths, paths) {
			return nil, &apiError{http.StatusConflict, "InvalidationBatchAlreadyExists", "The CallerReference you provided was used for an invalidation batch with different paths."}
		}
		return inv, nil
	}
	busyPaths, busyWild := f.inProgress(now)
	newPaths, newWild := count(paths)
	if busyPaths+newPaths > f.opts.PathsInProgress || busyWild+newWild > f.opts.WildcardsInProgress {
		return nil, &apiError{http.StatusBadRequest, "TooManyInvalidationsInProgress", "Processing your request will cause you to exceed the maximum number of in-progress invalidations."}
	}
	f.created++
	inv := &Invalidation{
		ID:              fmt.Sprintf("I%s%05d", strings.ToUpper(strconv.FormatInt(now.Unix()%(36*36*36*36*36*36*36*36), 36)), f.created),
		CallerReference: ref,
		Paths:           slices.Clone(paths),
		Created:         now,
		Completed:       now.Add(f.opts.CompleteAfter),
	}
	f.invs = append(f.invs, inv)
	f.byRef[ref] = inv
	return inv, nil
}

// count splits paths into plain paths and wildcard paths, which CloudFront
// limits separately.
func count(paths []string) (plain, wild int) {
	for _, p := range paths {
		if strings.HasSuffix(p, "*") {
			wild++
		} else {
			plain++
		}
	}
	return plain, wild
}

// inProgress sums the paths of the invalidations still in progress. f.mu is held.
func (f *Fake) inProgress(now time.Time) (plain, wild int) {
	for _, inv := range f.invs {
		if inv.Status(now) == "InProgress" {
			p, w := count(inv.Paths)
			plain, wild = plain+p, wild+w
		}
	}
	return plain, wild
}

// get is GetInvalidation.
func (f *Fake) get(x *exchange) {
	id := x.r.PathValue("inv")
	now := time.Now()
	f.mu.Lock()
	i := slices.IndexFunc(f.invs, func(inv *Invalidation) bool { return inv.ID == id })
	var out invalidation
	if i >= 0 {
		out = f.shape(f.invs[i], now)
	}
	f.mu.Unlock()
	if i < 0 {
		f.fail(x, apiError{http.StatusNotFound, "NoSuchInvalidation", "The specified invalidation does not exist."})
		return
	}
	f.reply(x, http.StatusOK, out)
}

// list is ListInvalidations: newest first, MaxItems a page (default 100)
// after Marker.
func (f *Fake) list(x *exchange) {
	q := x.r.URL.Query()
	limit := 100
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			f.fail(x, apiError{http.StatusBadRequest, "InvalidArgument", "MaxItems must be a positive number."})
			return
		}
		limit = min(n, 1000)
	}
	out := invalidationList{Xmlns: Namespace, Marker: q.Get("Marker"), MaxItems: limit}
	now := time.Now()
	f.mu.Lock()
	started := out.Marker == ""
	for i := len(f.invs) - 1; i >= 0; i-- {
		inv := f.invs[i]
		if !started {
			started = inv.ID == out.Marker
			continue
		}
		if len(out.Items) == limit {
			out.IsTruncated, out.NextMarker = true, out.Items[limit-1].ID
			break
		}
		out.Items = append(out.Items, invalidationSummary{ID: inv.ID, CreateTime: inv.Created.UTC().Format(timeFormat), Status: inv.Status(now)})
	}
	f.mu.Unlock()
	out.Quantity = len(out.Items)
	f.reply(x, http.StatusOK, out)
}
