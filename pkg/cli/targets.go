package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/target"
)

// openTargets opens --from-file PATH ("-" is stdin).
func openTargets(f *Factory, path string) (io.ReadCloser, error) {
	return openTargetFile(path, f.IO.In)
}

// openTargetFile opens --from-file PATH, reading stdin for "-".
func openTargetFile(path string, stdin io.Reader) (io.ReadCloser, error) {
	r, err := target.Open(path, stdin)
	if err != nil {
		return nil, usageErrorf("--from-file: %v (expected a readable file with one URL or path per line)", err)
	}
	return r, nil
}

// targetList is the URLs a command works through. Arguments and stdin are
// held in memory; a --from-file file is checked in full before anything is
// sent and then read again as the run goes, so a file of a million URLs
// costs no memory. Both readings go through one pipeline: a line that
// changed in between is checked like any other, and refused.
type targetList struct {
	pipe  *target.Pipeline
	held  []string
	file  string
	count int
	// width is the longest URL's length, for table columns.
	width int
	// err is set when the file changed between the check and the run so
	// that a line no longer passes; the run stops there.
	err error
}

// newTargetList resolves every target (and calls check on each URL) before
// the run starts; the first bad one is a usage error naming it and, for
// files, its line.
func newTargetList(in io.Reader, env *config.Environment, args []string, fromFile string, check func(string) error) (*targetList, error) {
	return newPipelineTargets(in, &target.Pipeline{Env: env.TargetEnv(), Check: check}, args, fromFile)
}

// newPipelineTargets is newTargetList through pipe, which resolves, checks
// and (when canonical) normalizes every target.
func newPipelineTargets(in io.Reader, pipe *target.Pipeline, args []string, fromFile string) (*targetList, error) {
	l := &targetList{pipe: pipe}
	add := func(u string, keep bool) {
		l.count++
		l.width = max(l.width, len(u))
		if keep {
			l.held = append(l.held, u)
		}
	}
	for _, a := range args {
		u, err := l.pipe.URL(a)
		if err != nil {
			return nil, usageError(err)
		}
		add(u, true)
	}
	if fromFile == "" {
		return l, nil
	}
	r, err := openTargetFile(fromFile, in)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	stdin := fromFile == "-"
	for t, err := range l.pipe.Read(r) {
		if err != nil {
			return nil, usageErrorf("--from-file %s %v", fromFile, err)
		}
		add(t.URL, stdin)
	}
	if !stdin {
		l.file = fromFile
	}
	return l, nil
}

// All yields every URL in input order.
func (l *targetList) All(yield func(string) bool) {
	for _, u := range l.held {
		if !yield(u) {
			return
		}
	}
	if l.file == "" {
		return
	}
	file, err := os.Open(l.file)
	if err != nil {
		l.err = usageErrorf("--from-file %s: %v (it was readable when checked)", l.file, err)
		return
	}
	defer file.Close()
	for t, err := range l.pipe.Read(file) {
		if err != nil {
			l.err = usageErrorf("--from-file %s %v (the file changed after it was checked; the run stopped there)", l.file, err)
			return
		}
		if !yield(t.URL) {
			return
		}
	}
}

// parseHeaders parses --header "Name: value" flags. Credentials are refused:
// secrets never come from the command line.
func parseHeaders(flags []string, env *config.Environment) (http.Header, error) {
	h := http.Header{}
	if env != nil {
		for k, v := range env.Headers {
			h.Set(k, v)
		}
	}
	for _, raw := range flags {
		name, value, ok := strings.Cut(raw, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usageErrorf("--header %q: expected \"Name: value\"", raw)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, usageErrorf("--header %s: the value has a line break or NUL (expected one line)", name)
		}
		switch strings.ToLower(name) {
		case "cookie", "authorization", "proxy-authorization":
			return nil, usageErrorf("--header %s: credentials are never taken from the command line (expected the session in config: session.value_env or value_file, or --cookie-env VAR)", name)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// sessionHosts is the check for a run that sends the session cookie: only
// to the environment's own hosts.
func sessionHosts(env *config.Environment) func(string) error {
	return envHostCheck(env, "%s is not on a host of environment %q (allowed hosts: %s); the session cookie is only sent to the environment's own hosts")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
