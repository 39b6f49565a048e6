package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/providers"
)

// decodeCDN hands each environment's cdn section to the provider it names,
// which decodes its own keys into its settings. A provider's required key
// set without cdn.provider is reported here; an unknown provider, by
// validateCDN.
func (c *Config) decodeCDN(raw map[string]any) []Problem {
	var ps []Problem
	for _, name := range c.EnvNames() {
		cdn := &c.Environments[name].CDN
		k := "environments." + name + ".cdn"
		// From the merged settings: a CACHECTL_ override of one key must not
		// hide the file's other keys of the section.
		m, ok := lookupRaw(raw, k).(map[string]any)
		if !ok {
			continue
		}
		section := viper.New()
		if err := section.MergeConfigMap(m); err != nil {
			ps = append(ps, Problem{Key: k, Expected: "a mapping of keys to values (" + err.Error() + ")"})
			continue
		}
		if cdn.Provider == "" {
			if slices.ContainsFunc(providers.RequiredKeys(), func(key string) bool { return nonEmpty(section.Get(key)) }) {
				ps = append(ps, Problem{Key: k + ".provider", Expected: "one of " + strings.Join(providers.Names(), ", ") + " when other cdn keys are set"})
			}
			continue
		}
		spec, ok := providers.Lookup(cdn.Provider)
		if !ok {
			continue
		}
		settings := spec.NewSettings()
		if err := section.Unmarshal(settings); err != nil {
			ps = append(ps, decodeProblems(err, raw, k)...)
			continue
		}
		cdn.Settings = settings
	}
	return ps
}

// nonEmpty reports whether a value as loaded says something: a non-empty
// string or list, or any other non-zero value.
func nonEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return false
	case reflect.String, reflect.Slice, reflect.Map:
		return rv.Len() > 0
	}
	return !rv.IsZero()
}

// validateCDN checks an environment's cdn section: the shared keys, then
// the named provider's.
func validateCDN(k string, cdn *CDN) []Problem {
	ps := sectionProblems(k, cdn.Common.Validate())
	if cdn.Provider == "" {
		return ps
	}
	spec, ok := providers.Lookup(cdn.Provider)
	if !ok {
		return append(ps, Problem{Key: k + ".provider", Value: strconv.Quote(cdn.Provider), Expected: "one of " + strings.Join(providers.Names(), ", ")})
	}
	if cdn.Settings == nil {
		// Its keys did not decode; decodeCDN said why.
		return ps
	}
	return append(ps, sectionProblems(k, spec.Validate(cdn.Common, cdn.Settings))...)
}

// sectionProblems places a cdn section's problems under its key path.
func sectionProblems(k string, in []purge.Problem) []Problem {
	out := make([]Problem, len(in))
	for i, p := range in {
		out[i] = Problem{Key: k + "." + p.Key, Value: p.Value, Expected: p.Expected}
	}
	return out
}

// MarshalYAML prints the section the way it is written: the provider,
// its own keys, then the other shared keys.
func (c CDN) MarshalYAML() (any, error) {
	var common yaml.Node
	if err := common.Encode(c.Common); err != nil {
		return nil, fmt.Errorf("config: cdn: %w", err)
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	rest := common.Content
	if len(rest) >= 2 && rest[0].Value == "provider" {
		out.Content, rest = append(out.Content, rest[:2]...), rest[2:]
	}
	if c.Settings != nil {
		var own yaml.Node
		if err := own.Encode(c.Settings); err != nil {
			return nil, fmt.Errorf("config: cdn %s settings: %w", c.Provider, err)
		}
		out.Content = append(out.Content, own.Content...)
	}
	out.Content = append(out.Content, rest...)
	return out, nil
}

// MarshalJSON prints the shared keys and the provider's own as one
// object, in that order.
func (c CDN) MarshalJSON() ([]byte, error) {
	out := []byte{'{'}
	for _, part := range []any{c.Common, c.Settings} {
		if part == nil {
			continue
		}
		b, err := json.Marshal(part)
		if err != nil {
			return nil, fmt.Errorf("config: cdn: %w", err)
		}
		body := bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("{")), []byte("}"))
		if len(body) == 0 {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, body...)
	}
	return append(out, '}'), nil
}
