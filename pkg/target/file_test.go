package target

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readTargets reads a targets file the way purge does: paths against a base
// URL, every URL canonical.
func readTargets(r io.Reader) ([]string, error) {
	p := &Pipeline{Env: &Env{BaseURL: "https://www.example.com"}, Canonical: true}
	var out []string
	for t, err := range p.Read(r) {
		if err != nil {
			return nil, err
		}
		out = append(out, t.Given)
	}
	return out, nil
}

func TestReadTargetsFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{
			name: "comments blanks and crlf",
			in:   "\ufeff# changed pages\r\n/blog/post-1\r\n\r\n  https://www.example.com/about  \n#/skipped\n",
			want: []string{"/blog/post-1", "https://www.example.com/about"},
		},
		{name: "empty", in: "", want: nil},
		{name: "two on a line", in: "/a\n/b /c\n", wantErr: "line 2:"},
		{name: "not a url", in: "# x\n\nwww.example.com/a\n", wantErr: "line 3:"},
		{name: "bad url", in: "/a\nftp://x/y\n", wantErr: "line 2: \"ftp://x/y\" is not an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readTargets(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readTargets() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("readTargets() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestScanner(t *testing.T) {
	type line struct {
		n    int
		text string
	}
	tests := []struct {
		name     string
		in       string
		want     []line
		wantLine int // of the error; 0 for none
	}{
		{name: "bom only at the start", in: "\ufeff/a\n\ufeff/b\n", want: []line{{1, "/a"}, {2, "\ufeff/b"}}},
		{name: "crlf and no final newline", in: "/a\r\n\r\n/b", want: []line{{1, "/a"}, {3, "/b"}}},
		{name: "indented comment", in: "  # note\n\t/a\t\n", want: []line{{2, "/a"}}},
		{name: "comment after a target", in: "/a\n/b # note\n", want: []line{{1, "/a"}}, wantLine: 2},
		{name: "tab inside", in: "/a\t/b\n", wantLine: 1},
		{name: "no-break space inside", in: "/a\u00a0b\n", wantLine: 1},
		{name: "lone CR inside", in: "/a\r/b\n", wantLine: 1},
		{name: "too long", in: "/a\n/" + strings.Repeat("x", maxLine) + "\n", want: []line{{1, "/a"}}, wantLine: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := NewScanner(strings.NewReader(tt.in))
			var got []line
			for sc.Scan() {
				got = append(got, line{sc.Line(), sc.Text()})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines = %v, want %v", got, tt.want)
			}
			err := sc.Err()
			var le *LineError
			switch {
			case tt.wantLine == 0 && err != nil:
				t.Errorf("Err() = %v, want nil", err)
			case tt.wantLine != 0 && (!errors.As(err, &le) || le.Line != tt.wantLine):
				t.Errorf("Err() = %v, want a *LineError for line %d", err, tt.wantLine)
			case tt.wantLine != 0 && !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: ", tt.wantLine)):
				t.Errorf("Err() = %q, want it to start with the line number", err)
			}
			if sc.Scan() {
				t.Error("Scan() after the end returned true")
			}
		})
	}
}

// FuzzScanner: whatever the input, every target is one trimmed word that
// is neither blank nor a comment, line numbers increase, and an error names
// a line.
func FuzzScanner(f *testing.F) {
	f.Add("# changed\n/blog/post-1\nhttps://www.example.com/a?x=1\n")
	f.Add("\ufeff/a\r\n\r\n#c\n")
	f.Add("/a /b\n")
	f.Add("/a\r/b\n\x00\n")
	f.Fuzz(func(t *testing.T, in string) {
		sc := NewScanner(strings.NewReader(in))
		last := 0
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") || strings.ContainsAny(line, " \t\r\n") {
				t.Fatalf("Scanner(%q) returned %q", in, line)
			}
			if sc.Line() <= last {
				t.Fatalf("Scanner(%q): line %d after line %d", in, sc.Line(), last)
			}
			last = sc.Line()
		}
		if err := sc.Err(); err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line <= last {
				t.Fatalf("Scanner(%q) error %v names no line after %d", in, err, last)
			}
		}
	})
}

func TestPipelineCheck(t *testing.T) {
	env := &Env{Name: "production", BaseURL: "https://www.example.com"}
	p := &Pipeline{Env: env, Check: func(u string) error {
		if !env.Allows(u) {
			return fmt.Errorf("%s is outside environment %q", u, env.Name)
		}
		return nil
	}}
	if u, err := p.URL("/a#x"); err != nil || u != "https://www.example.com/a" {
		t.Errorf("URL(/a) = %q, %v", u, err)
	}
	if _, err := p.URL("https://other.example/a"); err == nil || !strings.Contains(err.Error(), "outside environment") {
		t.Errorf("URL(other host) error = %v, want the check's", err)
	}
	var got []Target
	var err error
	for tg, e := range p.Read(strings.NewReader("/a\n# next one is elsewhere\n\nhttps://other.example/b\n/c\n")) {
		if e != nil {
			err = e
			break
		}
		got = append(got, tg)
	}
	want := []Target{{Given: "/a", URL: "https://www.example.com/a", Line: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read() yielded %+v, want %+v", got, want)
	}
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 || !strings.Contains(err.Error(), "line 4: https://other.example/b is outside environment") {
		t.Errorf("Read() error = %v, want the check's, on line 4", err)
	}
}

func TestOpen(t *testing.T) {
	stdin := strings.NewReader("/from-stdin\n")
	r, err := Open("-", stdin)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if err := r.Close(); err != nil || string(b) != "/from-stdin\n" {
		t.Errorf("Open(-) read %q, close %v", b, err)
	}
	path := filepath.Join(t.TempDir(), "urls.txt")
	if err := os.WriteFile(path, []byte("/a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = Open(path, stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, _ := io.ReadAll(r); string(b) != "/a\n" {
		t.Errorf("Open(file) read %q", b)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing"), stdin); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) error = %v, want ErrNotExist", err)
	}
}
