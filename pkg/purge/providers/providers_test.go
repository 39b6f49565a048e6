package providers

import (
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/purge"
)

func TestNew(t *testing.T) {
	tests := []struct {
		cfg     purge.Config
		wantErr string
	}{
		{purge.Config{Provider: "cloudflare", ZoneID: "z", Token: "t"}, ""},
		{purge.Config{Provider: "fastly", ServiceID: "s", Token: "t"}, ""},
		{purge.Config{Provider: "http-purge", Endpoints: []string{"http://127.0.0.1:6081"}}, ""},
		{purge.Config{Provider: "akamai", Environment: "production"}, `unknown provider "akamai"`},
		{purge.Config{Environment: "production"}, "no CDN provider"},
	}
	for _, tt := range tests {
		p, err := New(tt.cfg, purge.Deps{})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New(%q) error = %v, want it to contain %q", tt.cfg.Provider, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q): %v", tt.cfg.Provider, err)
			continue
		}
		if got, want := p.Name(), tt.cfg.Provider; got != want {
			t.Errorf("Name() = %q, want %q", got, want)
		}
	}
}

func TestNamesAllBuild(t *testing.T) {
	for _, n := range Names() {
		_, err := New(purge.Config{Provider: n}, purge.Deps{})
		if err != nil && strings.Contains(err.Error(), "unknown provider") {
			t.Errorf("Names() lists %q but New does not know it", n)
		}
	}
}
