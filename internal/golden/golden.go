// Package golden compares test output with files under testdata/ and
// rewrites them when tests run with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/textdiff"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// Check compares got with testdata/NAME.golden, printing a line diff on
// mismatch. Under -update it writes got to the file instead.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test -update rewrites it):\n%s", path, diff(string(want), string(got)))
	}
}

// diff shows want and got line by line: "-" lines only in want, "+" lines
// only in got, "  " lines in both.
func diff(want, got string) string {
	var out strings.Builder
	for _, l := range textdiff.Align(textdiff.SplitLines(want), textdiff.SplitLines(got)) {
		out.WriteString(string(l.Kind) + " " + l.Text + "\n")
	}
	return out.String()
}

// Updating reports whether tests run with -update: a test that writes
// files other than golden files (screenshots) rewrites them only then.
func Updating() bool { return *update }
