package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/report"
)

// VersionInfo describes the build.
type VersionInfo struct {
	Version string `json:"version"`
	// Commit is the revision built, or "unknown" when the build did not
	// record one (Source says why).
	Commit string `json:"commit"`
	// Modified is set for a build from a checkout with uncommitted changes.
	Modified  bool   `json:"modified,omitempty"`
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
	// Source says where version and commit came from: "release" (set when
	// the release was built), "vcs" (a git checkout), "module" (go install
	// of a module version) or "none" (built without version control
	// information: with -buildvcs=false, or outside a git checkout).
	Source string `json:"source"`
}

// Where version and commit came from.
const (
	sourceRelease = "release"
	sourceVCS     = "vcs"
	sourceModule  = "module"
	sourceNone    = "none"
)

// pseudoVersion matches the end of a Go pseudo-version
// (v0.0.0-20260101120000-abcdef123456), whose last part is the commit.
var pseudoVersion = regexp.MustCompile(`(?:^|[-.])\d{14}-([0-9a-f]{12})(?:\+.*)?$`)

func buildInfo() VersionInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return describeBuild(bi, version, commit, date)
}

// describeBuild works out the version and commit of a binary from its
// build information and the values the release build sets with -ldflags
// (ldVersion "dev" and ldCommit "unknown" when it did not).
func describeBuild(bi *debug.BuildInfo, ldVersion, ldCommit, ldDate string) VersionInfo {
	v := VersionInfo{Version: ldVersion, Commit: ldCommit, Date: ldDate, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Source: sourceNone}
	if ldVersion != "dev" || ldCommit != "unknown" {
		v.Source = sourceRelease
	}
	if bi == nil {
		return v
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if v.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
		if v.Source == sourceNone {
			v.Source = sourceModule
		}
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v.Source = sourceVCS
		if v.Commit == "unknown" {
			v.Commit = rev
		}
		v.Modified = settings["vcs.modified"] == "true"
		if v.Date == "" {
			v.Date = settings["vcs.time"]
		}
	}
	if m := pseudoVersion.FindStringSubmatch(v.Version); m != nil && v.Commit == "unknown" {
		v.Commit = m[1]
	}
	return v
}

// commitLine is the commit as the table shows it, saying why when none
// was recorded.
func (v VersionInfo) commitLine() string {
	if v.Commit != "unknown" && v.Commit != "" {
		s := v.Commit
		if v.Modified {
			s += ", with uncommitted changes"
		}
		return s
	}
	switch v.Source {
	case sourceModule:
		return "not recorded (a module build: " + v.Version + " names the release)"
	case sourceNone:
		return "not recorded (built without version control information: with -buildvcs=false, or outside a git checkout)"
	}
	return "not recorded (the build named its version only)"
}

// VersionOptions are what `cachectl version` uses; it has no flags of its
// own (-o json picks JSON).
type VersionOptions struct {
	cmdDeps
}

func newCmdVersion(f *Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{cmdDeps: f.deps()}
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and Go version",
		Long: `Print cachectl's version, the commit it was built from and the Go version.

A build from a git checkout records the commit (and whether the checkout had
uncommitted changes); go install of a module version records that version,
and the commit when the version is a pseudo-version. A build without version
control information (-buildvcs=false, or a source tree outside git) says so.
With -o json: version, commit ("unknown" when not recorded), modified, date,
go_version, platform and source (release, vcs, module or none).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *VersionOptions) error {
	format, err := opts.OutputFormat(report.Table, report.JSON)
	if err != nil {
		return err
	}
	v := buildInfo()
	if format == report.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "cachectl %s\ncommit: %s\ngo: %s %s\n", v.Version, v.commitLine(), v.GoVersion, v.Platform)
	return err
}
