package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/secret"
)

// Statuses are the normalized cache statuses an expectation may allow.
var Statuses = []string{"HIT", "MISS", "EXPIRED", "STALE", "UPDATING", "REVALIDATED", "BYPASS", "DYNAMIC", "UNKNOWN"}

// Severities a fail_on_findings expectation may name.
var Severities = []string{string(finding.Info), string(finding.Warn), string(finding.Error)}

var (
	cookieNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	envNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
)

// ValidEnvName reports whether name can be an environment's name:
// lower-case letters, digits, '-', '_' and '.', starting with a letter or
// a digit.
func ValidEnvName(name string) bool { return envNameRE.MatchString(name) }

func (c *Config) validate() []Problem {
	var ps []Problem
	add := func(key, value, expected string) {
		ps = append(ps, Problem{Key: key, Value: value, Expected: expected})
	}
	for _, name := range c.EnvNames() {
		ps = append(ps, c.Environments[name].validate("environments."+name)...)
	}
	ps = append(ps, validateRelated("", c.Related)...)
	seen := map[string]int{}
	for i, r := range c.Routes {
		k := fmt.Sprintf("routes[%d]", i)
		switch {
		case r.Path == "":
			add(k+".path", "", "a path starting with / (or a full URL) (missing)")
		case strings.HasPrefix(r.Path, "/"):
		default:
			if u, err := url.Parse(r.Path); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add(k+".path", strconv.Quote(r.Path), "a path starting with / or a full http(s) URL")
			}
		}
		if j, dup := seen[r.Path]; dup && r.Path != "" {
			add(k+".path", strconv.Quote(r.Path), fmt.Sprintf("a path not already listed (same as routes[%d])", j))
		}
		seen[r.Path] = i
		ps = append(ps, validateIgnore(k+".stale.ignore", r.Stale.Ignore)...)
		ps = append(ps, validateExpectation(k+".expect.anonymous", r.Expect.Anonymous)...)
		ps = append(ps, validateExpectation(k+".expect.logged_in", r.Expect.LoggedIn)...)
		if r.Expect.LoggedIn != nil && !c.anySession() && len(c.Environments) > 0 {
			add(k+".expect.logged_in", "an expectation", "a session configured in at least one environment, so the logged-in variant can be probed")
		}
	}
	ps = append(ps, validateExpectation("defaults.expect.anonymous", c.Defaults.Expect.Anonymous)...)
	ps = append(ps, validateExpectation("defaults.expect.logged_in", c.Defaults.Expect.LoggedIn)...)
	for i, h := range c.CacheHeaders {
		if !cookieNameRE.MatchString(h) {
			add(fmt.Sprintf("cache_headers[%d]", i), strconv.Quote(h), "a header name such as X-Cache-Status")
		}
	}
	return ps
}

