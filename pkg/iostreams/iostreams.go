// Package iostreams holds the standard streams and what is known about them:
// whether they are terminals and whether colour may be used.
package iostreams

import (
	"bytes"
	"context"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the process's input and output streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	noColor               bool
}

// System returns the process's streams. Colour is off when NO_COLOR is set
// (to any value) or TERM is "dumb"; lookup reads the process environment.
func System(lookup func(string) (string, bool)) *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, noColor: colorRefused(lookup)}
	s.SetTTY(isTerminal(os.Stdin), isTerminal(os.Stdout), isTerminal(os.Stderr))
	return s
}

// colorRefused reports whether the environment asks for no colour:
// NO_COLOR set to any value, or a terminal that cannot show it.
func colorRefused(lookup func(string) (string, bool)) bool {
	_, noColor := lookup("NO_COLOR")
	term, _ := lookup("TERM")
	return noColor || term == "dumb"
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Test returns streams backed by buffers, none of them a terminal.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY marks the streams as terminals or not (tests).
func (s *IOStreams) SetTTY(in, out, errOut bool) { s.inTTY, s.outTTY, s.errTTY = in, out, errOut }

// DisableColor turns colour off (--no-color).
func (s *IOStreams) DisableColor() { s.noColor = true }

// IsStdinTTY reports whether input is a terminal (prompts are possible).
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether the error stream is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// ColorEnabled reports whether stdout may be coloured.
func (s *IOStreams) ColorEnabled() bool { return s.IsStdoutTTY() && !s.noColor }

// ProgressEnabled reports whether progress bars may be drawn on stderr: only
// when both stdout and stderr are terminals.
func (s *IOStreams) ProgressEnabled() bool { return s.IsStdoutTTY() && s.IsStderrTTY() }

// CanPrompt reports whether the user can be asked a question: the question
// goes to stderr and the answer comes from stdin, so both are terminals.
func (s *IOStreams) CanPrompt() bool { return s.IsStdinTTY() && s.IsStderrTTY() }

// CancelableReader returns a reader whose Read returns ctx's error as soon
// as ctx is done, even while the underlying read blocks (a terminal or a
// pipe nobody writes to), so Ctrl-C stops a command waiting for input.
func CancelableReader(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r, done: make(chan readResult, 1)}
}

type readResult struct {
	b   []byte
	err error
}

type ctxReader struct {
	ctx      context.Context
	r        io.Reader
	done     chan readResult
	inFlight bool
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if !c.inFlight {
		c.inFlight = true
		buf := make([]byte, len(p))
		go func() {
			n, err := c.r.Read(buf)
			c.done <- readResult{buf[:n], err}
		}()
	}
	select {
	case res := <-c.done:
		c.inFlight = false
		return copy(p, res.b), res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}
