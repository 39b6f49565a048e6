package stale

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// DefaultLineLimit is the longest line the ignore patterns see whole; a longer
// line is matched in pieces of this size.
const DefaultLineLimit = 1 << 20

// normalizer removes the matches of the ignore patterns from a body, line by
// line, as the body streams through.
type normalizer struct {
	patterns  []*regexp.Regexp
	lineLimit int
}

// compilePatterns compiles the ignore patterns (RE2 syntax), naming the first
// one that does not compile.
func compilePatterns(exprs []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, len(exprs))
	for i, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("ignore pattern %d %q: %w", i+1, e, err)
		}
		out[i] = re
	}
	return out, nil
}

// copy writes r to w with every pattern's matches removed and returns how
// many non-empty matches each pattern removed. Patterns see one line at a
// time, without its "\n"; a line longer than lineLimit is cut into pieces of
// lineLimit bytes and each piece is matched on its own. Without patterns the
// body passes through untouched.
func (n normalizer) copy(w io.Writer, r io.Reader) ([]int, error) {
	counts := make([]int, len(n.patterns))
	if len(n.patterns) == 0 {
		_, err := io.Copy(w, r)
		return counts, err
	}
	br := bufio.NewReaderSize(r, n.lineLimit)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if werr := n.writeLine(w, line, counts); werr != nil {
				return counts, werr
			}
		}
		switch {
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return counts, nil
		default:
			return counts, err
		}
	}
}

// writeLine writes one line (or piece of a long line) with the matches
// removed, counting them in counts.
func (n normalizer) writeLine(w io.Writer, line []byte, counts []int) error {
	content, nl := line, []byte(nil)
	if bytes.HasSuffix(line, []byte("\n")) {
		content, nl = line[:len(line)-1], line[len(line)-1:]
	}
	for i, re := range n.patterns {
		if !re.Match(content) {
			continue
		}
		content = re.ReplaceAllFunc(content, func(m []byte) []byte {
			if len(m) > 0 {
				counts[i]++
			}
			return nil
		})
	}
	if _, err := w.Write(content); err != nil {
		return err
	}
	_, err := w.Write(nl)
	return err
}
