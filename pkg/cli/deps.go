package cli

import (
	"log/slog"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/secret"
)

// cmdDeps are the pieces of the Factory a command's plan and run steps use.
// Every command's options embed them, taken from the Factory when the
// command is built, so plan and run take nothing but their options and a
// test can build options without a command tree.
type cmdDeps struct {
	IO *iostreams.IOStreams
	// Globals are the flags every command shares (--config, --env, -o,
	// --timeout, --insecure, ...), filled in as the command line is parsed.
	Globals *Globals
	// Environ is the process environment; Lookup reads one variable of it.
	Environ config.Environ
	Lookup  config.Lookup
	// Config loads the configuration once; Environment is the --env
	// environment in it, or nil when none was named.
	Config      func() (*config.Config, error)
	Environment func() (*config.Environment, error)
	// OutputFormat validates -o against the formats a command supports.
	OutputFormat func(supported ...report.Format) (report.Format, error)
	// Style is the colour style for stdout.
	Style func() report.Style
	// Logger writes to stderr at the --log-level.
	Logger *slog.Logger
	// Scrubber holds the run's secrets; providers register those they
	// resolve themselves (AWS keys, EdgeGrid secrets).
	Scrubber *secret.Scrubber
}

func (f *Factory) deps() cmdDeps {
	return cmdDeps{
		IO:           f.IO,
		Globals:      f.Globals,
		Environ:      f.Environ,
		Lookup:       f.Lookup,
		Config:       f.Config,
		Environment:  f.Environment,
		OutputFormat: f.OutputFormat,
		Style:        f.Style,
		Logger:       f.Logger,
		Scrubber:     f.Scrubber,
	}
}

// planStart is the first step of a plan: -o checked against the formats
// the command writes, the configuration, and the --env environment (nil
// when none was named).
func (d cmdDeps) planStart(formats ...report.Format) (report.Format, *config.Config, *config.Environment, error) {
	format, err := d.OutputFormat(formats...)
	if err != nil {
		return "", nil, nil, err
	}
	cfg, err := d.Config()
	if err != nil {
		return "", nil, nil, err
	}
	env, err := d.Environment()
	if err != nil {
		return "", nil, nil, err
	}
	return format, cfg, env, nil
}

// proberOptions are the options of the prober a command uses against env
// (nil for bare URLs): the environment's headers plus --header flags,
// cache-status headers from the flags, the environment and the config, and
// the global timeout and TLS setting. o carries the command's own choices
// (method, keep-alive, ...). A refused --header is a usage error.
func (d cmdDeps) proberOptions(env *config.Environment, o probe.Options, headerFlags, cacheHeaderFlags []string) (probe.Options, error) {
	cfg, err := d.Config()
	if err != nil {
		return o, err
	}
	if o.Header, err = parseHeaders(headerFlags, env); err != nil {
		return o, err
	}
	o.CacheHeaders = append([]string{}, cacheHeaderFlags...)
	if env != nil {
		o.CacheHeaders = append(o.CacheHeaders, env.CacheHeaders...)
	}
	o.CacheHeaders = append(o.CacheHeaders, cfg.CacheHeaders...)
	o.Timeout = d.Globals.Timeout
	o.Insecure = d.Globals.Insecure
	return o, nil
}

// newProber builds the prober a command uses against env; see proberOptions.
func (f *Factory) newProber(env *config.Environment, o probe.Options, headerFlags, cacheHeaderFlags []string) (*probe.Prober, error) {
	o, err := f.deps().proberOptions(env, o, headerFlags, cacheHeaderFlags)
	if err != nil {
		return nil, err
	}
	return probe.New(o), nil
}
