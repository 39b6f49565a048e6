package cloudflarefake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
)

const (
	zone  = "023e105f4ecef8ad9ca31a8372d0c353"
	token = "tok"
)

func post(t *testing.T, srv *Server, body string) (int, http.Header, envelope) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.APIURL()+"/zones/"+zone+"/purge_cache", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil && resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("answer %s is not the envelope: %v", b, err)
	}
	return resp.StatusCode, resp.Header, env
}

func list(prefix string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = `"` + prefix + string(rune('a'+i%26)) + `"`
	}
	return "[" + strings.Join(items, ",") + "]"
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   int
	}{
		{"files", `{"files":["https://www.example.com/a"]}`, 200, 0},
		{"files with headers", `{"files":[{"url":"https://www.example.com/a","headers":{"CF-IPCountry":"US"}}]}`, 200, 0},
		{"everything", `{"purge_everything":true}`, 200, 0},
		{"everything false", `{"purge_everything":false}`, 400, CodeNoTarget},
		{"two shapes", `{"purge_everything":true,"files":["https://www.example.com/a"]}`, 400, CodeNoTarget},
		{"no shape", `{}`, 400, CodeNoTarget},
		{"empty files", `{"files":[]}`, 400, CodeNoTarget},
		{"outside zone", `{"files":["https://blog.example.org/a"]}`, 400, CodeNotInZone},
		{"too many files", `{"files":` + list("https://www.example.com/", 101) + `}`, 400, CodeTooManyFiles},
		{"too many tags", `{"tags":` + list("t", 101) + `}`, 400, CodeTooManyTags},
		{"too many hosts", `{"hosts":` + list("www.example.com", 101) + `}`, 400, CodeTooManyHosts},
		{"prefix with scheme", `{"prefixes":["https://www.example.com/a"]}`, 400, CodeBadPrefix},
		{"prefix", `{"prefixes":["www.example.com/a/"]}`, 200, 0},
		{"not json", `files=a`, 400, CodeNoTarget},
		{"files mixing forms", `{"files":[{"url":"https://www.example.com/a","headers":{"CF-IPCountry":"US"}},"https://www.example.com/b"]}`, 400, CodeNoTarget},
		{"headers not an object", `{"files":[{"url":"https://www.example.com/a","headers":"CF-IPCountry: US"}]}`, 400, CodeNoTarget},
		{"header value not a string", `{"files":[{"url":"https://www.example.com/a","headers":{"CF-IPCountry":1}}]}`, 400, CodeNoTarget},
		{"file object with another key", `{"files":[{"url":"https://www.example.com/a","header":{"CF-IPCountry":"US"}}]}`, 400, CodeNoTarget},
		{"file object without url", `{"files":[{"headers":{"CF-IPCountry":"US"}}]}`, 400, CodeNoTarget},
	}
	schema, err := LoadSchema(SchemaFile())
	if err != nil {
		t.Fatal(err)
	}
	// The fake's own checks refuse what the API refuses; with the
	// published schema checked as well, every answer is the same.
	for _, tt := range tests {
		for _, sch := range []*Schema{nil, schema} {
			t.Run(fmt.Sprintf("%s/schema=%v", tt.name, sch != nil), func(t *testing.T) {
				srv := NewServer(Options{ZoneID: zone, Token: token, Hosts: []string{"www.example.com"}, Schema: sch})
				defer srv.Close()
				checkAnswer(t, srv, tt.body, tt.wantStatus, tt.wantCode)
			})
		}
	}
}

// TestSchemaCatchesWrongFileShapes: the published schema, applied to the
// shape a body names, refuses files with headers that are not objects and
// files mixing URLs and objects, which the operation's anyOf alone accepts.
func TestSchemaCatchesWrongFileShapes(t *testing.T) {
	schema, err := LoadSchema(SchemaFile())
	if err != nil {
		t.Fatal(err)
	}
	for body, wantOK := range map[string]bool{
		`{"files":[{"url":"https://www.example.com/a","headers":{"CF-Device-Type":"mobile"}}]}`:                   true,
		`{"files":["https://www.example.com/a"]}`:                                                                 true,
		`{"files":[{"url":"https://www.example.com/a","headers":"CF-Device-Type: mobile"}]}`:                      false,
		`{"files":[{"url":"https://www.example.com/a","headers":{"CF-Device-Type":"mobile"}},"https://x.test/"]}`: false,
		`{"tags":"blog"}`: false,
	} {
		if err := schema.CheckRequest([]byte(body)); (err == nil) != wantOK {
			t.Errorf("CheckRequest(%s) = %v, want ok %v", body, err, wantOK)
		}
	}
}

func checkAnswer(t *testing.T, srv *Server, body string, wantStatus, wantCode int) {
	t.Helper()
	status, _, env := post(t, srv, body)
	if status != wantStatus {
		t.Errorf("status = %d, want %d (%+v)", status, wantStatus, env)
	}
	if wantCode == 0 {
		if !env.Success || len(env.Errors) != 0 {
			t.Errorf("envelope = %+v, want success", env)
		}
		return
	}
	if env.Success || len(env.Errors) == 0 || env.Errors[0].Code != wantCode {
		t.Errorf("envelope = %+v, want failure with code %d", env, wantCode)
	}
}

func TestRateLimit(t *testing.T) {
	srv := NewServer(Options{ZoneID: zone, Token: token, Rate: 1, Burst: 2})
	defer srv.Close()
	var statuses []int
	var retryAfter string
	for range 3 {
		status, h, _ := post(t, srv, `{"purge_everything":true}`)
		statuses = append(statuses, status)
		if status == http.StatusTooManyRequests {
			retryAfter = h.Get("Retry-After")
		}
	}
	if got, want := statuses, []int{200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if retryAfter != "1" {
		t.Errorf("Retry-After = %q, want %q", retryAfter, "1")
	}
	if got, want := srv.Counts().RateLimited, 1; got != want {
		t.Errorf("RateLimited = %d, want %d", got, want)
	}
}

func TestRandomFaultsAreSeeded(t *testing.T) {
	run := func() []int {
		srv := NewServer(Options{ZoneID: zone, Token: token, Faults: cdnfake.Faults{RandomFraction: 0.5, RandomSeed: 7}})
		defer srv.Close()
		var out []int
		for range 20 {
			status, _, _ := post(t, srv, `{"purge_everything":true}`)
			out = append(out, status)
		}
		return out
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Errorf("same seed gave %v and %v", a, b)
	}
	faults := 0
	for _, s := range a {
		if s != 200 {
			faults++
		}
	}
	if faults < 4 || faults > 16 {
		t.Errorf("%d of 20 requests faulted, want about half", faults)
	}
}

func TestRecordHidesToken(t *testing.T) {
	srv := NewServer(Options{ZoneID: zone, Token: token})
	defer srv.Close()
	start := time.Now()
	post(t, srv, `{"tags":["a","b"]}`)
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("recorded %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if got, want := r.Header.Get("Authorization"), "REDACTED"; got != want {
		t.Errorf("recorded Authorization = %q, want %q", got, want)
	}
	if r.Kind != "tag" || r.Items != 2 || r.Time.Before(start) {
		t.Errorf("recorded %+v, want a tag purge of 2 items", r)
	}
}
