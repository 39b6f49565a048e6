package cloudfrontfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var creds = Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

// send signs a CreateInvalidation the way the SDK does, lets tamper
// change it after signing, and returns the fake's status and error code.
func send(t *testing.T, srv *Server, at time.Time, region string, tamper func(*http.Request)) (int, string) {
	t.Helper()
	body := `<InvalidationBatch xmlns="` + Namespace + `"><CallerReference>r1</CallerReference><Paths><Items><Path>/a</Path></Items><Quantity>1</Quantity></Paths></InvalidationBatch>`
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/"+APIVersion+"/distribution/EDFDVBD6EXAMPLE/invalidation", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/xml")
	sum := sha256.Sum256([]byte(body))
	key := aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), key, req, hex.EncodeToString(sum[:]), "cloudfront", region, at); err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	_, code, _ := strings.Cut(string(b), "<Code>")
	code, _, _ = strings.Cut(code, "</Code>")
	return resp.StatusCode, code
}

// TestSignatureChecked: the fake takes a request signed with its key, and
// refuses what AWS refuses, with AWS's codes.
func TestSignatureChecked(t *testing.T) {
	tests := []struct {
		name     string
		at       time.Time
		region   string
		tamper   func(*http.Request)
		status   int
		wantCode string
	}{
		{"signed", time.Now(), Region, nil, http.StatusCreated, ""},
		{"unsigned", time.Now(), Region, func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusForbidden, "MissingAuthenticationToken"},
		{"body changed after signing", time.Now(), Region, func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(readAll(r), "/a", "/b", 1)))
		}, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"signed header changed", time.Now(), Region, func(r *http.Request) { r.Header.Set("Content-Type", "text/xml") }, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"another region", time.Now(), "eu-west-1", nil, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"an hour old", time.Now().Add(-time.Hour), Region, nil, http.StatusForbidden, "RequestTimeTooSkewed"},
		{"garbled", time.Now(), Region, func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense") }, http.StatusBadRequest, "IncompleteSignature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewServer(Options{DistributionID: "EDFDVBD6EXAMPLE", Credentials: creds})
			defer srv.Close()
			status, code := send(t, srv, tt.at, tt.region, tt.tamper)
			if status != tt.status || code != tt.wantCode {
				t.Errorf("answer %d %q, want %d %q", status, code, tt.status, tt.wantCode)
			}
		})
	}
}

func readAll(r *http.Request) string {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return ""
	}
	return string(b)
}
