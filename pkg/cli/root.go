// Package cli holds cachectl's commands: flags, argument checks and wiring.
// It is the only place that prints the final error and picks the exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/secret"
)

// Build information, set with -ldflags "-X github.com/cachectl/cachectl/pkg/cli.version=...".
var (
	version = "dev"
	commit  = "unknown"
	date    = ""
)

// Globals are the flags every command shares.
type Globals struct {
	ConfigFile string
	// Env is the --env environment; Envs holds every --env given, which only
	// diff accepts more than once.
	Env      string
	Envs     []string
	Output   string
	Timeout  time.Duration
	LogLevel string
	NoColor  bool
	Insecure bool
}

// Factory holds what commands need: streams, global flags, the lazily loaded
// configuration, a logger and the environment.
type Factory struct {
	IO      *iostreams.IOStreams
	Globals *Globals
	// Environ is the process environment; every variable cachectl reads
	// (secrets, CACHECTL_ overrides, XDG_ directories) comes from it.
	Environ config.Environ
	// Lookup reads one variable of Environ.
	Lookup config.Lookup
	// SecretVars are variables a command's flags name as secret sources
	// (--cookie-env); they are not config overrides.
	SecretVars []string
	// Scrubber holds every secret the run resolved; output, logs and the
	// journal are scrubbed of them.
	Scrubber *secret.Scrubber
	// Logger writes to stderr at LogLevel, which --log-level sets before a
	// command runs.
	Logger   *slog.Logger
	LogLevel *slog.LevelVar

	cfg    *config.Config
	cfgErr error
	loaded bool
	// started is set once the command line is parsed and a command runs.
	started bool
}

// Config loads the configuration once.
func (f *Factory) Config() (*config.Config, error) {
	if !f.loaded {
		f.loaded = true
		opts := config.LoadOptions{File: f.Globals.ConfigFile, Environ: f.Environ, SecretVars: f.SecretVars}
		if opts.File == "" {
			opts.SearchPaths = config.DefaultSearchPaths(f.Environ)
		}
		f.cfg, f.cfgErr = config.Load(opts)
		if f.cfg != nil {
			for _, v := range f.cfg.SecretValues(f.Lookup) {
				f.Scrubber.Add(v)
			}
		}
		if f.cfgErr == nil && f.cfg.File != "" {
			f.Logger.Debug("config loaded", "file", f.cfg.File, "environments", len(f.cfg.Environments), "routes", len(f.cfg.Routes))
			warnReadableSecrets(f.Logger, f.cfg)
		}
	}
	return f.cfg, f.cfgErr
}

// Environment returns the --env environment, or nil when none was named.
func (f *Factory) Environment() (*config.Environment, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if f.Globals.Env == "" {
		return nil, nil
	}
	env, err := cfg.Env(f.Globals.Env)
	if err != nil {
		return nil, usageError(err)
	}
	return env, nil
}

// OutputFormat validates -o against the formats a command supports; the default is table.
func (f *Factory) OutputFormat(supported ...report.Format) (report.Format, error) {
	name := f.Globals.Output
	if name == "" {
		name = string(report.Table)
	}
	format, err := report.ParseFormat(name, supported...)
	return format, usageError(err)
}

// Style is the colour style for stdout.
func (f *Factory) Style() report.Style {
	return report.Style{Color: f.IO.ColorEnabled() && !f.Globals.NoColor}
}

// annotationMultiEnv marks a command that accepts --env more than once.
const annotationMultiEnv = "cachectl/multi-env"

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	g := f.Globals
	root := &cobra.Command{
		Use:   "cachectl",
		Short: "Inspect, purge and verify what your CDN or caching proxy does with your pages",
		Long: `cachectl shows how each route of a website is cached for an anonymous visitor
and for a logged-in one, purges exactly the pages that changed through the CDN's
API (batched, throttled, retried, journaled and verified), lists the pages whose
cached copy is older than the origin's, and checks after every deploy that
caching behaves as each route's owner intended.

Exit codes: 0 success, 1 a check failed, 2 usage or configuration error (nothing
was sent), 3 operational failure (network, CDN API, auth), 130 interrupted.`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return f.applyGlobals(cmd) },
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.ConfigFile, "config", "", "config file (default ./cachectl.yaml, then $XDG_CONFIG_HOME/cachectl/config.yaml)")
	var defaultEnvs []string
	if e := f.Environ.Get("CACHECTL_ENV"); e != "" {
		defaultEnvs = []string{e}
	}
	pf.StringArrayVarP(&g.Envs, "env", "e", defaultEnvs, "environment from the config (paths resolve against its base_url; diff takes two) [$CACHECTL_ENV]")
	pf.StringVarP(&g.Output, "output", "o", f.Environ.Get("CACHECTL_OUTPUT"), "output format: table, json, jsonl (verify and diff also junit, markdown, html; compare also markdown) [$CACHECTL_OUTPUT]")
	pf.DurationVar(&g.Timeout, "timeout", config.DefaultTimeout, "timeout for each request")
	pf.StringVar(&g.LogLevel, "log-level", envOr(f.Environ, "CACHECTL_LOG_LEVEL", "warn"), "log level on stderr: debug, info, warn, error [$CACHECTL_LOG_LEVEL]")
	pf.BoolVar(&g.NoColor, "no-color", false, "never colour output (also NO_COLOR)")
	pf.BoolVar(&g.Insecure, "insecure", false, "DANGEROUS: do not verify TLS certificates")

	registerCompletions(root, f)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)

	root.AddCommand(
		newCmdInspect(f, nil),
		newCmdPurge(f, nil),
		newCmdConfig(f),
		newCmdVersion(f, nil),
		newCmdVerify(f, nil), newCmdDiff(f, nil), newCmdStale(f, nil), newCmdReport(f),
		newCmdWatch(f, nil), newCmdMeasure(f, nil), newCmdCompare(f, nil),
		newCmdInit(f, nil),
	)
	return root
}