// validate checks one environment; k is its key path (environments.NAME).
func (env *Environment) validate(k string) []Problem {
	var ps []Problem
	add := func(key, value, expected string) {
		ps = append(ps, Problem{Key: key, Value: value, Expected: expected})
	}
	if !envNameRE.MatchString(env.Name) {
		add(k, strconv.Quote(env.Name), "an environment name of lower-case letters, digits, '-', '_' or '.'")
	}
	if env.BaseURL == "" {
		add(k+".base_url", "", "an absolute http(s) URL such as https://www.example.com (missing)")
	} else if err := purge.CheckBaseURL(env.BaseURL); err != nil {
		add(k+".base_url", strconv.Quote(env.BaseURL), err.Error())
	}
	for i, h := range env.Hosts {
		if !validHost(h) {
			add(fmt.Sprintf("%s.hosts[%d]", k, i), strconv.Quote(h), "a host name such as www.example.com, optionally with :port, without scheme or path")
		}
	}
	if s := env.Session; s != nil {
		if !cookieNameRE.MatchString(s.Cookie) {
			add(k+".session.cookie", strconv.Quote(s.Cookie), "a cookie name (RFC 6265 token), e.g. sessionid")
		}
		switch {
		case s.ValueEnv == "" && s.ValueFile == "":
			add(k+".session", "", "value_env (an environment variable name) or value_file (a file path) for the session value; the value itself never goes in the config")
		case s.ValueEnv != "" && s.ValueFile != "":
			add(k+".session", "value_env and value_file", "only one of value_env or value_file")
		case s.ValueEnv != "" && !secret.ValidEnvName(s.ValueEnv):
			add(k+".session.value_env", strconv.Quote(s.ValueEnv), "an environment variable name such as CACHECTL_PRODUCTION_SESSION")
		}
	}
	for h, v := range env.Headers {
		switch strings.ToLower(h) {
		case "cookie", "authorization", "proxy-authorization":
			add(k+".headers."+h, "a credential header", "no Cookie, Authorization or Proxy-Authorization header in config; use session.value_env or value_file")
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			add(k+".headers."+h, "a value with a line break or NUL", "one line")
		}
	}
	ps = append(ps, env.validateOrigin(k)...)
	ps = append(ps, validateIgnore(k+".stale.ignore", env.Stale.Ignore)...)
	ps = append(ps, validateCDN(k+".cdn", &env.CDN)...)
	ps = append(ps, validatePurgeScope(k, env)...)
	return ps
}

// validateOrigin checks origin_url and origin_host, the origin stale compares with.
func (env *Environment) validateOrigin(k string) []Problem {
	var ps []Problem
	if env.OriginURL != "" {
		if err := purge.CheckBaseURL(env.OriginURL); err != nil {
			ps = append(ps, Problem{Key: k + ".origin_url", Value: strconv.Quote(env.OriginURL), Expected: err.Error() + ", such as http://10.0.0.7:8000"})
		}
	}
	switch {
	case env.OriginHost == "":
	case !validHost(env.OriginHost):
		ps = append(ps, Problem{Key: k + ".origin_host", Value: strconv.Quote(env.OriginHost), Expected: "a host name such as www.example.com, optionally with :port, without scheme or path"})
	case env.OriginURL == "":
		ps = append(ps, Problem{Key: k + ".origin_host", Value: strconv.Quote(env.OriginHost), Expected: "origin_url set too (origin_host is the Host header sent to origin_url)"})
	}
	return ps
}

// validateIgnore checks a stale.ignore list: each entry a non-empty RE2
// pattern.
func validateIgnore(k string, patterns []string) []Problem {
	var ps []Problem
	for i, p := range patterns {
		key := fmt.Sprintf("%s[%d]", k, i)
		if p == "" {
			ps = append(ps, Problem{Key: key, Value: `""`, Expected: "a non-empty regular expression (RE2 syntax) such as <span class=\"rendered\">[^<]*</span>"})
		} else if _, err := regexp.Compile(p); err != nil {
			ps = append(ps, Problem{Key: key, Value: strconv.Quote(p), Expected: "a valid regular expression (RE2 syntax): " + err.Error()})
		}
	}
	return ps
}

func (c *Config) anySession() bool {
	for _, e := range c.Environments {
		if e.Session != nil {
			return true
		}
	}
	return false
}

