package secret

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/url"
	"strings"
	"sync"
)

// minScrubLen is the shortest secret scrubbed from text: shorter values
// would redact ordinary words and prove nothing.
const minScrubLen = 6

// Scrubber removes the secrets a run holds from text that came from
// elsewhere (an API's error body quoting the Authorization header, a
// server echoing the Cookie header) before it is printed, logged, journaled
// or written to a report. It is safe for concurrent use.
type Scrubber struct {
	mu      sync.RWMutex
	needles [][]byte
	longest int
}

// Add registers a secret; its raw, URL-escaped, query-escaped,
// JSON-escaped and HTML-escaped forms are all scrubbed. Values shorter than
// six bytes are not registered.
func (s *Scrubber) Add(v Value) {
	if s == nil || len(v) < minScrubLen {
		return
	}
	raw := v.Reveal()
	s.mu.Lock()
	defer s.mu.Unlock()
	quoted, _ := json.Marshal(raw)
	// html.EscapeString is also what encoding/xml writes for the five
	// characters it escapes (JUnit reports); html/template writes + as &#43;.
	escaped := html.EscapeString(raw)
	forms := []string{raw, url.QueryEscape(raw), url.PathEscape(raw), string(quoted[1 : len(quoted)-1]),
		escaped, strings.ReplaceAll(escaped, "+", "&#43;")}
	for _, form := range forms {
		if s.has(form) {
			continue
		}
		s.needles = append(s.needles, []byte(form))
		s.longest = max(s.longest, len(form))
	}
}

func (s *Scrubber) has(form string) bool {
	for _, n := range s.needles {
		if string(n) == form {
			return true
		}
	}
	return false
}

// Bytes returns b with every registered secret replaced by REDACTED. It
// returns b itself when nothing matched.
func (s *Scrubber) Bytes(b []byte) []byte {
	if s == nil {
		return b
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, n := range s.needles {
		if bytes.Contains(b, n) {
			b = bytes.ReplaceAll(b, n, []byte(Redacted))
		}
	}
	return b
}

// String is Bytes for strings.
func (s *Scrubber) String(text string) string {
	if s == nil {
		return text
	}
	return string(s.Bytes([]byte(text)))
}

// holdBack is how many trailing bytes of p could be the start of a
// registered secret, to be held until the next write completes or refutes it.
func (s *Scrubber) holdBack(p []byte) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k := min(len(p), s.longest-1); k > 0; k-- {
		tail := p[len(p)-k:]
		for _, n := range s.needles {
			if len(n) > k && bytes.HasPrefix(n, tail) {
				return k
			}
		}
	}
	return 0
}

// Writer scrubs everything written through it. A secret split across two
// writes is still caught: a trailing piece that could begin a secret is
// held back until the next write or Flush.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	s       *Scrubber
	pending []byte
}

// NewWriter returns a Writer that scrubs with s before writing to w.
func NewWriter(w io.Writer, s *Scrubber) *Writer { return &Writer{w: w, s: s} }

// Write scrubs p and writes it; it reports len(p) written on success.
// Nothing is copied when nothing is held back and no secret matches.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := p
	if len(w.pending) > 0 {
		buf = append(w.pending, p...)
	}
	buf = w.s.Bytes(buf)
	keep := w.s.holdBack(buf)
	if _, err := w.w.Write(buf[:len(buf)-keep]); err != nil {
		return 0, err
	}
	// Only now may pending's array, which buf may be, be reused: the
	// held-back tail moves to its front (copy handles the overlap).
	w.pending = append(w.pending[:0], buf[len(buf)-keep:]...)
	return len(p), nil
}

// Flush writes what is held back.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	_, err := w.w.Write(w.pending)
	w.pending = nil
	return err
}
