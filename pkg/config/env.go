package config

import (
	"path/filepath"
	"strings"
)

// Environ is the process environment as cachectl reads it: "NAME=value"
// entries, as os.Environ returns them. Every environment read goes through
// it, so a test can hand a command exactly the variables it means to.
type Environ []string

// Lookup returns the value of name; the last entry wins, as in a shell.
func (e Environ) Lookup(name string) (string, bool) {
	for i := len(e) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e[i], "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// Get returns the value of name, or "" when it is unset.
func (e Environ) Get(name string) string {
	v, _ := e.Lookup(name)
	return v
}

// EnvironFromMap builds an Environ from a map (tests).
func EnvironFromMap(m map[string]string) Environ {
	e := make(Environ, 0, len(m))
	for k, v := range m {
		e = append(e, k+"="+v)
	}
	return e
}

// Lookup reads an environment variable; Environ.Lookup is one.
type Lookup func(string) (string, bool)

// DefaultSearchPaths returns ./cachectl.yaml, then $XDG_CONFIG_HOME/cachectl/config.yaml
// ($HOME/.config when XDG_CONFIG_HOME is unset).
func DefaultSearchPaths(env Environ) []string {
	paths := []string{"cachectl.yaml"}
	dir := env.Get("XDG_CONFIG_HOME")
	if dir == "" {
		if home := env.Get("HOME"); home != "" {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir != "" {
		paths = append(paths, filepath.Join(dir, "cachectl", "config.yaml"))
	}
	return paths
}
