package cli

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
)

// Each command is built alone here, with a runF that captures its options,
// and run on its own flags; the global flags (--config, --env, -o) are set
// on the Factory the way the root's persistent flags would set them. The
// runF then runs the command's plan step, which decides every refusal and
// builds and sends nothing.

// runCmd parses args with cmd built alone. Flag errors are usage errors,
// as under the root.
func runCmd(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd.ExecuteContext(context.Background())
}

// flagFactory is a Factory for one command built alone: test streams, the
// config file cfg, environment envName (--env) and the process variables vars.
func flagFactory(t *testing.T, cfg, envName string, vars map[string]string) *Factory {
	t.Helper()
	f := testFactory(t, cfg, vars)
	f.Globals.Env = envName
	f.Environ = config.EnvironFromMap(vars)
	return f
}

// checkDeps checks that options carry the Factory's pieces.
func checkDeps(t *testing.T, got cmdDeps, f *Factory) {
	t.Helper()
	if got.IO != f.IO || got.Globals != f.Globals || got.Logger != f.Logger {
		t.Errorf("options carry IO %p, Globals %p, Logger %p; want the Factory's %p, %p, %p", got.IO, got.Globals, got.Logger, f.IO, f.Globals, f.Logger)
	}
	if got.Config == nil || got.Environment == nil || got.OutputFormat == nil || got.Style == nil || got.Lookup == nil {
		t.Error("options lack a Factory function (Config, Environment, OutputFormat, Style or Lookup)")
	}
}

// checkRefusal checks that err is refused with code and a message
// containing want; a zero code is not checked.
func checkRefusal(t *testing.T, err error, code int, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want one containing %q", want)
	}
	if code != 0 {
		if got := exitCode(context.Background(), err); got != code {
			t.Errorf("exit %d (%v), want %d", got, err, code)
		}
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

// parseCase is one command line for a command built alone: either the
// options it parses to (want) or a refusal (code, wantErr).
type parseCase[O any] struct {
	name    string
	env     string            // --env
	vars    map[string]string // process environment; nil: sessionVars
	args    []string
	want    *O
	code    int
	wantErr string
}

var sessionVars = map[string]string{"TEST_SESSION": sessionValue, "ALT_SESSION": "alt-value"}

// runParseCases builds each case's command with newCmd and a runF that
// captures the options and runs plan; it compares the parsed flags
// (options without the Factory pieces, which checkDeps checks) or the
// refusal.
func runParseCases[O any](t *testing.T, cfg string, cases []parseCase[O], newCmd func(*Factory, func(context.Context, *O) error) *cobra.Command, deps func(*O) *cmdDeps, plan func(*O) error) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			vars := tt.vars
			if vars == nil {
				vars = sessionVars
			}
			f := flagFactory(t, cfg, tt.env, vars)
			var got *O
			err := runCmd(newCmd(f, func(_ context.Context, o *O) error {
				got = o
				return plan(o)
			}), tt.args...)
			if tt.want == nil {
				checkRefusal(t, err, tt.code, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("error = %v, want none", err)
			}
			checkDeps(t, *deps(got), f)
			flags := *got
			*deps(&flags) = cmdDeps{}
			if !reflect.DeepEqual(&flags, tt.want) {
				t.Errorf("parsed options\n got %+v\nwant %+v", flags, *tt.want)
			}
		})
	}
}

