package configfile

import (
	"fmt"
	"strings"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

// Site is what `cachectl init` found: the environment and, per route, what
// each variant does now.
type Site struct {
	// File is where the config goes, for the commands its comments show;
	// "" or the default path leaves --config out of them.
	File    string
	Env     string
	BaseURL string
	// Session names the session cookie and the variable its value is read
	// from; nil for an anonymous-only site.
	Session *config.Session
	CDN     CDN
	// Source says where the routes came from, for a comment.
	Source  string
	Routes  []Route
	Skipped []Skipped
}

// Route is one route with what each of its variants does now, anonymous
// first.
type Route struct {
	Path     string
	Variants []Variant
}

// Variant is one visitor kind's observation.
type Variant struct {
	Variant  probe.Variant
	Observed verify.Observed
	// Keep leaves a variant that was not probed as the file has it
	// (Record only).
	Keep bool
}

// Skipped is a route left out because a probe got no response.
type Skipped struct {
	Path   string
	Reason string
}

// DefaultFile is where cachectl looks for its config first.
const DefaultFile = "cachectl.yaml"

// New writes the commented configuration for site: the environment, the
// cdn section (active or commented out, see CDN), and each route with
// owner and rollback TODO and the expectations it satisfies now.
func New(site Site) ([]byte, error) {
	var b strings.Builder
	writeHeader(&b, site)
	writeEnvironment(&b, site)
	b.WriteString("\nroutes:\n")
	if len(site.Routes) == 0 {
		b.WriteString("  []\n")
	}
	for i, r := range site.Routes {
		if i > 0 {
			b.WriteString("\n")
		}
		if err := writeRoute(&b, r); err != nil {
			return nil, err
		}
	}
	if len(site.Skipped) > 0 {
		b.WriteString("\n  # Left out: no response when cachectl init probed them (add them once they answer):\n")
		for _, s := range site.Skipped {
			fmt.Fprintf(&b, "  #   %s: %s\n", comment(s.Path), comment(s.Reason))
		}
	}
	return []byte(b.String()), nil
}

func writeHeader(b *strings.Builder, site Site) {
	flag := ""
	if site.File != "" && site.File != DefaultFile && site.File != "./"+DefaultFile {
		flag = " --config " + comment(site.File)
	}
	fmt.Fprintf(b, `# cachectl configuration for %s, written by cachectl init.
#
# Each route says who owns it (owner), what the cache must do with it for an
# anonymous and a logged-in visitor (expect), and how to undo a bad change
# (rollback). The expectations are what each route does today: read them,
# keep what is intended, and replace every TODO. Then:
#
#   cachectl%s config validate
#   cachectl%s verify --env %s                   # exit 1 when a route changes
#   cachectl%s verify --env %s --record /path    # after an intended change
#
# Routes: %s.

`, comment(site.BaseURL), flag, flag, comment(site.Env), flag, comment(site.Env), comment(site.Source))
}

func writeEnvironment(b *strings.Builder, site Site) {
	fmt.Fprintf(b, "environments:\n  %s:\n    base_url: %s\n", scalar(site.Env), scalar(site.BaseURL))
	if s := site.Session; s != nil {
		b.WriteString("    # The logged-in variant sends this cookie; its value is read from the\n    # variable when cachectl runs and is never written here.\n")
		fmt.Fprintf(b, "    session:\n      cookie: %s\n      value_env: %s\n", scalar(s.Cookie), scalar(s.ValueEnv))
	}
	for _, n := range site.CDN.Notes {
		fmt.Fprintf(b, "    # %s\n", comment(n))
	}
	if site.CDN.Provider == "" {
		return
	}
	prefix := "    "
	if !site.CDN.Active {
		prefix = "    # "
	}
	fmt.Fprintf(b, "%scdn:\n%s  provider: %s\n", prefix, prefix, scalar(site.CDN.Provider))
	for _, kv := range site.CDN.Keys {
		fmt.Fprintf(b, "%s  %s: %s\n", prefix, kv[0], kv[1])
	}
}

// writeRoute writes one route: what each variant showed and what is left
// unchecked as comments, then path, owner, expect and rollback.
func writeRoute(b *strings.Builder, r Route) error {
	for _, v := range r.Variants {
		fmt.Fprintf(b, "  # %s: %s\n", v.Variant, comment(v.Observed.Summary))
		for _, w := range v.Observed.Warnings {
			fmt.Fprintf(b, "  # NOT CHECKED, %s: %s\n", v.Variant, comment(w))
		}
	}
	fmt.Fprintf(b, "  - path: %s\n    owner: TODO\n", scalar(r.Path))
	lines, err := newBlock(nil, nil, r.Variants, "    ")
	if err != nil {
		return err
	}
	b.WriteString(strings.Join(lines, "\n") + "\n")
	b.WriteString("    rollback: TODO\n")
	return nil
}
