package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/viper"

	"github.com/cachectl/cachectl/pkg/purge/providers"
)

// EnvPrefix is the prefix of environment variables that override config keys:
// CACHECTL_ENVIRONMENTS_PRODUCTION_BASE_URL overrides environments.production.base_url.
const EnvPrefix = "CACHECTL"

// LoadOptions says where to find the configuration.
type LoadOptions struct {
	// File is an explicit path (--config); when set, it must exist.
	File string
	// SearchPaths are tried in order when File is empty; a missing file there is fine.
	SearchPaths []string
	// Environ holds the CACHECTL_ variables that override keys; nothing
	// else of the process environment is read.
	Environ Environ
	// SecretVars are variables named on the command line as secret
	// sources (--cookie-env); they are not overrides.
	SecretVars []string
}

// Load reads, decodes and validates the configuration, with every CACHECTL_
// variable in opts.Environ applied on top. With no file found on the search
// path the configuration is empty, so full URLs work without one. Every
// problem found is reported at once in a *ValidationError.
func Load(opts LoadOptions) (*Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	file := opts.File
	if file == "" {
		for _, p := range opts.SearchPaths {
			if _, err := os.Stat(p); err == nil {
				file = p
				break
			}
		}
	}
	var problems []Problem
	if file != "" {
		src, err := readRegular(file, MaxConfigBytes)
		if err != nil {
			var pathErr *os.PathError
			if errors.As(err, &pathErr) {
				return nil, &FileError{File: file, Err: pathErr.Err}
			}
			return nil, &FileError{File: file, Err: err}
		}
		if err := v.ReadConfig(bytes.NewReader(src)); err != nil {
			return nil, &FileError{File: file, Err: err}
		}
		problems = caseDuplicates(src)
	}
	ovs, ovProblems := overrides(opts.Environ, v.AllSettings(), opts.SecretVars)
	problems = append(problems, ovProblems...)
	for _, o := range ovs {
		v.Set(o.key, o.value)
	}
	cfg := &Config{Environments: map[string]*Environment{}}
	if file == "" && len(ovs)+len(problems) == 0 {
		return cfg, nil
	}
	settings := v.AllSettings()
	cfg.secrets = secretSources(settings)
	problems = append(problems, unknownKeys(settings, reflect.TypeOf(Config{}), "")...)
	if err := v.Unmarshal(cfg); err != nil {
		problems = append(problems, decodeProblems(err, settings, "")...)
	}
	cfg.File = file
	if cfg.Environments == nil {
		cfg.Environments = map[string]*Environment{}
	}
	for name, env := range cfg.Environments {
		if env == nil {
			env = &Environment{}
			cfg.Environments[name] = env
		}
		env.Name = name
	}
	problems = append(problems, cfg.decodeCDN(settings)...)
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		sortProblems(problems)
		return cfg, &ValidationError{File: file, Problems: problems}
	}
	return cfg, nil
}

// FileError is a configuration file that could not be read or parsed.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("config: cannot read %s: %v (expected a readable YAML file)", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the dotted key path, e.g. environments.production.cdn.batch_size.
	Key string `json:"key"`
	// Value is the value found, as written.
	Value string `json:"value"`
	// Expected describes what would be valid.
	Expected string `json:"expected"`
}

func (p Problem) String() string {
	if p.Value == "" {
		return fmt.Sprintf("%s: %s", p.Key, p.Expected)
	}
	return fmt.Sprintf("%s: found %s, expected %s", p.Key, p.Value, p.Expected)
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	File     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	file := e.File
	if file == "" {
		file = "the configuration from CACHECTL_ variables"
	}
	fmt.Fprintf(&b, "config: %s has %d problem(s):", file, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
}

// unknownKeys walks the raw settings against the struct's mapstructure tags and
// reports keys the configuration does not know, with the keys it does.
func unknownKeys(raw any, t reflect.Type, path string) []Problem {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var problems []Problem
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil
		}
		fields, names := structKeys(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				problems = append(problems, Problem{Key: join(path, k), Value: "unknown key", Expected: "one of " + strings.Join(names, ", ")})
				continue
			}
			problems = append(problems, unknownKeys(m[k], ft, join(path, k))...)
		}
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil
		}
		for k, v := range m {
			problems = append(problems, unknownKeys(v, t.Elem(), join(path, k))...)
		}
	case reflect.Slice:
		items, ok := raw.([]any)
		if !ok {
			return nil
		}
		for i, v := range items {
			problems = append(problems, unknownKeys(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return problems
}

// structKeys maps the keys a struct decodes (its mapstructure tags, those
// of squashed embedded structs included) to their types, and lists them in
// order. A cdn section also takes every provider's own keys, which the
// provider it names decodes.
func structKeys(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	for f := range t.Fields() {
		tag, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if f.Anonymous && opts == "squash" {
			sub, subNames := structKeys(f.Type)
			maps.Copy(fields, sub)
			names = append(names, subNames...)
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = f.Type
		names = append(names, tag)
	}
	if t == reflect.TypeFor[CDN]() {
		for _, n := range providers.Names() {
			spec, _ := providers.Lookup(n)
			sub, subNames := structKeys(reflect.TypeOf(spec.NewSettings()).Elem())
			for _, k := range subNames {
				if _, ok := fields[k]; !ok {
					fields[k] = sub[k]
					names = append(names, k)
				}
			}
		}
	}
	return fields, names
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decodeProblems turns the decoder's joined type errors into problems that
// name the key, the value found and the type expected. Keys the decoder
// names are below prefix ("" for the whole configuration).
func decodeProblems(err error, raw map[string]any, prefix string) []Problem {
	var problems []Problem
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
		if line == "" || strings.HasPrefix(line, "decoding failed") || strings.HasSuffix(line, "error(s) decoding:") {
			continue
		}
		p := Problem{Key: "config", Expected: "a value of the right type (" + line + ")"}
		if prefix != "" {
			p.Key = prefix
		}
		if m := decodeErrRE.FindStringSubmatch(line); m != nil {
			p.Key = join(prefix, bracketRE.ReplaceAllString(m[1], ".$1"))
			p.Value = fmt.Sprintf("%q", fmt.Sprint(lookupRaw(raw, p.Key)))
			p.Expected = typeNames[strings.TrimSpace(m[2])]
			if p.Expected == "" {
				p.Expected = "a value of type " + m[2]
			}
		}
		problems = append(problems, p)
	}
	return problems
}

var (
	decodeErrRE = regexp.MustCompile(`'([^']+)'.*?(?:as|type) '?([a-z0-9.\[\]*]+)'?`)
	bracketRE   = regexp.MustCompile(`\[([^\]0-9][^\]]*)\]`)
	typeNames   = map[string]string{
		"int": "a whole number", "int64": "a whole number", "float64": "a number", "bool": "true or false",
		"string": "a string", "[]string": "a list of strings", "slice": "a list", "map": "a mapping of keys to values", "struct": "a mapping of keys to values",
	}
)

func lookupRaw(raw map[string]any, key string) any {
	var cur any = raw
	for _, part := range strings.Split(key, ".") {
		name, idx := part, -1
		if i := strings.Index(part, "["); i >= 0 && strings.HasSuffix(part, "]") {
			n, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil {
				return nil
			}
			name, idx = part[:i], n
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[name]
		if idx >= 0 {
			items, ok := cur.([]any)
			if !ok || idx >= len(items) {
				return nil
			}
			cur = items[idx]
		}
	}
	return cur
}
