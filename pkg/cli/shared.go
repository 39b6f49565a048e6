package cli

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/target"
)

// checkConcurrency bounds --concurrency, the routes probed at once.
func checkConcurrency(n int) error {
	if n < 1 || n > probe.MaxConcurrency {
		return usageErrorf("--concurrency %d: expected 1 to %d", n, probe.MaxConcurrency)
	}
	return nil
}

// checkRate refuses a negative --rate.
func checkRate(perSecond float64) error {
	if perSecond < 0 {
		return usageErrorf("--rate %g: expected requests per second ≥ 0 (0: no cap)", perSecond)
	}
	return nil
}

// rateLimiter caps requests at --rate per second; nil (no cap) for 0.
func rateLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// reportBuffer returns where a run writes its report: through a buffer
// when buffered, with the flush that writes out what it holds, which the
// run calls whenever it waits for more results and once at the end;
// otherwise out itself, with a flush that does nothing.
func reportBuffer(out io.Writer, buffered bool) (io.Writer, func() error) {
	if !buffered {
		return out, func() error { return nil }
	}
	b := bufio.NewWriterSize(out, 64<<10)
	return b, b.Flush
}

// githubAnnotator writes GitHub Actions annotations (failed checks, drift)
// to stderr, next to whatever -o writes, when the run is a GitHub Actions
// job (GITHUB_ACTIONS=true); otherwise it is nil. cfgFile is the file the
// annotations point at, "" for none.
func githubAnnotator(d cmdDeps, cfgFile string) *report.GitHubAnnotator {
	if v, _ := d.Lookup("GITHUB_ACTIONS"); v != "true" {
		return nil
	}
	return report.NewGitHubAnnotator(d.IO.ErrOut, cfgFile)
}

// requireEnvironment loads the config and the --env environment, which cmd
// cannot run without.
func (d cmdDeps) requireEnvironment(cmd string) (*config.Config, *config.Environment, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, nil, err
	}
	env, err := d.Environment()
	if err != nil {
		return nil, nil, err
	}
	if env == nil {
		return nil, nil, usageErrorf("%s: no environment chosen (expected --env NAME, %s)", cmd, knownEnvironments(cfg, d.Environ, "one of: "))
	}
	return cfg, env, nil
}

// planVariants picks the variants: the logged-in one too when the
// environment has a session, whose value must then be readable.
func planVariants(d cmdDeps, cfg *config.Config, env *config.Environment, cookieEnv string) (*probe.Session, []probe.Variant, error) {
	if err := checkCookieEnv(env, cookieEnv, cfg.File); err != nil {
		return nil, nil, err
	}
	session, err := resolveSession(d.Lookup, env, cookieEnv)
	if err != nil {
		return nil, nil, err
	}
	variants := []probe.Variant{probe.Anonymous}
	if session != nil {
		variants = append(variants, probe.LoggedIn)
	} else if n := loggedInExpectations(cfg); n > 0 {
		d.Logger.Warn("logged-in expectations are not checked: the environment has no session", "env", env.Name, "routes", n)
	}
	return session, variants, nil
}

// hasSession reports whether env (nil when none was named) has a session,
// which enables the logged-in variant.
func hasSession(env *config.Environment) bool {
	return env != nil && env.Session != nil
}

// checkCookieEnv refuses --cookie-env VAR when there is no session for the
// value to be sent with.
func checkCookieEnv(env *config.Environment, cookieEnv, cfgFile string) error {
	switch {
	case cookieEnv == "" || hasSession(env):
		return nil
	case env == nil:
		return usageErrorf("--cookie-env needs an environment with a session (session.cookie in the config) and --env NAME")
	}
	return usageErrorf("--cookie-env: environment %q has no session (expected session.cookie in %s)", env.Name, cfgFile)
}

// resolveSession is env's session cookie with its value, read from the
// variable cookieEnv names (--cookie-env) or else from the config's
// value_env or value_file; nil when env has no session. A value that cannot
// be read is a usage error: nothing has been sent.
func resolveSession(lookup config.Lookup, env *config.Environment, cookieEnv string) (*probe.Session, error) {
	if !hasSession(env) {
		return nil, nil
	}
	val, err := env.SessionValue(lookup, cookieEnv)
	if err != nil {
		return nil, usageError(err)
	}
	return &probe.Session{Cookie: env.Session.Cookie, Value: val}, nil
}

// variantSession is the session the logged-in variant is probed with, nil
// when that variant is not probed; as is the --as flag and cookieEnv the
// --cookie-env flag.
func variantSession(lookup config.Lookup, as, cookieEnv, cfgFile string, env *config.Environment, variants []probe.Variant) (*probe.Session, error) {
	if err := checkCookieEnv(env, cookieEnv, cfgFile); err != nil {
		return nil, err
	}
	if !probesLoggedIn(variants) {
		return nil, nil
	}
	if !hasSession(env) {
		if env == nil {
			return nil, usageErrorf("--as %s needs --env NAME for an environment with a session configured", as)
		}
		return nil, usageErrorf("--as %s: environment %q has no session (expected session.cookie and session.value_env in %s)", as, env.Name, cfgFile)
	}
	return resolveSession(lookup, env, cookieEnv)
}

// sessionCheck is what every URL of a run must pass: with a session, the
// environment's own hosts (sessionHosts); without one, nothing (nil).
func sessionCheck(env *config.Environment, session *probe.Session) func(string) error {
	if session == nil {
		return nil
	}
	return sessionHosts(env)
}

// probesLoggedIn reports whether variants include the logged-in one.
func probesLoggedIn(variants []probe.Variant) bool {
	return slices.Contains(variants, probe.LoggedIn)
}

// checkHostHeader refuses a Host header (from --header or the environment's
// headers) naming a host outside the environment when the session cookie
// would go with it: behind a shared edge that is another site.
func checkHostHeader(o probe.Options, env *config.Environment, session *probe.Session) error {
	h := o.Header.Get("Host")
	if h == "" || session == nil || env == nil || target.HostAllowed(h, env.AllowedHosts()) {
		return nil
	}
	return usageErrorf("Host: %s is not a host of environment %q (allowed hosts: %s); the session cookie is never sent to another virtual host (drop the Host header, or probe with --as anonymous)", h, env.Name, strings.Join(env.AllowedHosts(), ", "))
}

// knownEnvironments lists the environments --env may name after label
// ("one of: a, b") or, with no config file, says where cachectl looked for
// one and how to start one.
func knownEnvironments(cfg *config.Config, env config.Environ, label string) string {
	switch {
	case cfg.File == "":
		var looked []string
		for _, p := range config.DefaultSearchPaths(env) {
			if !filepath.IsAbs(p) {
				p = "./" + p
			}
			looked = append(looked, p)
		}
		return fmt.Sprintf("no config file was found (looked for %s); create one with an environments: section (configs/demo.yaml in cachectl's repository is an annotated example) or pass --config FILE",
			strings.Join(looked, " and "))
	case len(cfg.Environments) == 0:
		return cfg.File + " defines no environments"
	}
	return label + strings.Join(cfg.EnvNames(), ", ")
}

// envHostCheck refuses a URL that is not on one of env's hosts, with
// refusal formatted from the URL, the environment's name and its hosts.
func envHostCheck(env *config.Environment, refusal string) func(string) error {
	tenv := env.TargetEnv()
	return func(u string) error {
		if !tenv.Allows(u) {
			return fmt.Errorf(refusal, u, env.Name, strings.Join(tenv.AllowedHosts(), ", "))
		}
		return nil
	}
}
