package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Variables with the CACHECTL_ prefix that are flags' defaults, not config keys.
var flagVars = map[string]bool{
	EnvPrefix + "_ENV":       true,
	EnvPrefix + "_OUTPUT":    true,
	EnvPrefix + "_LOG_LEVEL": true,
}

// override is one CACHECTL_ variable mapped onto a key of the schema.
type override struct {
	variable string
	key      string
	value    any
}

// overrides maps every CACHECTL_ variable in env onto a key of the schema,
// whether or not the file sets that key. A variable that names no key is a
// problem naming the variable (its value is never shown). Variables the
// configuration names as secret sources, the flags' own variables and
// those in exempt are left alone.
func overrides(env Environ, raw map[string]any, exempt []string) ([]override, []Problem) {
	skip := map[string]bool{}
	for _, n := range exempt {
		skip[n] = true
	}
	collectSecretVars(raw, skip)
	envNames := environmentNames(raw)
	var out []override
	var problems []Problem
	seen := map[string]bool{}
	for i := len(env) - 1; i >= 0; i-- {
		name, value, ok := strings.Cut(env[i], "=")
		if !ok || seen[name] || !strings.HasPrefix(name, EnvPrefix+"_") || flagVars[name] || skip[name] {
			continue
		}
		seen[name] = true
		rest := strings.TrimPrefix(name, EnvPrefix+"_")
		key, leaf, why := keyFor(rest, reflect.TypeOf(Config{}), envNames)
		if key == "" {
			problems = append(problems, Problem{Key: name, Expected: why})
			continue
		}
		out = append(out, override{variable: name, key: key, value: leafValue(leaf, value)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].variable < out[j].variable })
	return out, problems
}

// keyFor finds the dotted key path the upper-case, underscore-separated
// rest names within type t. It returns the key and its type, or "" and why
// no key matched.
func keyFor(rest string, t reflect.Type, envNames []string) (string, reflect.Type, string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct:
		return fieldFor(rest, t, envNames)
	case t == reflect.TypeFor[KeyHeaders]():
		// Header names hold "-", which a variable name cannot: "_" stands for it.
		return strings.ToLower(strings.ReplaceAll(rest, "_", "-")), t.Elem(), ""
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && isLeaf(t.Elem()):
		return strings.ToLower(rest), t.Elem(), ""
	case t.Kind() == reflect.Map:
		return environmentFor(rest, t.Elem(), envNames)
	}
	return "", nil, "a key that takes a value from the environment (lists of mappings such as routes are set in the file)"
}

func fieldFor(rest string, t reflect.Type, envNames []string) (string, reflect.Type, string) {
	fields, names := structKeys(t)
	names = slices.Clone(names)
	// The longest name first, so BASE_URL is not taken for a key BASE.
	sort.SliceStable(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for _, tag := range names {
		ft := fields[tag]
		up := strings.ToUpper(tag)
		if rest == up {
			if isLeaf(ft) {
				return tag, ft, ""
			}
			return keyFor("", ft, envNames)
		}
		if after, ok := strings.CutPrefix(rest, up+"_"); ok && !isLeaf(ft) {
			key, leaf, why := keyFor(after, ft, envNames)
			if key == "" {
				return "", nil, why
			}
			return tag + "." + key, leaf, ""
		}
	}
	sort.Strings(names)
	return "", nil, fmt.Sprintf("a variable naming a config key (known here: %s), e.g. %s_ENVIRONMENTS_PRODUCTION_CDN_API_URL; unset it or fix its name", strings.Join(names, ", "), EnvPrefix)
}

func environmentFor(rest string, elem reflect.Type, envNames []string) (string, reflect.Type, string) {
	for _, n := range envNames {
		if after, ok := strings.CutPrefix(rest, strings.ToUpper(strings.ReplaceAll(n, ".", "_"))+"_"); ok {
			key, leaf, why := keyFor(after, elem, envNames)
			if key == "" {
				return "", nil, why
			}
			return n + "." + key, leaf, ""
		}
	}
	known := "none"
	if len(envNames) > 0 {
		known = strings.Join(envNames, ", ")
	}
	return "", nil, fmt.Sprintf("a variable naming an environment the config defines (known: %s) followed by one of its keys", known)
}

// isLeaf reports whether a value of type t comes from one variable: a
// scalar or a list of scalars.
func isLeaf(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return false
	case reflect.Slice:
		return isLeaf(t.Elem())
	}
	return true
}

// leafValue turns a variable's text into the value viper decodes: a list is
// comma-separated, anything else is decoded from the text as the file's
// value would be.
func leafValue(t reflect.Type, v string) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Slice {
		return v
	}
	var items []any
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	return items
}

func environmentNames(raw map[string]any) []string {
	envs, _ := raw["environments"].(map[string]any)
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	// The longest first, so "prod_eu" is not taken for "prod".
	sort.Slice(names, func(i, j int) bool {
		if len(names[i]) != len(names[j]) {
			return len(names[i]) > len(names[j])
		}
		return names[i] < names[j]
	})
	return names
}

// collectSecretVars adds every variable the configuration names as a
// secret source (session.value_env, cdn.api_token_env, ...) to skip.
func collectSecretVars(raw any, skip map[string]bool) {
	for _, src := range secretSources(raw) {
		if src.env {
			skip[src.name] = true
		}
	}
}

// secretSource is a variable or file the configuration names as holding a
// secret: every key ending in _env names a variable, every key ending in
// _file a file.
type secretSource struct {
	name string
	env  bool
}

func secretSources(raw any) []secretSource {
	var out []secretSource
	switch v := raw.(type) {
	case map[string]any:
		for k, x := range v {
			s, ok := x.(string)
			switch {
			case ok && s != "" && strings.HasSuffix(k, "_env"):
				out = append(out, secretSource{name: s, env: true})
			case ok && s != "" && strings.HasSuffix(k, "_file"):
				out = append(out, secretSource{name: s})
			default:
				out = append(out, secretSources(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, secretSources(x)...)
		}
	}
	return out
}
