package target

import (
	"io"
	"iter"
)

// Pipeline turns what a user names into the URLs a command uses, checking
// every one as it is made: a targets file read twice (once to check it
// before anything is sent, once as the run goes) is checked both times, so
// a file changed in between cannot smuggle in a URL that was never checked.
type Pipeline struct {
	// Env is what paths resolve against; nil accepts full URLs only.
	Env *Env
	// Canonical normalizes every URL (Canonical), for cache keys; otherwise
	// a URL is used as given (Resolve).
	Canonical bool
	// Check, when set, sees every URL; an error refuses it. The host
	// allow-list goes here.
	Check func(url string) error
}

// Target is one URL with what the user wrote and where.
type Target struct {
	// Given is the target as written: an argument or a line of a file.
	Given string
	// URL is Given resolved (and normalized when the pipeline is canonical).
	URL string
	// Line is the line number in its file; 0 for other sources.
	Line int
}

// URL resolves one target and checks it.
func (p *Pipeline) URL(raw string) (string, error) {
	resolve := Resolve
	if p.Canonical {
		resolve = Canonical
	}
	u, err := resolve(p.Env, raw)
	if err != nil {
		return "", err
	}
	if p.Check != nil {
		if err := p.Check(u); err != nil {
			return "", err
		}
	}
	return u, nil
}

// Read yields the targets of a targets file (see Scanner for the rules)
// as it reads them. The first problem ends the sequence: a *LineError,
// yielded with a zero Target.
func (p *Pipeline) Read(r io.Reader) iter.Seq2[Target, error] {
	return func(yield func(Target, error) bool) {
		sc := NewScanner(r)
		for sc.Scan() {
			u, err := p.URL(sc.Text())
			if err != nil {
				yield(Target{}, &LineError{Line: sc.Line(), Err: err})
				return
			}
			if !yield(Target{Given: sc.Text(), URL: u, Line: sc.Line()}, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Target{}, err)
		}
	}
}
