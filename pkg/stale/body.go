package stale

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// bodySum is what reading one body left behind.
type bodySum struct {
	// sha256 is the hex hash of the decoded, normalized body; empty when the
	// body is not comparable.
	sha256 string
	// notComparable says why the body cannot be compared; empty when it can.
	notComparable string
	// matches counts the matches each ignore pattern removed.
	matches []int
}

// errOverLimit ends a read that went past the body limit.
var errOverLimit = errors.New("body over the limit")

// limitReader reads at most limit bytes and fails with errOverLimit after
// that. It keeps the underlying reader's own failure apart, so a connection
// that broke is told from a body that does not decode.
type limitReader struct {
	r     io.Reader
	limit int64
	n     int64
	err   error // the underlying reader's error, other than io.EOF
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		// One more byte tells a body of exactly limit bytes from a longer one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errOverLimit
		}
		return 0, l.keep(err)
	}
	if rest := l.limit - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, l.keep(err)
}

func (l *limitReader) keep(err error) error {
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return err
}

// readBody decodes body by its Content-Encoding, removes what the normalizer
// ignores and hashes the rest, holding no more than a line of it. The error
// is the connection's failure; a body that cannot be decoded or is larger
// than limit (before or after decoding) is not comparable, not an error.
// The error is returned as the connection gave it, for the caller to describe.
func readBody(body io.Reader, encoding string, limit int64, norm normalizer) (bodySum, error) {
	raw := &limitReader{r: body, limit: limit}
	dec, err := decoder(encoding, raw)
	if err == nil {
		decoded := &limitReader{r: dec, limit: limit}
		hash := sha256.New()
		var matches []int
		matches, err = norm.copy(hash, decoded)
		if err == nil {
			return bodySum{sha256: hex.EncodeToString(hash.Sum(nil)), matches: matches}, nil
		}
	}
	switch {
	case raw.err != nil:
		return bodySum{}, raw.err
	case errors.Is(err, errOverLimit):
		return bodySum{notComparable: fmt.Sprintf("body over %d bytes", limit)}, nil
	case errors.Is(err, errUnsupportedEncoding):
		return bodySum{notComparable: err.Error()}, nil
	}
	return bodySum{notComparable: fmt.Sprintf("content-encoding %s: %v", encoding, err)}, nil
}

// errUnsupportedEncoding is a Content-Encoding this package does not decode.
var errUnsupportedEncoding = errors.New("content-encoding not decoded")

// decoder returns a reader of the decoded body for one content coding:
// identity, gzip (x-gzip) and deflate, which is zlib-wrapped by the standard
// but sent raw by some servers.
func decoder(encoding string, r io.Reader) (io.Reader, error) {
	switch e := strings.ToLower(strings.TrimSpace(encoding)); e {
	case "", "identity":
		return r, nil
	case "gzip", "x-gzip":
		return gzip.NewReader(r)
	case "deflate":
		br := bufio.NewReader(r)
		if head, err := br.Peek(2); err == nil && isZlibHeader(head) {
			return zlib.NewReader(br)
		}
		return flate.NewReader(br), nil
	default:
		return nil, fmt.Errorf("%w: %s", errUnsupportedEncoding, e)
	}
}

// isZlibHeader reports whether b starts a zlib stream (RFC 1950): method 8
// (deflate) and a header checksum that divides by 31.
func isZlibHeader(b []byte) bool {
	return b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}
