package stale

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// FuzzNormalize checks the streaming normalizer against a plain reading of
// its contract: the body split into lines (and long lines into pieces of the
// line limit), each piece's matches removed.
func FuzzNormalize(f *testing.F) {
	f.Add([]byte("<p>t=1</p>\n<p>t=2</p>"), `t=\d+`, 16)
	f.Add([]byte("a\r\nb\n\n"), `^$`, 16)
	f.Add([]byte(strings.Repeat("x", 40)+"\nyy"), `x+`, 17)
	f.Add([]byte("abc"), ``, 16)
	f.Fuzz(func(t *testing.T, body []byte, expr string, lineLimit int) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		lineLimit = 16 + abs(lineLimit)%64
		norm := normalizer{patterns: []*regexp.Regexp{re}, lineLimit: lineLimit}
		var got bytes.Buffer
		if _, err := norm.copy(&got, bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		if want := reference(body, re, lineLimit); got.String() != want {
			t.Errorf("normalized %q with %q (line limit %d) = %q, want %q", body, expr, lineLimit, got.String(), want)
		}
		var plain bytes.Buffer
		if _, err := (normalizer{lineLimit: lineLimit}).copy(&plain, bytes.NewReader(body)); err != nil || !bytes.Equal(plain.Bytes(), body) {
			t.Errorf("without patterns %q became %q (%v)", body, plain.Bytes(), err)
		}
	})
}

func reference(body []byte, re *regexp.Regexp, lineLimit int) string {
	var out strings.Builder
	for len(body) > 0 {
		n := bytes.IndexByte(body, '\n') + 1
		if n == 0 {
			n = len(body)
		}
		nl := body[n-1] == '\n'
		if n > lineLimit {
			n, nl = lineLimit, false
		}
		piece := body[:n]
		if nl {
			piece = piece[:n-1]
		}
		out.Write(re.ReplaceAll(piece, nil))
		if nl {
			out.WriteByte('\n')
		}
		body = body[n:]
	}
	return out.String()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// FuzzParseETag: a value parseETag accepts formats back to itself, keeps
// its quotes, and parses the same again.
func FuzzParseETag(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc"`, `w/""`, `abc`, `"a"b"`, ` W/"x" `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, ok := parseETag(s)
		if !ok {
			return
		}
		if len(tag.opaque) < 2 || tag.opaque[0] != '"' || tag.opaque[len(tag.opaque)-1] != '"' {
			t.Fatalf("parseETag(%q) opaque = %q, want a quoted tag", s, tag.opaque)
		}
		again, ok := parseETag(tag.String())
		if !ok || again != tag {
			t.Errorf("parseETag(%q) = %+v, which formats as %q and parses as %+v, %v", s, tag, tag.String(), again, ok)
		}
	})
}
