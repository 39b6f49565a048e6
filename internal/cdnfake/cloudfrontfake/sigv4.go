package cloudfrontfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// MaxSkew is how far a request's X-Amz-Date may be from the fake's clock,
// as AWS allows.
const MaxSkew = 15 * time.Minute

// sigv4 is an Authorization header taken apart.
type sigv4 struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/
// SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthorization(h string) (sigv4, bool) {
	var s sigv4
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return s, false
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return s, false
		}
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return s, false
	}
	s.keyID, s.date, s.region, s.service = scope[0], scope[1], scope[2], scope[3]
	s.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	s.signature = fields["Signature"]
	return s, true
}

// authenticate checks r's Signature Version 4 the way AWS does: the key,
// the scope, the time, the session token, then the signature recomputed
// over the headers the client signed and the body. It answers nil when
// the request is the key holder's.
func (f *Fake) authenticate(r *http.Request, body []byte) *apiError {
	forbidden := func(code, msg string) *apiError { return &apiError{http.StatusForbidden, code, msg} }
	h := r.Header.Get("Authorization")
	if h == "" {
		return forbidden("MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	sig, ok := parseAuthorization(h)
	if !ok {
		return &apiError{http.StatusBadRequest, "IncompleteSignature", "Authorization header requires Credential, SignedHeaders and Signature."}
	}
	creds := f.opts.Credentials
	if sig.keyID != creds.AccessKeyID || r.Header.Get("X-Amz-Security-Token") != creds.SessionToken {
		return forbidden("InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	switch {
	case err != nil || sig.date != at.Format("20060102"):
		return forbidden("SignatureDoesNotMatch", "X-Amz-Date is missing or does not match the credential scope's date.")
	case sig.service != "cloudfront" || sig.region != Region:
		return forbidden("SignatureDoesNotMatch", "Credential should be scoped to a valid region and to service cloudfront, not "+sig.region+"/"+sig.service+".")
	case time.Since(at) > MaxSkew || time.Until(at) > MaxSkew:
		return forbidden("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	case creds.SessionToken != "" && !slices.Contains(sig.signedHeaders, "x-amz-security-token"):
		return forbidden("IncompleteSignature", "The session token must be signed.")
	}
	if want, ok := recompute(r, body, sig, creds, at); !ok || want != sig.signature {
		return forbidden("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// recompute signs a copy of r holding only the headers the client signed
// and returns the signature, the way the server side of AWS checks one.
func recompute(r *http.Request, body []byte, sig sigv4, creds Credentials, at time.Time) (string, bool) {
	c, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return "", false
	}
	c.Host = r.Host
	for _, name := range sig.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			c.ContentLength = r.ContentLength
		default:
			v := r.Header.Values(name)
			if len(v) == 0 {
				return "", false
			}
			c.Header[http.CanonicalHeaderKey(name)] = v
		}
	}
	sum := sha256.Sum256(body)
	key := aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), key, c, hex.EncodeToString(sum[:]), sig.service, sig.region, at); err != nil {
		return "", false
	}
	got, ok := parseAuthorization(c.Header.Get("Authorization"))
	if !ok || !slices.Equal(got.signedHeaders, sig.signedHeaders) {
		return "", false
	}
	return got.signature, true
}
