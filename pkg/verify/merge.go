package verify

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLine bounds one jsonl line when reading records back.
const MaxLine = 4 << 20

// Reader reads verify's jsonl output back, one record at a time.
type Reader struct {
	name string
	sc   *bufio.Scanner
	line int
}

// NewReader reads records from r; name labels errors (a file name).
func NewReader(name string, r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	return &Reader{name: name, sc: sc}
}

// Next returns the next record, or io.EOF after the last one. Blank lines
// are skipped; anything else that is not a record is an error naming the line.
func (r *Reader) Next() (Record, error) {
	for r.sc.Scan() {
		r.line++
		b := r.sc.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return Record{}, fmt.Errorf("%s:%d: not a verify record: %w (expected one JSON object per line, as written by cachectl verify -o jsonl)", r.name, r.line, err)
		}
		if rec.Route == "" || rec.Check == "" || rec.Variant == "" {
			return Record{}, fmt.Errorf("%s:%d: not a verify record: route, variant and check are required (expected the output of cachectl verify -o jsonl)", r.name, r.line)
		}
		return rec, nil
	}
	if err := r.sc.Err(); err != nil {
		return Record{}, fmt.Errorf("%s:%d: %w", r.name, r.line+1, err)
	}
	return Record{}, io.EOF
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Merge combines the outputs of sharded runs into one stream in route order.
// Each shard writes its routes in ascending index order, so a k-way merge on
// the index restores the order of a single run without holding more than one
// record per input. The records of one route stay together.
func Merge(readers []*Reader, emit func(Record) error) error {
	heads := make([]*Record, len(readers))
	advance := func(i int) error {
		rec, err := readers[i].Next()
		if errors.Is(err, io.EOF) {
			heads[i] = nil
			return nil
		}
		if err != nil {
			return err
		}
		heads[i] = &rec
		return nil
	}
	for i := range readers {
		if err := advance(i); err != nil {
			return err
		}
	}
	for {
		pick := -1
		for i, h := range heads {
			if h != nil && (pick < 0 || h.Index < heads[pick].Index) {
				pick = i
			}
		}
		if pick < 0 {
			return nil
		}
		index := heads[pick].Index
		for heads[pick] != nil && heads[pick].Index == index {
			if err := emit(*heads[pick]); err != nil {
				return err
			}
			if err := advance(pick); err != nil {
				return err
			}
		}
	}
}
