package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
)

// BenchmarkVerifyOnStack runs verify over 2,000 routes against the real
// production Varnish, so that cachectl's own CPU can be profiled where it
// is spent in production (the server's CPU is in other processes):
//
//	go test ./pkg/cli -run '^$' -bench VerifyOnStack -benchtime 3x -cpuprofile verify.prof
//	go tool pprof -top verify.prof
//
// hits: every route's anonymous copy is in the cache, and only the
// anonymous variant is probed; mixed: the logged-in variant too, which
// Varnish passes to the origin.
func BenchmarkVerifyOnStack(b *testing.B) {
	s := stacktest.Shared(b)
	session := s.Login(b)
	dir := b.TempDir()
	var routes strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&routes, "/articles/bench-verify-%05d\n", i)
	}
	routeFile := filepath.Join(dir, "routes.txt")
	if err := os.WriteFile(routeFile, []byte(routes.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, session string }{{"hits", ""}, {"mixed", "    session: {cookie: sessionid, value_env: BENCH_SESSION}\n"}} {
		cfg := filepath.Join(dir, bc.name+".yaml")
		body := fmt.Sprintf("environments:\n  production:\n    base_url: %s\n%sdefaults:\n  expect:\n    anonymous: {status: 200, cache: [HIT, MISS], min_max_age: 300}\n", s.ProductionURL, bc.session)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		env := config.EnvironFromMap(map[string]string{"BENCH_SESSION": session})
		args := []string{"--config", cfg, "--env", "production", "verify", "--routes", routeFile, "-o", "jsonl", "--concurrency", "8"}
		verify := func() {
			ios, _, _, errOut := iostreams.Test()
			if code := Execute(b.Context(), args, ios, env); code != ExitOK {
				b.Fatalf("verify: exit %d: %s", code, errOut)
			}
		}
		verify() // fills the cache
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				verify()
			}
			b.ReportMetric(float64(b.N*2000)/b.Elapsed().Seconds(), "routes/s")
		})
	}
}
