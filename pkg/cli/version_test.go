package cli

import (
	"runtime/debug"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/cachectl/cachectl", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	const rev = "c7f37da56af1ee38fbe1976e12f0d160c0c16138"
	tests := []struct {
		name                    string
		bi                      *debug.BuildInfo
		ldVersion, ldCommit     string
		version, commit, source string
		line                    string
	}{
		{"git checkout", info("v0.0.0-20261130051513-c7f37da56af1", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-11-30T05:15:13Z", "vcs.modified", "false"), "dev", "unknown",
			"v0.0.0-20261130051513-c7f37da56af1", rev, sourceVCS, rev},
		{"git checkout with changes", info("v1.2.3+dirty", "vcs.revision", rev, "vcs.modified", "true"), "dev", "unknown",
			"v1.2.3+dirty", rev, sourceVCS, rev + ", with uncommitted changes"},
		{"go install of a release", info("v1.2.3"), "dev", "unknown",
			"v1.2.3", "unknown", sourceModule, "not recorded (a module build: v1.2.3 names the release)"},
		{"go install of a commit", info("v0.0.0-20261130051513-c7f37da56af1"), "dev", "unknown",
			"v0.0.0-20261130051513-c7f37da56af1", "c7f37da56af1", sourceModule, "c7f37da56af1"},
		{"go install of a commit after a release", info("v1.2.4-0.20261130051513-c7f37da56af1"), "dev", "unknown",
			"v1.2.4-0.20261130051513-c7f37da56af1", "c7f37da56af1", sourceModule, "c7f37da56af1"},
		{"-buildvcs=false", info("(devel)"), "dev", "unknown",
			"dev", "unknown", sourceNone, "not recorded (built without version control information: with -buildvcs=false, or outside a git checkout)"},
		{"release build", info("(devel)"), "v1.3.0", rev, "v1.3.0", rev, sourceRelease, rev},
		{"the Action's build at a ref", info("(devel)"), "v1", "unknown", "v1", "unknown", sourceRelease, "not recorded (the build named its version only)"},
		{"no build information", nil, "dev", "unknown", "dev", "unknown", sourceNone, "not recorded (built without version control information: with -buildvcs=false, or outside a git checkout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := describeBuild(tt.bi, tt.ldVersion, tt.ldCommit, "")
			if v.Version != tt.version || v.Commit != tt.commit || v.Source != tt.source {
				t.Errorf("version %q commit %q source %q, want %q %q %q", v.Version, v.Commit, v.Source, tt.version, tt.commit, tt.source)
			}
			if got := v.commitLine(); got != tt.line {
				t.Errorf("commit line %q, want %q", got, tt.line)
			}
		})
	}
}
