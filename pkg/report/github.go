package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/cachectl/cachectl/pkg/verify"
)

// MaxAnnotations caps the annotations one run writes: GitHub shows only the
// first few per step, and thousands of lines would bury the log.
const MaxAnnotations = 50

// GitHubAnnotator writes GitHub Actions workflow commands
// (::error file=…,title=…::message) for failed checks and drifted routes,
// so they show on the run's summary page and, with a file, beside the config.
// It is used when GITHUB_ACTIONS=true, next to whatever -o writes.
type GitHubAnnotator struct {
	w       io.Writer
	file    string
	written int
	omitted int
}

// NewGitHubAnnotator writes to w (stderr: the runner reads workflow commands
// from both streams, and stdout carries the report); file is the config file
// the annotations point at, empty for none.
func NewGitHubAnnotator(w io.Writer, file string) *GitHubAnnotator {
	return &GitHubAnnotator{w: w, file: file}
}

// Check annotates a failed check; passed checks are ignored.
func (g *GitHubAnnotator) Check(r verify.Record) error {
	if r.Passed {
		return nil
	}
	title := fmt.Sprintf("cachectl verify: %s %s %s", r.Route, r.Variant, r.Check)
	msg := fmt.Sprintf("expected %s, got %s\nurl: %s\nowner: %s\nrollback: %s", r.Expected, r.Actual, r.URL, orNone(r.Owner), orNone(r.Rollback))
	return g.write(title, msg)
}

// Drift annotates a route whose behaviour differs between two environments.
func (g *GitHubAnnotator) Drift(r verify.DiffRecord) error {
	for _, v := range r.Variants {
		if len(v.Differences) == 0 {
			continue
		}
		parts := make([]string, len(v.Differences))
		for i, d := range v.Differences {
			parts[i] = fmt.Sprintf("%s: %s %s, %s %s", d.Field, r.EnvA, d.A, r.EnvB, d.B)
		}
		title := fmt.Sprintf("cachectl diff: %s %s drifts between %s and %s", r.Route, v.Variant, r.EnvA, r.EnvB)
		if err := g.write(title, strings.Join(parts, "\n")); err != nil {
			return err
		}
	}
	return nil
}

func (g *GitHubAnnotator) write(title, msg string) error {
	if g.written >= MaxAnnotations {
		g.omitted++
		return nil
	}
	g.written++
	props := "title=" + escapeProperty(title)
	if g.file != "" {
		props = "file=" + escapeProperty(g.file) + "," + props
	}
	_, err := fmt.Fprintf(g.w, "::error %s::%s\n", props, escapeData(msg))
	return err
}

// Close notes how many annotations were left out.
func (g *GitHubAnnotator) Close() error {
	if g.omitted == 0 {
		return nil
	}
	_, err := fmt.Fprintf(g.w, "::warning title=cachectl::%d more failures were not annotated (see the report)\n", g.omitted)
	return err
}

// escapeData and escapeProperty follow the runner's workflow-command
// escaping (actions/toolkit command.ts).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