func TestInspectFlags(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	urls := writeFile(t, "urls.txt", "# changed\n/c\n")
	empty := writeFile(t, "empty.txt", "# nothing\n")
	def := func(mod func(*InspectOptions)) *InspectOptions {
		opts := &InspectOptions{Targets: []string{"/a"}, Repeat: 1, Wait: 30 * time.Second, Concurrency: 8, Method: "GET"}
		mod(opts)
		return opts
	}
	cases := []parseCase[InspectOptions]{
		{name: "defaults", env: "production", args: []string{"/a"}, want: def(func(*InspectOptions) {})},
		{name: "every flag", env: "production", args: []string{
			"--from-file", urls, "--as", "both", "-H", "X-A: 1", "--header", "X-B: 2", "--user-agent", "probe/1",
			"--cache-header", "X-Edge", "--cache-header", "X-Shield", "--repeat", "3", "--concurrency", "2",
			"--fail-on", "warn", "--cookie-env", "ALT_SESSION", "--follow", "--debug-headers", "--keep-alive",
			"--method", "head", "/a", "/b",
		}, want: def(func(o *InspectOptions) {
			o.Targets, o.FromFile, o.As = []string{"/a", "/b"}, urls, "both"
			o.Headers, o.UserAgent, o.CacheHeaders = []string{"X-A: 1", "X-B: 2"}, "probe/1", []string{"X-Edge", "X-Shield"}
			o.Repeat, o.Concurrency, o.FailOn, o.CookieEnv = 3, 2, "warn", "ALT_SESSION"
			o.Follow, o.DebugHeaders, o.KeepAlive, o.Method = true, true, true, "head"
		})},
		{name: "until", env: "nosession", args: []string{"--until", "hit", "--wait", "5s", "/a"}, want: def(func(o *InspectOptions) {
			o.Until, o.Wait = "hit", 5*time.Second
		})},
		{name: "logged_in spelled with an underscore", env: "production", args: []string{"--as", "logged_in", "/a"}, want: def(func(o *InspectOptions) { o.As = "logged_in" })},
		{name: "full URL without an environment", args: []string{o.URL + "/a"}, want: def(func(opts *InspectOptions) { opts.Targets = []string{o.URL + "/a"} })},

		{name: "no target", env: "production", code: ExitUsage, wantErr: "inspect: no URL or path given"},
		{name: "concurrency 0", env: "production", args: []string{"--concurrency", "0", "/a"}, code: ExitUsage, wantErr: "--concurrency 0: expected 1 to 1024"},
		{name: "concurrency 1025", env: "production", args: []string{"--concurrency", "1025", "/a"}, code: ExitUsage, wantErr: "--concurrency 1025: expected 1 to 1024"},
		{name: "repeat 0", env: "production", args: []string{"--repeat", "0", "/a"}, code: ExitUsage, wantErr: "--repeat 0: expected 1 to 1000"},
		{name: "repeat not a number", env: "production", args: []string{"--repeat", "x", "/a"}, code: ExitUsage, wantErr: `invalid argument "x" for "--repeat"`},
		{name: "until an unknown status", env: "production", args: []string{"--until", "WARM", "/a"}, code: ExitUsage, wantErr: `--until "WARM": expected one of HIT`},
		{name: "until with repeat", env: "production", args: []string{"--until", "HIT", "--repeat", "2", "/a"}, code: ExitUsage, wantErr: "--until and --repeat do not go together"},
		{name: "until without wait", env: "production", args: []string{"--until", "HIT", "--wait", "0s", "/a"}, code: ExitUsage, wantErr: "--wait 0s: expected a positive duration"},
		{name: "fail-on fatal", env: "production", args: []string{"--fail-on", "fatal", "/a"}, code: ExitUsage, wantErr: `--fail-on "fatal": expected warn or error`},
		{name: "method POST", env: "production", args: []string{"--method", "POST", "/a"}, code: ExitUsage, wantErr: `--method "POST": expected GET or HEAD`},
		{name: "as admin", env: "production", args: []string{"--as", "admin", "/a"}, code: ExitUsage, wantErr: `--as "admin": expected anonymous, logged-in or both`},
		{name: "cookie-env without an environment", args: []string{"--cookie-env", "ALT_SESSION", o.URL}, code: ExitUsage, wantErr: "--cookie-env needs an environment with a session"},
		{name: "cookie-env without a session", env: "nosession", args: []string{"--cookie-env", "ALT_SESSION", "/a"}, code: ExitUsage, wantErr: `--cookie-env: environment "nosession" has no session`},
		{name: "logged-in without an environment", args: []string{"--as", "logged-in", o.URL}, code: ExitUsage, wantErr: "--as logged-in needs --env NAME"},
		{name: "logged-in without a session", env: "nosession", args: []string{"--as", "both", "/a"}, code: ExitUsage, wantErr: `--as both: environment "nosession" has no session`},
		{name: "session variable unset", env: "production", vars: map[string]string{}, args: []string{"/a"}, code: ExitUsage, wantErr: "names variable TEST_SESSION, which is not set"},
		{name: "cookie-env variable unset", env: "production", args: []string{"--cookie-env", "NOPE", "/a"}, code: ExitUsage, wantErr: "NOPE"},
		{name: "session to another host", env: "production", args: []string{"http://other.invalid/x"}, code: ExitUsage, wantErr: "the session cookie is only sent to the environment's own hosts"},
		{name: "credentials in a header", env: "production", args: []string{"-H", "Authorization: Bearer x", "/a"}, code: ExitUsage, wantErr: "credentials are never taken from the command line"},
		{name: "header without a colon", env: "production", args: []string{"-H", "X-A", "/a"}, code: ExitUsage, wantErr: `--header "X-A": expected "Name: value"`},
		{name: "targets file with nothing in it", env: "production", args: []string{"--from-file", empty}, code: ExitUsage, wantErr: "holds no URL or path"},
		{name: "unknown environment", env: "prod", args: []string{"/a"}, code: ExitUsage, wantErr: `unknown environment "prod"`},
	}
	runParseCases(t, cfg, cases, newCmdInspect, func(o *InspectOptions) *cmdDeps { return &o.cmdDeps }, func(o *InspectOptions) error {
		_, err := planInspect(o)
		return err
	})
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}

