package cli

import (
	"context"
	"fmt"
	"iter"
	"os"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/shard"
	"github.com/cachectl/cachectl/pkg/target"
	"github.com/cachectl/cachectl/pkg/verify"
)

// routeSet is the routes a run goes through in one environment (verify,
// watch): where their names come from, the sample and shard kept, and
// the check every route's URL must pass.
type routeSet struct {
	// names yields the route names, as often as called; see routeSource.
	names   func(readErr *error) iter.Seq[string]
	planner *verify.Planner
	// sample keeps a reproducible random subset of that many routes (0:
	// all), drawn with seed; shard keeps one worker's share.
	sample int
	seed   uint64
	shard  shard.Shard
	// check is what every route's URL must pass: the session cookie's
	// host allow-list, when there is a session; nil for none.
	check func(string) error
	// file is --routes FILE, named when it cannot be read.
	file string
}

// each resolves and checks the selected routes in order and calls fn with
// each until fn returns false. The first route that fails, or a --routes
// file that cannot be read, ends it with a usage error.
func (s *routeSet) each(fn func(verify.Indexed, verify.Target) bool) error {
	var readErr error
	for r := range verify.Select(s.names(&readErr), s.sample, s.seed, s.shard) {
		t, err := s.planner.Target(r.Index, r.Route)
		if err == nil && s.check != nil {
			err = s.check(t.URL)
		}
		if err != nil {
			return usageError(fmt.Errorf("route %d (%s): %w", r.Index+1, r.Route, err))
		}
		if !fn(r, t) {
			return nil
		}
	}
	if readErr != nil {
		return usageErrorf("--routes %s %v", s.file, readErr)
	}
	return nil
}

// routeSource returns a function yielding the route names, as often as
// called: from --routes (routesFlag), --sitemap (sitemapFlag; both may be
// given), or the config. A --routes file is read anew at each call; a
// problem reading it ends the sequence and is stored in *readErr.
func routeSource(ctx context.Context, d cmdDeps, routesFlag, sitemapFlag string, env *config.Environment, planner *verify.Planner) (func(*error) iter.Seq[string], error) {
	var lists [][]string
	var file string
	switch {
	case routesFlag == "-":
		var lines []string
		sc := target.NewScanner(d.IO.In)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, usageErrorf("--routes - %v", err)
		}
		lists = append(lists, lines)
	case routesFlag != "":
		file = routesFlag
	}
	if sitemapFlag != "" {
		pages, err := readSitemap(ctx, d, sitemapFlag, env)
		if err != nil {
			return nil, err
		}
		lists = append(lists, pages)
	}
	if file == "" && len(lists) == 0 {
		lists = append(lists, planner.Routes())
	}
	return func(readErr *error) iter.Seq[string] {
		return func(yield func(string) bool) {
			if file != "" && !yieldFile(file, readErr, yield) {
				return
			}
			for _, l := range lists {
				for _, r := range l {
					if !yield(r) {
						return
					}
				}
			}
		}
	}, nil
}

// yieldFile yields the lines of a routes file and reports whether the
// sequence goes on: false when yield stopped it or the file could not be
// read (then *readErr says why).
func yieldFile(file string, readErr *error, yield func(string) bool) bool {
	fh, err := os.Open(file)
	if err != nil {
		*readErr = fmt.Errorf("cannot be read: %w (expected a readable file with one path or URL per line)", err)
		return false
	}
	defer fh.Close()
	sc := target.NewScanner(fh)
	for sc.Scan() {
		if !yield(sc.Text()) {
			return false
		}
	}
	*readErr = sc.Err()
	return *readErr == nil
}
