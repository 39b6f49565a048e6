package report

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

// encodingJSONLine is a record's line as encoding/json writes it.
func encodingJSONLine(t testing.TB, r *verify.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := newEncoder(&b).Encode(r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// filledRecord is a record with every field, nested ones included, set to
// something other than its zero value, so that a field added to Record
// but not to appendRecordLine shows up as a difference.
func filledRecord(t testing.TB) verify.Record {
	t.Helper()
	var r verify.Record
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.Type().Name() + " <&> \"q\" \\ \u2028 é")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int:
			v.SetInt(42)
		case reflect.Float64:
			v.SetFloat(12.5)
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i))
			}
		default:
			t.Fatalf("verify.Record has a %s field: teach appendRecordLine and this test about it", v.Kind())
		}
	}
	fill(reflect.ValueOf(&r).Elem())
	return r
}

func TestAppendRecordLineIsEncodingJSON(t *testing.T) {
	full := filledRecord(t)
	records := []verify.Record{
		full,
		{},
		{Route: "/a", Variant: probe.LoggedIn, Check: "cache", Expected: "one of HIT, MISS", Actual: "BYPASS (X-Cache: BYPASS)", Index: -3, Attempts: 2,
			Probe: verify.ProbeFacts{StatusCode: 200, Cache: cachestatus.HIT, TTFBMs: 0.0000001, TotalMs: 1e21}},
		{Actual: "ctl \x00\x01\x1f\x7f \b\f\n\r\t bad \xff\xfe utf8 \u2029 emoji 😀 cut \xe2\x82", Probe: verify.ProbeFacts{TTFBMs: -0.5, TotalMs: 123456789.123456789, Error: "timeout"}},
		{Probe: verify.ProbeFacts{TTFBMs: 1e-6, TotalMs: 9.99e20}},
		{Probe: verify.ProbeFacts{TTFBMs: -1e-300, TotalMs: math.MaxFloat64}},
	}
	for i := range records {
		got, err := appendRecordLine(nil, &records[i])
		if err != nil {
			t.Fatal(err)
		}
		if want := encodingJSONLine(t, &records[i]); !bytes.Equal(got, want) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestAppendRecordLineRefusesWhatJSONCannotCarry(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := appendRecordLine(nil, &verify.Record{Probe: verify.ProbeFacts{TotalMs: f}}); err == nil {
			t.Errorf("total_ms %v: no error, want encoding/json's", f)
		}
	}
}

func FuzzAppendRecordLine(f *testing.F) {
	f.Add("/a", "HIT (X-Cache: HIT)", "\xff\u2028<>", 0.25, 1e-7)
	f.Add("", "", "", 0.0, 1e21)
	f.Fuzz(func(t *testing.T, route, actual, errText string, ttfb, total float64) {
		if !finite(ttfb) || !finite(total) {
			return
		}
		r := verify.Record{Route: route, Actual: actual, Env: errText, Probe: verify.ProbeFacts{TTFBMs: ttfb, TotalMs: total, Error: errText}}
		got, err := appendRecordLine(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		if want := encodingJSONLine(t, &r); !bytes.Equal(got, want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}