func validateExpectation(k string, e *Expectation) []Problem {
	if e == nil {
		return nil
	}
	var ps []Problem
	add := func(key, value, expected string) {
		ps = append(ps, Problem{Key: key, Value: value, Expected: expected})
	}
	onlyShared := true
	for i, s := range e.Cache {
		up := strings.ToUpper(strings.TrimSpace(s))
		if !contains(Statuses, up) {
			add(fmt.Sprintf("%s.cache[%d]", k, i), strconv.Quote(s), "one of "+strings.Join(Statuses, ", "))
		}
		if up != "HIT" && up != "STALE" && up != "UPDATING" && up != "REVALIDATED" {
			onlyShared = false
		}
	}
	if e.MinMaxAge != nil && *e.MinMaxAge < 0 {
		add(k+".min_max_age", fmt.Sprint(*e.MinMaxAge), "seconds ≥ 0")
	}
	if e.MaxMaxAge != nil && *e.MaxMaxAge < 0 {
		add(k+".max_max_age", fmt.Sprint(*e.MaxMaxAge), "seconds ≥ 0")
	}
	if e.MinMaxAge != nil && e.MaxMaxAge != nil && *e.MinMaxAge > *e.MaxMaxAge {
		add(k+".min_max_age", fmt.Sprint(*e.MinMaxAge), fmt.Sprintf("at most max_max_age (%d)", *e.MaxMaxAge))
	}
	if e.Status != nil && (*e.Status < 100 || *e.Status > 599) {
		add(k+".status", strconv.Itoa(*e.Status), "an HTTP status code between 100 and 599")
	}
	if e.MaxTTFBMs != nil && *e.MaxTTFBMs <= 0 {
		add(k+".max_ttfb_ms", fmt.Sprint(*e.MaxTTFBMs), "milliseconds > 0")
	}
	if e.FailOnFindings != "" && !contains(Severities, e.FailOnFindings) {
		add(k+".fail_on_findings", strconv.Quote(e.FailOnFindings), "one of "+strings.Join(Severities, ", "))
	}
	// Combinations no response can satisfy.
	private := e.Private != nil && *e.Private
	noStore := e.NoStore != nil && *e.NoStore
	if (private || noStore) && e.MinMaxAge != nil && *e.MinMaxAge > 0 {
		add(k+".min_max_age", fmt.Sprint(*e.MinMaxAge), "no min_max_age when private or no_store is required (a shared cache may not keep such a response)")
	}
	if (private || noStore) && len(e.Cache) > 0 && onlyShared {
		add(k+".cache", strings.Join(e.Cache, ","), "a status that is not served from a shared cache (MISS, BYPASS, DYNAMIC, ...) when private or no_store is required")
	}
	ps = append(ps, validateServerTiming(k+".server_timing", e.ServerTiming)...)
	if h := e.Headers; h != nil {
		absent := map[string]bool{}
		for _, n := range h.Absent {
			absent[strings.ToLower(n)] = true
		}
		for _, n := range h.Present {
			if absent[strings.ToLower(n)] {
				add(k+".headers.present", strconv.Quote(n), "a header not also listed under headers.absent")
			}
		}
		for n := range h.Equal {
			if absent[strings.ToLower(n)] {
				add(k+".headers.equal."+n, strconv.Quote(n), "a header not also listed under headers.absent")
			}
		}
		for n, re := range h.Match {
			if _, err := regexp.Compile(re); err != nil {
				add(k+".headers.match."+n, strconv.Quote(re), "a valid regular expression (RE2 syntax): "+err.Error())
			}
		}
	}
	return ps
}

// validateServerTiming checks the server_timing expectations: metric
// names are tokens, and each states something a response can meet.
func validateServerTiming(k string, m map[string]ServerTimingExpect) []Problem {
	var ps []Problem
	add := func(key, value, expected string) {
		ps = append(ps, Problem{Key: key, Value: value, Expected: expected})
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		e, key := m[name], k+"."+name
		if !cookieNameRE.MatchString(name) {
			add(key, strconv.Quote(name), "a Server-Timing metric name (a token such as db or cfOrigin)")
		}
		switch {
		case e.MaxMs == nil && e.Present == nil:
			add(key, "", "max_ms (milliseconds) or present (true or false)")
		case e.MaxMs != nil && *e.MaxMs <= 0:
			add(key+".max_ms", fmt.Sprint(*e.MaxMs), "milliseconds > 0")
		case e.MaxMs != nil && e.Present != nil && !*e.Present:
			add(key+".present", "false", "true or no present key when max_ms is set (a bound needs the metric)")
		}
	}
	return ps
}

func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/?#@ ") || strings.Contains(h, "://") {
		return false
	}
	host := h
	if hh, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
		host = hh
	}
	return host != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