// TestInspectPlanVariants: without --as, the logged-in variant is probed
// when the environment has a session.
func TestInspectPlanVariants(t *testing.T) {
	cfg := writeConfig(t, "http://127.0.0.1:1")
	both := []probe.Variant{probe.Anonymous, probe.LoggedIn}
	tests := []struct {
		env, as     string
		want        []probe.Variant
		wantSession bool
	}{
		{"production", "", both, true},
		{"nosession", "", []probe.Variant{probe.Anonymous}, false},
		{"production", "anonymous", []probe.Variant{probe.Anonymous}, false},
		{"production", "logged-in", []probe.Variant{probe.LoggedIn}, true},
		{"production", "both", both, true},
	}
	for _, tt := range tests {
		f := flagFactory(t, cfg, tt.env, sessionVars)
		p, err := planInspect(&InspectOptions{cmdDeps: f.deps(), Targets: []string{"/a"}, As: tt.as, Repeat: 1, Concurrency: 1, Method: "GET"})
		if err != nil {
			t.Fatalf("--env %s --as %q: %v", tt.env, tt.as, err)
		}
		if !reflect.DeepEqual(p.variants, tt.want) || (p.session != nil) != tt.wantSession {
			t.Errorf("--env %s --as %q: variants %v, session %v; want %v, session %v", tt.env, tt.as, p.variants, p.session != nil, tt.want, tt.wantSession)
		}
		if p.session != nil && (p.session.Cookie != "sessionid" || string(p.session.Value) != sessionValue) {
			t.Errorf("--env %s --as %q: session %s=%q, want sessionid from TEST_SESSION", tt.env, tt.as, p.session.Cookie, p.session.Value)
		}
	}
}

