// Package edgegrid signs requests to Akamai's APIs with EdgeGrid
// (EG1-HMAC-SHA256), checks such signatures, and reads the credentials
// from an .edgerc file.
//
// A signature covers the method, scheme, host, path and query, the
// headers named for signing, a hash of a POST body and the authorization
// header itself, which carries a time stamp and a nonce. The nonce is
// used once: every attempt of a request, retries included, is signed
// afresh.
package edgegrid

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/secret"
)

// Scheme names the signing algorithm in the Authorization header.
const Scheme = "EG1-HMAC-SHA256"

// TimeFormat is the layout of an EdgeGrid time stamp, always in UTC.
const TimeFormat = "20060102T15:04:05-0700"

// DefaultMaxBody is how many bytes of a body are hashed when the
// credentials do not say (Akamai's clients' default).
const DefaultMaxBody = 131072

// Credentials are one API client's, as an .edgerc section holds them.
type Credentials struct {
	// Host is the API host name (akab-….luna.akamaiapis.net).
	Host         string
	ClientToken  secret.Value
	ClientSecret secret.Value
	AccessToken  secret.Value
	// MaxBody is how many bytes of a POST body the signature hashes;
	// 0 means DefaultMaxBody.
	MaxBody int
}

// Signer sets EdgeGrid Authorization headers.
type Signer struct {
	Credentials
	// HeadersToSign are the request headers the signature covers, in
	// this order; Akamai's purge API signs none.
	HeadersToSign []string
	// Now and Nonce give the time stamp and the nonce of a signature;
	// nil uses the clock and a random UUID.
	Now   func() time.Time
	Nonce func() string
}

// Sign sets req's Authorization header for body, the request's body,
// with a new time stamp and nonce.
func (s *Signer) Sign(req *http.Request, body []byte) {
	now, nonce := time.Now, NewNonce
	if s.Now != nil {
		now = s.Now
	}
	if s.Nonce != nil {
		nonce = s.Nonce
	}
	a := Auth{ClientToken: s.ClientToken.Reveal(), AccessToken: s.AccessToken.Reveal(), Timestamp: now().UTC().Format(TimeFormat), Nonce: nonce()}
	a.Signature = signature(s.Credentials, s.HeadersToSign, req, body, a)
	req.Header.Set("Authorization", a.String())
}

// Auth is a parsed Authorization header.
type Auth struct {
	ClientToken, AccessToken string
	// Timestamp is in TimeFormat; Nonce is used once.
	Timestamp, Nonce string
	Signature        string
}

// prefix is the header up to the signature: what the signature covers.
func (a Auth) prefix() string {
	return fmt.Sprintf("%s client_token=%s;access_token=%s;timestamp=%s;nonce=%s;", Scheme, a.ClientToken, a.AccessToken, a.Timestamp, a.Nonce)
}

// String is the Authorization header value.
func (a Auth) String() string { return a.prefix() + "signature=" + a.Signature }

// ParseAuthorization reads an EdgeGrid Authorization header value.
func ParseAuthorization(v string) (Auth, error) {
	rest, ok := strings.CutPrefix(v, Scheme+" ")
	if !ok {
		return Auth{}, fmt.Errorf("edgegrid: not an %s authorization", Scheme)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ";") {
		if k, val, ok := strings.Cut(part, "="); ok {
			fields[k] = val
		}
	}
	a := Auth{ClientToken: fields["client_token"], AccessToken: fields["access_token"], Timestamp: fields["timestamp"], Nonce: fields["nonce"], Signature: fields["signature"]}
	if a.ClientToken == "" || a.AccessToken == "" || a.Timestamp == "" || a.Nonce == "" || a.Signature == "" {
		return Auth{}, errors.New("edgegrid: authorization lacks client_token, access_token, timestamp, nonce or signature")
	}
	return a, nil
}

// Verify checks the Authorization header of req, a request as a server
// received it with body, against creds: the tokens and the signature.
// The caller checks the time stamp's age and that the nonce is new.
func Verify(req *http.Request, body []byte, creds Credentials, headersToSign []string) (Auth, error) {
	a, err := ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		return a, err
	}
	if a.ClientToken != creds.ClientToken.Reveal() || a.AccessToken != creds.AccessToken.Reveal() {
		return a, errors.New("edgegrid: unknown client_token or access_token")
	}
	if _, err := time.Parse(TimeFormat, a.Timestamp); err != nil {
		return a, fmt.Errorf("edgegrid: time stamp %q is not in the form %s", a.Timestamp, TimeFormat)
	}
	want := signature(creds, headersToSign, req, body, a)
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return a, errors.New("edgegrid: the signature does not match the request")
	}
	return a, nil
}

// signature is the signature of req with body under the header a
// (without its signature).
func signature(c Credentials, headersToSign []string, req *http.Request, body []byte, a Auth) string {
	key := hmacBase64(c.ClientSecret.Reveal(), a.Timestamp)
	return hmacBase64(key, DataToSign(req, body, a.prefix(), headersToSign, c.MaxBody))
}

// DataToSign is what a signature covers, tab-separated: the method, the
// scheme, the host, the path with its query, the signed headers, the
// body's hash and the authorization header without its signature.
func DataToSign(req *http.Request, body []byte, authPrefix string, headersToSign []string, maxBody int) string {
	scheme, host := req.URL.Scheme, req.URL.Host
	if scheme == "" { // as a server sees a request
		scheme = "http"
		if req.TLS != nil {
			scheme = "https"
		}
	}
	if host == "" {
		host = req.Host
	}
	return strings.Join([]string{
		req.Method, scheme, host, pathAndQuery(req.URL),
		canonicalHeaders(req.Header, headersToSign), contentHash(req.Method, body, maxBody), authPrefix,
	}, "\t")
}

func pathAndQuery(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// canonicalHeaders lists the headers to sign that the request has:
// lower-case names, values with white space trimmed and runs of it
// collapsed to one space, separated by tabs.
func canonicalHeaders(h http.Header, names []string) string {
	var out []string
	for _, name := range names {
		v := h.Get(name)
		if v == "" {
			continue
		}
		out = append(out, strings.ToLower(name)+":"+strings.Join(strings.Fields(v), " "))
	}
	return strings.Join(out, "\t")
}

// contentHash is the base64 SHA-256 of the first maxBody bytes of a POST
// body; empty for other methods and for an empty body.
func contentHash(method string, body []byte, maxBody int) string {
	if method != http.MethodPost || len(body) == 0 {
		return ""
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	sum := sha256.Sum256(body[:min(len(body), maxBody)])
	return base64.StdEncoding.EncodeToString(sum[:])
}

func hmacBase64(key, data string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// NewNonce is a random UUID (version 4), as Akamai's clients send.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
