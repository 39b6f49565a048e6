package secret

import (
	"bytes"
	"encoding/xml"
	"html/template"
	"net/url"
	"strings"
	"testing"
)

const token = "cf-tok/en+7d1e0c9a5b"

func TestScrubberForms(t *testing.T) {
	s := &Scrubber{}
	s.Add(Value(token))
	s.Add(Value("abc")) // too short to scrub
	in := "401: Authorization: Bearer " + token + "; cookie=" + url.QueryEscape(token) + " path=" + url.PathEscape(token) + " abc"
	got := s.String(in)
	if strings.Contains(got, "7d1e0c9a5b") {
		t.Errorf("a form of the secret survived: %s", got)
	}
	if want := "401: Authorization: Bearer REDACTED; cookie=REDACTED path=REDACTED abc"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var nilScrubber *Scrubber
	if nilScrubber.String(in) != in {
		t.Error("a nil scrubber must pass text through")
	}
}

// TestScrubberMarkupForms: a secret with characters that markup escapes is
// still found in an HTML page (html/template escapes + too) and in XML.
func TestScrubberMarkupForms(t *testing.T) {
	const sec = `sess+8e4a<61f0&9d2c'"x`
	s := &Scrubber{}
	s.Add(Value(sec))
	var page strings.Builder
	tmpl := template.Must(template.New("").Parse(`<td>{{.}}</td><td title="{{.}}">x</td>`))
	if err := tmpl.Execute(&page, sec); err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	if err := xml.EscapeText(&doc, []byte(sec)); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"html/template": page.String(), "xml": doc.String()} {
		if got := s.String(text); strings.Contains(got, "8e4a") {
			t.Errorf("%s: a form of the secret survived: %s", name, got)
		}
	}
}

func TestWriterCatchesASecretSplitAcrossWrites(t *testing.T) {
	s := &Scrubber{}
	s.Add(Value(token))
	var out bytes.Buffer
	w := NewWriter(&out, s)
	text := "error: the API answered {\"message\":\"invalid token " + token + "\"}\n"
	for i := 0; i < len(text); i += 3 {
		if _, err := w.Write([]byte(text[i:min(i+3, len(text))])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(text, token, Redacted); out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestWriterHoldsBackOnlyAPossibleSecret(t *testing.T) {
	s := &Scrubber{}
	s.Add(Value(token))
	var out bytes.Buffer
	w := NewWriter(&out, s)
	_, _ = w.Write([]byte("progress 42%\r"))
	if out.String() != "progress 42%\r" {
		t.Errorf("text that cannot begin a secret was held back: %q", out.String())
	}
	_, _ = w.Write([]byte("value cf-tok"))
	if out.String() != "progress 42%\rvalue " {
		t.Errorf("got %q, want the possible start of the secret held", out.String())
	}
	_, _ = w.Write([]byte("yo\n"))
	if !strings.HasSuffix(out.String(), "value cf-tokyo\n") {
		t.Errorf("got %q, want the held piece released once refuted", out.String())
	}
}

func FuzzWriterNeverLeaks(f *testing.F) {
	f.Add("Bearer cf-tok/en+7d1e0c9a5b!", "cf-tok/en+7d1e0c9a5b", uint8(3))
	f.Add("aaaaaaab", "aaaaab", uint8(1))
	f.Fuzz(func(t *testing.T, text, sec string, step uint8) {
		if len(sec) < minScrubLen || strings.Contains(Redacted, sec) || strings.Contains(sec, Redacted) {
			t.Skip()
		}
		s := &Scrubber{}
		s.Add(Value(sec))
		var out bytes.Buffer
		w := NewWriter(&out, s)
		n := int(step%16) + 1
		for i := 0; i < len(text); i += n {
			_, _ = w.Write([]byte(text[i:min(i+n, len(text))]))
		}
		_ = w.Flush()
		if strings.Contains(out.String(), sec) && !strings.Contains(Redacted, sec) {
			// A secret may only reappear when REDACTED itself spells part of it.
			if !strings.Contains(strings.ReplaceAll(out.String(), Redacted, ""), sec) {
				return
			}
			t.Errorf("secret %q leaked through writes of %d bytes: %q", sec, n, out.String())
		}
	})
}

func TestScrubberJSONEscapedForm(t *testing.T) {
	s := &Scrubber{}
	s.Add(Value("a&b<c>d=ef"))
	if got := s.String(`{"cookie":"a\u0026b\u003cc\u003ed=ef"}`); got != `{"cookie":"REDACTED"}` {
		t.Errorf("got %s", got)
	}
}

// TestWriterChunkings writes text with secrets in chunks of every size
// from 1 to its length: the output is always the scrubbed text, whatever
// is held back and reused between writes.
func TestWriterChunkings(t *testing.T) {
	s := &Scrubber{}
	s.Add(Value(token))
	text := "a " + token + " b cf-tok/ c " + token + token + " cf-tok/en+7d1e0c9a5 end"
	want := strings.ReplaceAll(text, token, Redacted)
	for size := 1; size <= len(text); size++ {
		var out bytes.Buffer
		w := NewWriter(&out, s)
		for i := 0; i < len(text); i += size {
			chunk := []byte(text[i:min(i+size, len(text))])
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
			clear(chunk) // a writer must not keep the caller's bytes
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("chunks of %d: got %q, want %q", size, out.String(), want)
		}
	}
}
