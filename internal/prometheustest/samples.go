package prometheustest

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples flattens metric families into one value per series, keyed the
// way PromQL prints a series: name{label="value",...} with the labels in
// name order. A histogram gives NAME_bucket{...,le="..."}, NAME_sum and
// NAME_count series.
func Samples(families []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			name := f.GetName()
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[Key(name, labels)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[Key(name, labels)] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				out[Key(name, labels)] = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				out[Key(name+"_count", labels)] = float64(h.GetSampleCount())
				out[Key(name+"_sum", labels)] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					labels["le"] = fmt.Sprint(b.GetUpperBound())
					out[Key(name+"_bucket", labels)] = float64(b.GetCumulativeCount())
				}
				labels["le"] = fmt.Sprint(math.Inf(1))
				out[Key(name+"_bucket", labels)] = float64(h.GetSampleCount())
			}
		}
	}
	return out
}

// Key is the series key Samples uses for name and labels.
func Key(name string, labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// Scrape fetches a Prometheus text exposition from url and returns its
// Samples, failing t when it cannot be fetched or parsed.
func Scrape(t testing.TB, url string) map[string]float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("prometheustest: scrape %s: %v", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("prometheustest: scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("prometheustest: scrape %s: status %d: %s (%v)", url, resp.StatusCode, body, err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("prometheustest: scrape %s: %v", url, err)
	}
	list := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		list = append(list, f)
	}
	return Samples(list)
}
