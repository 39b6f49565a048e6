package stale

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestReadBody(t *testing.T) {
	plain := strings.Repeat("0123456789", 10) // 100 bytes
	bomb := encode(t, "gzip", bytes.Repeat([]byte("a"), 10_000))
	tests := []struct {
		name              string
		body              []byte
		encoding          string
		limit             int64
		wantSum           string
		wantNotComparable string
	}{
		{name: "identity", body: []byte(plain), limit: 1000, wantSum: sum(plain)},
		{name: "exactly the limit", body: []byte(plain), limit: 100, wantSum: sum(plain)},
		{name: "one byte over", body: []byte(plain + "x"), limit: 100, wantNotComparable: "body over 100 bytes"},
		{name: "gzip", body: encode(t, "gzip", []byte(plain)), encoding: "gzip", limit: 1000, wantSum: sum(plain)},
		{name: "x-gzip", body: encode(t, "gzip", []byte(plain)), encoding: "x-gzip", limit: 1000, wantSum: sum(plain)},
		{name: "zlib deflate", body: encode(t, "deflate", []byte(plain)), encoding: "deflate", limit: 1000, wantSum: sum(plain)},
		{name: "raw deflate", body: encode(t, "rawdeflate", []byte(plain)), encoding: "Deflate", limit: 1000, wantSum: sum(plain)},
		{name: "small gzip that decodes past the limit", body: bomb, encoding: "gzip", limit: 1000, wantNotComparable: "body over 1000 bytes"},
		{name: "brotli is not decoded", body: []byte(plain), encoding: "br", limit: 1000, wantNotComparable: "content-encoding not decoded: br"},
		{name: "two codings are not decoded", body: []byte(plain), encoding: "gzip, br", limit: 1000, wantNotComparable: "content-encoding not decoded: gzip, br"},
		{name: "corrupt gzip", body: []byte("not gzip at all"), encoding: "gzip", limit: 1000, wantNotComparable: "content-encoding gzip: gzip: invalid header"},
		{name: "truncated gzip", body: encode(t, "gzip", []byte(plain))[:20], encoding: "gzip", limit: 1000, wantNotComparable: "content-encoding gzip: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBody(bytes.NewReader(tt.body), tt.encoding, tt.limit, normalizer{lineLimit: DefaultLineLimit})
			if err != nil {
				t.Fatal(err)
			}
			if got.sha256 != tt.wantSum || got.notComparable != tt.wantNotComparable {
				t.Errorf("readBody = %+v, want sum %s, not comparable %q", got, tt.wantSum, tt.wantNotComparable)
			}
		})
	}
}

// TestReadBodyConnectionError: a connection that breaks mid-body is an
// error, not a body that fails to decode.
func TestReadBodyConnectionError(t *testing.T) {
	broken := errors.New("connection reset by peer")
	gz := encode(t, "gzip", []byte(strings.Repeat("abc", 1000)))
	for _, enc := range []string{"", "gzip"} {
		r := io.MultiReader(bytes.NewReader(gz[:len(gz)/2]), iotest.ErrReader(broken))
		_, err := readBody(r, enc, 1<<20, normalizer{lineLimit: DefaultLineLimit})
		if !errors.Is(err, broken) {
			t.Errorf("encoding %q: err = %v, want %v", enc, err, broken)
		}
	}
}
