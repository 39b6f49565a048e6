// Command cffake serves the fake Cloudflare purge API on loopback for
// benchmarks and demos. It prints the API URL to stderr once listening and,
// on SIGINT or SIGTERM, the request counts as JSON to stdout.
//
//	CLOUDFLARE_API_TOKEN=t cffake -port 8787 -rate 5 -burst 25 -hosts www.example.com
//	cachectl purge ... (with api_url: http://127.0.0.1:8787/client/v4)
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
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cffake:", err)
		os.Exit(2)
	}
}

func run() error {
	var (
		port       = flag.Int("port", 8787, "loopback port to listen on (0 picks a free one)")
		zone       = flag.String("zone", "023e105f4ecef8ad9ca31a8372d0c353", "zone id the fake accepts")
		tokenEnv   = flag.String("token-env", "CLOUDFLARE_API_TOKEN", "environment variable holding the token the fake accepts")
		hosts      = flag.String("hosts", "", "comma-separated host names of the zone; URLs on other hosts get code 1082 (empty accepts any)")
		rate       = flag.Float64("rate", 0, "requests per second the token bucket refills (0: unlimited)")
		burst      = flag.Int("burst", 1, "token bucket size")
		fraction   = flag.Float64("fault-fraction", 0, "fraction of requests answered with a random 429/500/502/503")
		seed       = flag.Uint64("seed", 1, "seed for the random faults")
		retryAfter = flag.Duration("retry-after", time.Second, "Retry-After sent with injected 429s")
		files      = flag.Int("files-limit", 100, "URLs per request before code 1094")
	)
	flag.Parse()
	token := os.Getenv(*tokenEnv)
	if token == "" {
		return fmt.Errorf("%s is empty: set it to the token clients will send", *tokenEnv)
	}
	if *fraction < 0 || *fraction > 1 {
		return fmt.Errorf("-fault-fraction %v: want 0 to 1", *fraction)
	}
	var hostList []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hostList = append(hostList, h)
		}
	}
	f := cloudflarefake.New(cloudflarefake.Options{
		ZoneID: *zone, Token: token, Hosts: hostList, FilesLimit: *files,
		Rate: *rate, Burst: *burst, Keep: 1,
		Faults: cdnfake.Faults{RandomFraction: *fraction, RandomSeed: *seed, RetryAfter: *retryAfter},
	})
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "cffake: listening on http://%s/client/v4 (zone %s)\n", ln.Addr(), *zone)

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
	return enc.Encode(f.Counts())
}