func TestVerifyFlags(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	routes := writeFile(t, "routes.txt", "/a\n/b\n")
	offHost := writeFile(t, "offhost.txt", "/a\nhttp://other.invalid/b\n")
	empty := writeFile(t, "empty.txt", "# nothing\n")
	sitemap := writeFile(t, "sitemap.xml", `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>`+o.URL+`/s</loc></url></urlset>`)
	def := func(mod func(*VerifyOptions)) *VerifyOptions {
		opts := &VerifyOptions{Seed: 1, Interval: 5 * time.Second, Concurrency: 8, RecordRoutes: []string{}}
		mod(opts)
		return opts
	}
	withIndex := map[string]string{"TEST_SESSION": sessionValue, "JOB_COMPLETION_INDEX": "1"}
	cases := []parseCase[VerifyOptions]{
		{name: "defaults", env: "production", want: def(func(*VerifyOptions) {})},
		{name: "every flag", env: "production", args: []string{
			"--routes", routes, "--sitemap", sitemap, "--sample", "5", "--seed", "42", "--warm",
			"--retry-until-pass", "2", "--interval", "1s", "--concurrency", "3", "--rate", "2.5",
			"--shard", "2/4", "--cookie-env", "ALT_SESSION", "--cache-header", "X-Edge", "--fresh-connections",
		}, want: def(func(o *VerifyOptions) {
			o.Routes, o.Sitemap, o.Sample, o.Seed, o.Warm = routes, sitemap, 5, 42, true
			o.Retries, o.Interval, o.Concurrency, o.Rate = 2, time.Second, 3, 2.5
			o.Shard, o.CookieEnv, o.CacheHeaders, o.Fresh = "2/4", "ALT_SESSION", []string{"X-Edge"}, true
		})},
		{name: "shards from the job index", env: "production", vars: withIndex, args: []string{"--shards", "4"}, want: def(func(o *VerifyOptions) { o.Shards = 4 })},

		{name: "no environment", code: ExitUsage, wantErr: "verify: no environment chosen (expected --env NAME, one of: nosession, production)"},
		{name: "an argument", env: "production", args: []string{"/a"}, code: ExitUsage, wantErr: `verify: unexpected argument "/a" (routes come from the config, --routes or --sitemap; ROUTE arguments go with --record)`},
		{name: "concurrency 0", env: "production", args: []string{"--concurrency", "0"}, code: ExitUsage, wantErr: "--concurrency 0: expected 1 to 1024"},
		{name: "sample negative", env: "production", args: []string{"--sample", "-1"}, code: ExitUsage, wantErr: "--sample -1: expected a number of routes"},
		{name: "retries 101", env: "production", args: []string{"--retry-until-pass", "101"}, code: ExitUsage, wantErr: "--retry-until-pass 101: expected 0 to 100"},
		{name: "retries without interval", env: "production", args: []string{"--retry-until-pass", "1", "--interval", "0s"}, code: ExitUsage, wantErr: "--interval 0s: expected a positive duration"},
		{name: "rate negative", env: "production", args: []string{"--rate", "-1"}, code: ExitUsage, wantErr: "--rate -1: expected requests per second ≥ 0"},
		{name: "shard out of range", env: "production", args: []string{"--shard", "5/4"}, code: ExitUsage, wantErr: "--shard: "},
		{name: "shard and shards", env: "production", args: []string{"--shard", "1/2", "--shards", "2"}, code: ExitUsage, wantErr: "--shard and --shards do not go together"},
		{name: "shards without the job index", env: "production", args: []string{"--shards", "4"}, code: ExitUsage, wantErr: "$JOB_COMPLETION_INDEX is not set"},
		{name: "cookie-env without a session", env: "nosession", args: []string{"--cookie-env", "ALT_SESSION"}, code: ExitUsage, wantErr: `--cookie-env: environment "nosession" has no session`},
		{name: "session variable unset", env: "production", vars: map[string]string{}, code: ExitUsage, wantErr: "names variable TEST_SESSION, which is not set"},
		{name: "routes file missing", env: "production", args: []string{"--routes", "/nonexistent/routes.txt"}, code: ExitUsage, wantErr: "--routes /nonexistent/routes.txt cannot be read"},
		{name: "route on another host", env: "production", args: []string{"--routes", offHost}, code: ExitUsage, wantErr: "route 2 (http://other.invalid/b): http://other.invalid/b is not on a host of environment"},
		{name: "no routes", env: "production", args: []string{"--routes", empty}, code: ExitUsage, wantErr: "verify: no routes"},
	}
	ctx := context.Background()
	runParseCases(t, cfg, cases, newCmdVerify, func(o *VerifyOptions) *cmdDeps { return &o.cmdDeps }, func(o *VerifyOptions) error {
		_, err := planVerify(ctx, o)
		return err
	})
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}

