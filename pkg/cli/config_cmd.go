package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/secret"
)

func newCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check or print the configuration",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Check the config file and report every problem with its key, the value found and what was expected",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := f.OutputFormat(report.Table, report.JSON)
			if err != nil {
				return err
			}
			if f.Globals.ConfigFile == "" {
				if _, err := firstExisting(config.DefaultSearchPaths(f.Environ)); err != nil {
					return usageErrorf("config validate: no config file found (looked for %v); pass --config FILE", config.DefaultSearchPaths(f.Environ))
				}
			}
			cfg, err := f.Config()
			var ve *config.ValidationError
			if format == report.JSON {
				out := struct {
					File     string           `json:"file"`
					Valid    bool             `json:"valid"`
					Problems []config.Problem `json:"problems"`
				}{Valid: err == nil, Problems: []config.Problem{}}
				if cfg != nil {
					out.File = cfg.File
				}
				if errors.As(err, &ve) {
					out.File, out.Problems = ve.File, ve.Problems
				} else if err != nil {
					return err
				}
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				if encErr := enc.Encode(out); encErr != nil {
					return encErr
				}
				if err != nil {
					return &ExitError{Code: ExitUsage}
				}
				return nil
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(f.IO.Out, "%s is valid: %d environment(s), %d route(s)\n", cfg.File, len(cfg.Environments), len(cfg.Routes))
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (file plus CACHECTL_ overrides) with secrets redacted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := f.OutputFormat(report.Table, report.JSON)
			if err != nil {
				return err
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			view := struct {
				File         string                         `json:"file" yaml:"file"`
				Environments map[string]*config.Environment `json:"environments" yaml:"environments"`
				Routes       []config.Route                 `json:"routes,omitempty" yaml:"routes,omitempty"`
				Defaults     config.Defaults                `json:"defaults" yaml:"defaults,omitempty"`
				CacheHeaders []string                       `json:"cache_headers,omitempty" yaml:"cache_headers,omitempty"`
				Secrets      map[string]string              `json:"secrets" yaml:"secrets"`
			}{cfg.File, cfg.Environments, cfg.Routes, cfg.Defaults, cfg.CacheHeaders, secretStatus(f, cfg)}
			if format == report.JSON {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(view)
			}
			enc := yaml.NewEncoder(f.IO.Out)
			enc.SetIndent(2)
			if err := enc.Encode(view); err != nil {
				return err
			}
			return enc.Close()
		},
	})
	return cmd
}

// secretStatus says, for each secret the config refers to, where it comes
// from and whether it is available — never its value.
func secretStatus(f *Factory, cfg *config.Config) map[string]string {
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
			out["environments."+name+".session"] = state(env.SessionValue(f.Lookup, ""))
		}
		if env.CDN.APITokenEnv != "" || env.CDN.APITokenFile != "" {
			out["environments."+name+".cdn.api_token"] = state(env.CDN.Token(f.Lookup, name))
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
