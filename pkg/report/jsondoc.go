package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// jsonDoc writes one JSON document whose main array is streamed item by item
// and which ends with a summary object: {"k": v, ..., "items": [...], "summary": {...}}.
// The whole run is never held in memory.
type jsonDoc struct {
	w      io.Writer
	array  string
	fields []string // key, value pairs written before the array
	count  int
	opened bool
}

func newJSONDoc(w io.Writer, array string, fields ...string) *jsonDoc {
	return &jsonDoc{w: w, array: array, fields: fields}
}

func (d *jsonDoc) open() error {
	if d.opened {
		return nil
	}
	d.opened = true
	var b strings.Builder
	b.WriteString("{\n")
	for i := 0; i+1 < len(d.fields); i += 2 {
		k, _ := json.Marshal(d.fields[i])
		v, _ := json.Marshal(d.fields[i+1])
		fmt.Fprintf(&b, "  %s: %s,\n", k, v)
	}
	k, _ := json.Marshal(d.array)
	fmt.Fprintf(&b, "  %s: [", k)
	_, err := io.WriteString(d.w, b.String())
	return err
}

func (d *jsonDoc) item(v any) error {
	if err := d.open(); err != nil {
		return err
	}
	sep := ",\n    "
	if d.count == 0 {
		sep = "\n    "
	}
	d.count++
	// Encoded like the jsonl lines: no HTML escaping of <, > and &.
	var b strings.Builder
	b.WriteString(sep)
	if err := newEncoder(&b).Encode(v); err != nil {
		return err
	}
	_, err := io.WriteString(d.w, strings.TrimSuffix(b.String(), "\n"))
	return err
}

func (d *jsonDoc) close(summary any) error {
	if err := d.open(); err != nil {
		return err
	}
	if d.count > 0 {
		if _, err := io.WriteString(d.w, "\n  "); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(summary, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.w, "],\n  \"summary\": %s\n}\n", b)
	return err
}
