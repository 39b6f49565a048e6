package edgegrid

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/secret"
)

// vectorConfig is a vector set's testdata.json: the credentials, time
// stamp and nonce every case of the set is signed with. The layout is
// the one Akamai's EdgeGrid client libraries ship their vectors in, so
// their files run here unchanged beside ours.
type vectorConfig struct {
	BaseURL       string   `json:"base_url"`
	ClientToken   string   `json:"client_token"`
	ClientSecret  string   `json:"client_secret"`
	AccessToken   string   `json:"access_token"`
	MaxBody       int      `json:"max_body"`
	HeadersToSign []string `json:"headers_to_sign"`
	Nonce         string   `json:"nonce"`
	Timestamp     string   `json:"timestamp"`
}

// vectorCase is one case of a set's testcases.json.
type vectorCase struct {
	Name    string `json:"testName"`
	Request struct {
		Method  string              `json:"method"`
		Path    string              `json:"path"`
		Data    string              `json:"data"`
		Headers []map[string]string `json:"headers"`
	} `json:"request"`
	SigningKey            string `json:"signingKey"`
	ExpectedDataToSign    string `json:"expectedDataToSign"`
	ExpectedAuthorization string `json:"expectedAuthorization"`
	// FailsWithMessage marks a case a client must refuse to sign.
	FailsWithMessage string `json:"failsWithMessage"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestVectors signs every case of every set under testdata/vectors and
// compares the data to sign, the signing key and the Authorization header
// byte for byte.
func TestVectors(t *testing.T) {
	sets, err := filepath.Glob(filepath.Join("testdata", "vectors", "*", "testcases.json"))
	if err != nil || len(sets) == 0 {
		t.Fatalf("no vector sets under testdata/vectors (%v)", err)
	}
	for _, cases := range sets {
		dir := filepath.Dir(cases)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var cfg vectorConfig
			var tcs []vectorCase
			readJSON(t, filepath.Join(dir, "testdata.json"), &cfg)
			readJSON(t, cases, &tcs)
			for _, tc := range tcs {
				t.Run(tc.Name, func(t *testing.T) { checkVector(t, cfg, tc) })
			}
		})
	}
}

func checkVector(t *testing.T, cfg vectorConfig, tc vectorCase) {
	if tc.FailsWithMessage != "" {
		t.Skipf("a case the signer must refuse (%s); purge requests sign no headers", tc.FailsWithMessage)
	}
	var body []byte
	if tc.Request.Data != "" {
		body = []byte(tc.Request.Data)
	}
	req := httptest.NewRequest(tc.Request.Method, strings.TrimSuffix(cfg.BaseURL, "/")+tc.Request.Path, bytes.NewReader(body))
	for _, h := range tc.Request.Headers {
		for k, v := range h {
			if k != "Host" {
				req.Header.Set(k, v)
			}
		}
	}
	at, err := time.Parse(TimeFormat, cfg.Timestamp)
	if err != nil {
		t.Fatal(err)
	}
	s := &Signer{
		Credentials:   Credentials{ClientToken: secret.Value(cfg.ClientToken), ClientSecret: secret.Value(cfg.ClientSecret), AccessToken: secret.Value(cfg.AccessToken), MaxBody: cfg.MaxBody},
		HeadersToSign: cfg.HeadersToSign,
		Now:           func() time.Time { return at },
		Nonce:         func() string { return cfg.Nonce },
	}
	s.Sign(req, body)
	a, err := ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	if tc.ExpectedDataToSign != "" {
		// The vectors give the data to sign without its last field, the
		// authorization header, which the Authorization check covers.
		got := strings.TrimSuffix(DataToSign(req, body, a.prefix(), cfg.HeadersToSign, cfg.MaxBody), a.prefix())
		if got != tc.ExpectedDataToSign {
			t.Errorf("data to sign\n got %q\nwant %q", got, tc.ExpectedDataToSign)
		}
	}
	if tc.SigningKey != "" {
		if got := hmacBase64(cfg.ClientSecret, cfg.Timestamp); got != tc.SigningKey {
			t.Errorf("signing key = %s, want %s", got, tc.SigningKey)
		}
	}
	if got := req.Header.Get("Authorization"); got != tc.ExpectedAuthorization {
		t.Errorf("Authorization\n got %s\nwant %s", got, tc.ExpectedAuthorization)
	}
}

var testCreds = Credentials{Host: "akab-h.luna.akamaiapis.net", ClientToken: "akab-client-0123456789", ClientSecret: "secret-0123456789abcdef=", AccessToken: "akab-access-0123456789"}

// TestVerifyWhatWasSigned: a server checks a signature over the request
// as it arrived; any change to what the signature covers, or another
// secret, fails it.
func TestVerifyWhatWasSigned(t *testing.T) {
	body := []byte(`{"objects":["https://www.example.com/a"]}`)
	var got []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		creds := testCreds
		if r.URL.Query().Get("key") == "other" {
			creds.ClientSecret = "another-secret-0123456789="
		}
		_, err := Verify(r, b, creds, nil)
		got = append(got, err)
	}))
	defer srv.Close()
	send := func(path string, sign, sent []byte) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(sent))
		if err != nil {
			t.Fatal(err)
		}
		(&Signer{Credentials: testCreds}).Sign(req, sign)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("/ccu/v3/invalidate/url/production", body, body)
	send("/ccu/v3/invalidate/url/production", body, append(body, ' '))
	send("/ccu/v3/invalidate/url/production?key=other", body, body)
	if got[0] != nil {
		t.Errorf("a signed request failed verification: %v", got[0])
	}
	for i, why := range []string{"a changed body", "another secret"} {
		if got[i+1] == nil {
			t.Errorf("%s passed verification", why)
		}
	}
}

func TestNewNonceIsARandomUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := NewNonce()
		if len(n) != 36 || n[14] != '4' || strings.Count(n, "-") != 4 || seen[n] {
			t.Fatalf("nonce %q: want a new version 4 UUID", n)
		}
		seen[n] = true
	}
}

func TestParseAuthorizationRefusesIncomplete(t *testing.T) {
	for _, v := range []string{"", "Bearer x", Scheme + " client_token=a;access_token=b;timestamp=c;nonce=d;"} {
		if _, err := ParseAuthorization(v); err == nil {
			t.Errorf("ParseAuthorization(%q) succeeded", v)
		}
	}
}
