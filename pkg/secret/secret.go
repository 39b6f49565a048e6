// Package secret holds values (API tokens, session cookies) that must never
// reach output, logs, journals or error messages.
package secret

import (
	"fmt"
	"log/slog"
	"regexp"
)

// Value is a secret string. Every way of formatting it prints REDACTED;
// Reveal is the only way to read it, at the one place that sends it.
type Value string

// Redacted is what a secret prints as.
const Redacted = "REDACTED"

// String hides the value.
func (Value) String() string { return Redacted }

// GoString hides the value.
func (Value) GoString() string { return Redacted }

// LogValue hides the value from slog.
func (Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText hides the value from encoders (JSON, YAML).
func (Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Format hides the value from every fmt verb, %s, %v, %q and %x included.
func (Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// Reveal returns the value.
func (v Value) Reveal() string { return string(v) }

// IsZero reports whether the secret is empty.
func (v Value) IsZero() bool { return v == "" }

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidEnvName reports whether name can name the environment variable a
// secret is read from: letters, digits and '_', not starting with a digit.
func ValidEnvName(name string) bool { return envNameRE.MatchString(name) }