// registerCompletions completes --env with the config's environments and
// -o with the output formats, in every shell cobra's completion supports.
func registerCompletions(root *cobra.Command, f *Factory) {
	err := root.RegisterFlagCompletionFunc("env", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		cfg, err := f.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.EnvNames(), cobra.ShellCompDirectiveNoFileComp
	})
	if err == nil {
		err = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
			[]string{string(report.Table), string(report.JSON), string(report.JSONL), string(report.JUnit), string(report.Markdown)},
			cobra.ShellCompDirectiveNoFileComp))
	}
	if err != nil {
		// Both flags are defined just above; only a renamed flag gets here.
		panic("cli: register completions: " + err.Error())
	}
}

// applyGlobals checks the global flags and applies them before cmd runs.
func (f *Factory) applyGlobals(cmd *cobra.Command) error {
	f.started = true
	g := f.Globals
	level, err := parseLevel(g.LogLevel)
	if err != nil {
		return usageError(err)
	}
	f.LogLevel.Set(level)
	if g.NoColor {
		f.IO.DisableColor()
	}
	if g.Timeout <= 0 {
		return usageErrorf("--timeout %s: expected a positive duration such as 10s", g.Timeout)
	}
	if len(g.Envs) > 1 && cmd.Annotations[annotationMultiEnv] == "" {
		return usageErrorf("--env given %d times (%s): expected one environment (only diff compares two)", len(g.Envs), strings.Join(g.Envs, ", "))
	}
	if len(g.Envs) > 0 {
		g.Env = g.Envs[len(g.Envs)-1]
	}
	if fl := cmd.Flags().Lookup("cookie-env"); fl != nil && fl.Value.String() != "" {
		f.SecretVars = append(f.SecretVars, fl.Value.String())
		if v, ok := f.Lookup(fl.Value.String()); ok {
			f.Scrubber.Add(secret.Value(strings.TrimSpace(v)))
		}
	}
	if g.Insecure {
		fmt.Fprintln(f.IO.ErrOut, "WARNING: --insecure: TLS certificates are NOT verified; responses may come from anyone")
	}
	return nil
}

func envOr(env config.Environ, name, def string) string {
	if v := env.Get(name); v != "" {
		return v
	}
	return def
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level %q: expected debug, info, warn or error", s)
}

// Main runs cachectl with the process's arguments and streams and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := config.Environ(os.Environ())
	return Execute(ctx, os.Args[1:], iostreams.System(env.Lookup), env)
}

// Execute runs one command line. It is the one place that prints the final
// error (to stderr) and turns it into an exit code.
func Execute(ctx context.Context, args []string, ios *iostreams.IOStreams, env config.Environ) int {
	// Everything cachectl prints passes through the scrubber, so a secret
	// a server echoes back (an API quoting the token in an error) never
	// reaches a terminal, a CI log or a redirected report.
	scrub := &secret.Scrubber{}
	out, errOut := secret.NewWriter(ios.Out, scrub), secret.NewWriter(ios.ErrOut, scrub)
	ios.Out, ios.ErrOut = out, errOut
	ios.In = iostreams.CancelableReader(ctx, ios.In)
	defer func() { _ = out.Flush(); _ = errOut.Flush() }()
	f := newFactory(ios, env, scrub)
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee *ExitError
	if err != nil && !f.started && !errors.As(err, &ee) {
		// Refused while the command line was parsed (an unknown command or
		// flag, extra arguments): a usage error, nothing was sent.
		err = usageError(err)
	}
	code := exitCode(ctx, err)
	if err != nil {
		printError(ios.ErrOut, code, err)
	}
	return code
}

// newFactory is the Factory a command line runs with: streams, the process
// environment, the scrubber every secret goes to, and a logger on stderr at
// warn until --log-level says otherwise.
func newFactory(ios *iostreams.IOStreams, env config.Environ, scrub *secret.Scrubber) *Factory {
	level := &slog.LevelVar{}
	level.Set(slog.LevelWarn)
	return &Factory{
		IO:       ios,
		Globals:  &Globals{},
		Environ:  env,
		Lookup:   env.Lookup,
		Scrubber: scrub,
		Logger:   slog.New(slog.NewTextHandler(ios.ErrOut, &slog.HandlerOptions{Level: level})),
		LogLevel: level,
	}
}

func printError(w io.Writer, code int, err error) {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return
	}
	msg := err.Error()
	if code == ExitInterrupted {
		msg = "interrupted"
		if errors.As(err, &ee) && ee.Err != nil && !errors.Is(ee.Err, context.Canceled) {
			msg = ee.Err.Error()
		}
	}
	if !strings.HasPrefix(msg, "cachectl") {
		msg = "cachectl: " + msg
	}
	fmt.Fprintln(w, msg)
}

// NewDocsCmd is the command tree as the man pages describe it: defaults as
// in a clean environment (no CACHECTL_ variables), no terminal.
func NewDocsCmd() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	root := NewRootCmd(newFactory(ios, config.Environ{}, &secret.Scrubber{}))
	// cobra adds the completion command when the command line runs.
	root.InitDefaultCompletionCmd()
	return root
}
