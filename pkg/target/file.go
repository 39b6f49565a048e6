package target

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
)

// maxLine is the longest line a targets file may have.
const maxLine = 1 << 20

// Open opens a targets file by name; "-" is stdin, which closing leaves open.
func Open(name string, stdin io.Reader) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(stdin), nil
	}
	return os.Open(name)
}

// LineError is a problem with one line of a targets file.
type LineError struct {
	// Line is the 1-based line number.
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Scanner reads a targets file one target at a time, so a file of any
// length costs the memory of one line. The rules: a byte order mark at the
// start is dropped; lines end with LF or CRLF; whitespace around a target is
// trimmed; blank lines and lines starting with "#" are skipped; a line with
// whitespace inside is refused, since it holds more than one target or a
// target with a stray space, and either would be a different URL than meant.
type Scanner struct {
	sc   *bufio.Scanner
	line int
	text string
	err  error
}

// NewScanner returns a Scanner reading from r.
func NewScanner(r io.Reader) *Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	return &Scanner{sc: sc}
}

// Scan advances to the next target. It returns false at the end of the
// input or on an error, which Err then returns.
func (s *Scanner) Scan() bool {
	s.text = ""
	if s.err != nil {
		return false
	}
	for s.sc.Scan() {
		s.line++
		text := s.sc.Text()
		if s.line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if strings.ContainsFunc(text, unicode.IsSpace) {
			s.err = &LineError{Line: s.line, Err: fmt.Errorf("%q contains whitespace (expected one URL or path per line)", text)}
			return false
		}
		s.text = text
		return true
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("longer than %d bytes (expected one URL or path per line)", maxLine)
		}
		s.err = &LineError{Line: s.line + 1, Err: err}
	}
	return false
}

// Text is the current target, trimmed.
func (s *Scanner) Text() string { return s.text }

// Line is the current target's line number.
func (s *Scanner) Line() int { return s.line }

// Err is the first error met, a *LineError, or nil at the end of the input.
func (s *Scanner) Err() error { return s.err }