func TestDiffFlags(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	cases := []parseCase[DiffOptions]{
		{name: "defaults", want: &DiffOptions{Targets: []string{}, Concurrency: 8}},
		{name: "every flag", args: []string{"--ignore", "ttl", "--ignore", "vary", "--concurrency", "2", "--rate", "1.5", "--fresh-connections", "/a", "/b"},
			want: &DiffOptions{Targets: []string{"/a", "/b"}, Ignore: []string{"ttl", "vary"}, Concurrency: 2, Rate: 1.5, Fresh: true}},

		{name: "concurrency 0", args: []string{"--concurrency", "0"}, code: ExitUsage, wantErr: "--concurrency 0: expected 1 to 1024"},
		{name: "rate negative", args: []string{"--rate", "-2"}, code: ExitUsage, wantErr: "--rate -2: expected requests per second ≥ 0"},
		{name: "ignore an unknown field", args: []string{"--ignore", "colour"}, code: ExitUsage, wantErr: `--ignore "colour": expected one of`},
		{name: "a URL instead of a path", args: []string{o.URL + "/a"}, code: ExitUsage, wantErr: "is not a path (expected /path"},
		{name: "session variable unset", vars: map[string]string{}, code: ExitUsage, wantErr: "names variable TEST_SESSION, which is not set"},
	}
	plan := func(o *DiffOptions) error {
		_, err := planDiff(o)
		return err
	}
	newCmd := func(envs ...string) func(*Factory, func(context.Context, *DiffOptions) error) *cobra.Command {
		return func(f *Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
			f.Globals.Envs = envs
			return newCmdDiff(f, runF)
		}
	}
	deps := func(o *DiffOptions) *cmdDeps { return &o.cmdDeps }
	runParseCases(t, cfg, cases, newCmd("production", "nosession"), deps, plan)
	runParseCases(t, cfg, []parseCase[DiffOptions]{
		{name: "one environment", code: ExitUsage, wantErr: "diff: expected --env A --env B (two environments), got 1 (known: nosession, production)"},
	}, newCmd("production"), deps, plan)
	runParseCases(t, cfg, []parseCase[DiffOptions]{
		{name: "unknown environment", code: ExitUsage, wantErr: `unknown environment "staging"`},
	}, newCmd("production", "staging"), deps, plan)
	noRoutes := writeFile(t, "c.yaml", "environments:\n  a:\n    base_url: "+o.URL+"\n  b:\n    base_url: "+o.URL+"\n")
	runParseCases(t, noRoutes, []parseCase[DiffOptions]{
		{name: "no routes", code: ExitUsage, wantErr: "diff: no routes (expected PATH arguments or routes in " + noRoutes + ")"},
	}, newCmd("a", "b"), deps, plan)
	// The session cookie goes only to an environment's own hosts, in diff
	// as in inspect and verify.
	offHosts := writeFile(t, "hosts.yaml", "environments:\n  a:\n    base_url: "+o.URL+"\n  b:\n    base_url: "+o.URL+
		"\n    hosts: [www.example.com]\n    session:\n      cookie: sessionid\n      value_env: TEST_SESSION\n")
	runParseCases(t, offHosts, []parseCase[DiffOptions]{
		{name: "session to a host not of its environment", args: []string{"/a"}, code: ExitUsage,
			wantErr: "route 1 (/a): " + o.URL + "/a is not on a host of environment \"b\" (allowed hosts: www.example.com); the session cookie is only sent to the environment's own hosts"},
	}, newCmd("a", "b"), deps, plan)
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}

func TestReportMergeFlags(t *testing.T) {
	a := writeFile(t, "a.jsonl", "")
	b := writeFile(t, "b.jsonl", "")
	cases := []parseCase[ReportMergeOptions]{
		{name: "files", args: []string{a, b}, want: &ReportMergeOptions{Files: []string{a, b}}},
		{name: "stdin", args: []string{"-"}, want: &ReportMergeOptions{Files: []string{"-"}}},
		{name: "no file", wantErr: "requires at least 1 arg(s)"},
		{name: "missing file", args: []string{a, "/nonexistent/b.jsonl"}, code: ExitUsage, wantErr: "report merge: open /nonexistent/b.jsonl"},
	}
	runParseCases(t, "", cases, newCmdReportMerge, func(o *ReportMergeOptions) *cmdDeps { return &o.cmdDeps }, func(o *ReportMergeOptions) error {
		p, err := planReportMerge(o)
		if err == nil {
			p.close()
		}
		return err
	})
}

