// Command cdnfake serves one of the fake CDN purge APIs (Cloudflare,
// Fastly, Akamai Fast Purge, Bunny) on loopback for benchmarks and demos.
// It prints the API URL to stderr once listening and, on SIGINT or
// SIGTERM, the request counts as JSON to stdout.
//
//	CLOUDFLARE_API_TOKEN=t cdnfake -port 8787 -rate 5 -burst 25 -hosts www.example.com
//	cachectl purge ... (with api_url: http://127.0.0.1:8787/client/v4)
//	cdnfake -provider akamai -edgerc ~/.edgerc -vendor-limits
//	BUNNY_API_KEY=k cdnfake -provider bunny -token-env BUNNY_API_KEY -vendor-limits
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/akamaifake"
	"github.com/cachectl/cachectl/internal/cdnfake/bunnyfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/internal/cdnfake/fastlyfake"
	"github.com/cachectl/cachectl/pkg/purge/akamai/edgegrid"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cdnfake:", err)
		os.Exit(2)
	}
}

// flags are the command line.
type flags struct {
	provider, zone, service, tokenEnv, hosts, edgerc, section string
	port, burst, files                                        int
	rate, fraction                                            float64
	seed                                                      uint64
	retryAfter                                                time.Duration
	vendorLimits                                              bool
}

func parse() flags {
	var f flags
	flag.StringVar(&f.provider, "provider", "cloudflare", "API to serve: cloudflare, fastly, akamai or bunny")
	flag.IntVar(&f.port, "port", 8787, "loopback port to listen on (0 picks a free one)")
	flag.StringVar(&f.zone, "zone", "023e105f4ecef8ad9ca31a8372d0c353", "Cloudflare zone id the fake accepts")
	flag.StringVar(&f.service, "service", "SU1Z0isxPaozGVKXdv0eY", "Fastly service id the fake accepts")
	flag.StringVar(&f.tokenEnv, "token-env", "CLOUDFLARE_API_TOKEN", "environment variable holding the token the fake accepts (Cloudflare, Fastly, Bunny)")
	flag.StringVar(&f.edgerc, "edgerc", "", "Akamai: .edgerc file holding the credentials the fake accepts")
	flag.StringVar(&f.section, "section", "default", "Akamai: the .edgerc section")
	flag.StringVar(&f.hosts, "hosts", "", "comma-separated host names the account may purge (empty accepts any)")
	flag.Float64Var(&f.rate, "rate", 0, "Cloudflare and Fastly: requests per second the token bucket refills (0: unlimited)")
	flag.IntVar(&f.burst, "burst", 1, "Cloudflare and Fastly: token bucket size")
	flag.BoolVar(&f.vendorLimits, "vendor-limits", false, "Akamai and Bunny: apply the vendor's documented token buckets")
	flag.Float64Var(&f.fraction, "fault-fraction", 0, "fraction of requests answered with a random 429/500/502/503")
	flag.Uint64Var(&f.seed, "seed", 1, "seed for the random faults")
	flag.DurationVar(&f.retryAfter, "retry-after", time.Second, "Retry-After sent with injected 429s")
	flag.IntVar(&f.files, "files-limit", 100, "Cloudflare: URLs per request before code 1094")
	flag.Parse()
	return f
}

// fake is what every fake API offers.
type fake interface {
	http.Handler
	Counts() cdnfake.Counts
}

// newFake builds the fake f.provider names and the API URL path clients
// append to the server's address.
func newFake(f flags) (fake, string, error) {
	var hosts []string
	for _, h := range strings.Split(f.hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	faults := cdnfake.Faults{RandomFraction: f.fraction, RandomSeed: f.seed, RetryAfter: f.retryAfter}
	token := os.Getenv(f.tokenEnv)
	if token == "" && f.provider != "akamai" {
		return nil, "", fmt.Errorf("%s is empty: set it to the token clients will send", f.tokenEnv)
	}
	switch f.provider {
	case "cloudflare":
		return cloudflarefake.New(cloudflarefake.Options{ZoneID: f.zone, Token: token, Hosts: hosts, FilesLimit: f.files, Rate: f.rate, Burst: f.burst, Keep: 1, Faults: faults}), "/client/v4", nil
	case "fastly":
		return fastlyfake.New(fastlyfake.Options{ServiceID: f.service, Token: token, Rate: f.rate, Burst: f.burst, Keep: 1, Faults: faults}), "", nil
	case "bunny":
		return bunnyfake.New(bunnyfake.Options{Token: token, Hosts: hosts, RateLimits: f.vendorLimits, Keep: 1, Faults: faults}), "", nil
	case "akamai":
		creds, err := edgegrid.ReadEdgerc(f.edgerc, f.section)
		if err != nil {
			return nil, "", fmt.Errorf("-edgerc: %w", err)
		}
		return akamaifake.New(akamaifake.Options{Credentials: creds, Hosts: hosts, RateLimits: f.vendorLimits, Keep: 1, Faults: faults}), "", nil
	}
	return nil, "", fmt.Errorf("-provider %q: want cloudflare, fastly, akamai or bunny", f.provider)
}

func run() error {
	f := parse()
	if f.fraction < 0 || f.fraction > 1 {
		return fmt.Errorf("-fault-fraction %v: want 0 to 1", f.fraction)
	}
	api, path, err := newFake(f)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(f.port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "cdnfake: %s listening on http://%s%s\n", f.provider, ln.Addr(), path)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(api.Counts())
}
