package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/providers"
	"github.com/cachectl/cachectl/pkg/related"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/secret"
)

func newCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check or print the configuration",
	}
	cmd.AddCommand(newCmdConfigValidate(f, nil), newCmdConfigShow(f, nil))
	return cmd
}

// ConfigValidateOptions are what `cachectl config validate` uses; it has no
// flags of its own (--config names the file).
type ConfigValidateOptions struct {
	cmdDeps
}

func newCmdConfigValidate(f *Factory, runF func(context.Context, *ConfigValidateOptions) error) *cobra.Command {
	opts := &ConfigValidateOptions{cmdDeps: f.deps()}
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the config file and report every problem with its key, the value found and what was expected",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return configValidateRun(opts)
		},
	}
}

func configValidateRun(opts *ConfigValidateOptions) error {
	format, err := opts.OutputFormat(report.Table, report.JSON)
	if err != nil {
		return err
	}
	if opts.Globals.ConfigFile == "" {
		if _, err := firstExisting(config.DefaultSearchPaths(opts.Environ)); err != nil {
			return usageErrorf("config validate: no config file found (looked for %v); pass --config FILE", config.DefaultSearchPaths(opts.Environ))
		}
	}
	cfg, err := opts.Config()
	if format == report.JSON {
		return writeValidation(opts.IO.Out, cfg, err)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s is valid: %d environment(s), %d route(s)\n", cfg.File, len(cfg.Environments), len(cfg.Routes))
	return err
}

// writeValidation writes the outcome of loading the config as one JSON
// document: the file, whether it is valid and every problem found. An
// invalid config then ends the run with exit 2 and no further message.
func writeValidation(w io.Writer, cfg *config.Config, loadErr error) error {
	out := struct {
		File     string           `json:"file"`
		Valid    bool             `json:"valid"`
		Problems []config.Problem `json:"problems"`
	}{Valid: loadErr == nil, Problems: []config.Problem{}}
	if cfg != nil {
		out.File = cfg.File
	}
	var ve *config.ValidationError
	if errors.As(loadErr, &ve) {
		out.File, out.Problems = ve.File, ve.Problems
	} else if loadErr != nil {
		return loadErr
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if loadErr != nil {
		return &ExitError{Code: ExitUsage}
	}
	return nil
}

// ConfigShowOptions are what `cachectl config show` uses; it has no flags
// of its own (--config names the file, -o the format).
type ConfigShowOptions struct {
	cmdDeps
}

func newCmdConfigShow(f *Factory, runF func(context.Context, *ConfigShowOptions) error) *cobra.Command {
	opts := &ConfigShowOptions{cmdDeps: f.deps()}
	return &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (file plus CACHECTL_ overrides) with secrets redacted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return configShowRun(opts)
		},
	}
}

func configShowRun(opts *ConfigShowOptions) error {
	format, err := opts.OutputFormat(report.Table, report.JSON)
	if err != nil {
		return err
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	view := struct {
		File         string                         `json:"file" yaml:"file"`
		Environments map[string]*config.Environment `json:"environments" yaml:"environments"`
		Routes       []config.Route                 `json:"routes,omitempty" yaml:"routes,omitempty"`
		Defaults     config.Defaults                `json:"defaults" yaml:"defaults,omitempty"`
		CacheHeaders []string                       `json:"cache_headers,omitempty" yaml:"cache_headers,omitempty"`
		Related      []related.Rule                 `json:"related,omitempty" yaml:"related,omitempty"`
		Secrets      map[string]string              `json:"secrets" yaml:"secrets"`
	}{cfg.File, cfg.Environments, cfg.Routes, cfg.Defaults, cfg.CacheHeaders, cfg.Related, secretStatus(opts.Lookup, cfg)}
	if format == report.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(view)
	}
	enc := yaml.NewEncoder(opts.IO.Out)
	enc.SetIndent(2)
	if err := enc.Encode(view); err != nil {
		return err
	}
	return enc.Close()
}

// secretStatus says, for each secret the config refers to, where it comes
// from and whether it is available — never its value.
func secretStatus(lookup config.Lookup, cfg *config.Config) map[string]string {
	out := map[string]string{}
	state := func(v secret.Value, err error) string {
		if err != nil {
			return "unavailable: " + err.Error()
		}
		return "set (" + v.String() + ")"
	}
	for _, name := range cfg.EnvNames() {
		env := cfg.Environments[name]
		if env.Session != nil {
			out["environments."+name+".session"] = state(env.SessionValue(lookup, ""))
		}
		if env.CDN.APITokenEnv != "" || env.CDN.APITokenFile != "" {
			out["environments."+name+".cdn.api_token"] = state(env.CDN.Token(lookup, name))
		}
		if spec, ok := providers.Lookup(env.CDN.Provider); ok && spec.Secret.Kind == purge.SecretAWS {
			out["environments."+name+".cdn.credentials"] = "from the AWS SDK's default chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, SSO, web identity), resolved when purging"
		}
	}
	return out
}

func firstExisting(paths []string) (string, error) {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// warnReadableSecrets warns about secret files that other users can read.
func warnReadableSecrets(log *slog.Logger, cfg *config.Config) {
	check := func(key, path string) {
		if path == "" {
			return
		}
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o044 != 0 {
			log.Warn(fmt.Sprintf("%s: %s is readable by other users (mode %s); run chmod 600 %s", key, path, st.Mode().Perm(), path))
		}
	}
	if cfg.File != "" {
		if st, err := os.Stat(cfg.File); err == nil && st.Mode().Perm()&0o002 != 0 {
			log.Warn(fmt.Sprintf("%s is writable by other users (mode %s): anyone could redirect purges or cookies", cfg.File, st.Mode().Perm()))
		}
	}
	for _, name := range cfg.EnvNames() {
		env := cfg.Environments[name]
		if env.Session != nil {
			check("environments."+name+".session.value_file", env.Session.ValueFile)
		}
		check("environments."+name+".cdn.api_token_file", env.CDN.APITokenFile)
	}
}