// TestOutputFormatRefused: -o is checked against what each command can
// write before anything else happens.
func TestOutputFormatRefused(t *testing.T) {
	cfg := writeConfig(t, "http://127.0.0.1:1")
	tests := []struct {
		name string
		run  func(*Factory) error
		want string
	}{
		{"inspect", func(f *Factory) error {
			_, err := planInspect(&InspectOptions{cmdDeps: f.deps(), Targets: []string{"/a"}})
			return err
		}, "(expected one of: table, json, jsonl)"},
		{"verify", func(f *Factory) error {
			_, err := planVerify(context.Background(), &VerifyOptions{cmdDeps: f.deps()})
			return err
		}, "(expected one of: table, json, jsonl, junit, markdown, html)"},
		{"diff", func(f *Factory) error { _, err := planDiff(&DiffOptions{cmdDeps: f.deps()}); return err }, "(expected one of: table, json, jsonl, junit, markdown, html)"},
		{"stale", func(f *Factory) error {
			_, err := planStale(context.Background(), &StaleOptions{cmdDeps: f.deps()})
			return err
		}, "(expected one of: table, json, jsonl)"},
		{"report merge", func(f *Factory) error { _, err := planReportMerge(&ReportMergeOptions{cmdDeps: f.deps()}); return err }, "(expected one of: table, json, jsonl, junit, markdown, html)"},
		{"config validate", func(f *Factory) error { return configValidateRun(&ConfigValidateOptions{f.deps()}) }, "(expected one of: table, json)"},
		{"config show", func(f *Factory) error { return configShowRun(&ConfigShowOptions{f.deps()}) }, "(expected one of: table, json)"},
		{"version", func(f *Factory) error { return versionRun(&VersionOptions{f.deps()}) }, "(expected one of: table, json)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := flagFactory(t, cfg, "production", sessionVars)
			f.Globals.Output = "xml"
			checkRefusal(t, tt.run(f), ExitUsage, `unknown output format "xml" `+tt.want)
		})
	}
}

// TestNoFlagCommands: config validate, config show and version have no flags
// of their own; they take the Factory's pieces and refuse arguments.
func TestNoFlagCommands(t *testing.T) {
	var got cmdDeps
	capture := func(d cmdDeps) error { got = d; return nil }
	for _, tt := range []struct {
		name string
		cmd  func(f *Factory) *cobra.Command
	}{
		{"config validate", func(f *Factory) *cobra.Command {
			return newCmdConfigValidate(f, func(_ context.Context, o *ConfigValidateOptions) error { return capture(o.cmdDeps) })
		}},
		{"config show", func(f *Factory) *cobra.Command {
			return newCmdConfigShow(f, func(_ context.Context, o *ConfigShowOptions) error { return capture(o.cmdDeps) })
		}},
		{"version", func(f *Factory) *cobra.Command {
			return newCmdVersion(f, func(_ context.Context, o *VersionOptions) error { return capture(o.cmdDeps) })
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := flagFactory(t, "", "", nil)
			got = cmdDeps{}
			if err := runCmd(tt.cmd(f)); err != nil {
				t.Fatalf("error = %v, want none", err)
			}
			checkDeps(t, got, f)
			got = cmdDeps{}
			err := runCmd(tt.cmd(f), "extra")
			checkRefusal(t, err, 0, `unknown command "extra"`)
			if got.IO != nil {
				t.Error("runF ran with an argument given")
			}
			err = runCmd(tt.cmd(f), "--frobnicate")
			checkRefusal(t, err, ExitUsage, "unknown flag: --frobnicate")
		})
	}
}

// TestConfigValidateRefusesWithoutAFile: with no --config and nothing on
// the search path, validate says where it looked.
func TestConfigValidateRefusesWithoutAFile(t *testing.T) {
	f := flagFactory(t, "", "", map[string]string{"XDG_CONFIG_HOME": t.TempDir(), "HOME": t.TempDir()})
	t.Chdir(t.TempDir())
	err := configValidateRun(&ConfigValidateOptions{f.deps()})
	checkRefusal(t, err, ExitUsage, "config validate: no config file found (looked for [cachectl.yaml ")
}
