package verify_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/verify"
)

// hitResponse is what the local Varnish answers for a cached article: the
// same header fields, in the same order, and a body of the same size.
var hitResponse = func() []byte {
	body := strings.Repeat("x", 3818)
	return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\n"+
		"date: Mon, 30 Nov 2026 06:42:06 GMT\r\n"+
		"server: uvicorn\r\n"+
		"cache-control: public, max-age=600\r\n"+
		"etag: \"98350296b11fc9418c0d\"\r\n"+
		"last-modified: Sun, 13 Oct 2024 00:00:00 GMT\r\n"+
		"content-length: %d\r\n"+
		"content-type: text/html; charset=utf-8\r\n"+
		"server-timing: db;dur=0.118;desc=\"1 query\", app;dur=0.695\r\n"+
		"xkey: article-bench-article-000001\r\n"+
		"X-Varnish: 8 6\r\n"+
		"Age: 0\r\n"+
		"Via: 1.1 varnish (Varnish/7.1)\r\n"+
		"Accept-Ranges: bytes\r\n"+
		"X-Cache: HIT\r\n"+
		"Connection: keep-alive\r\n\r\n%s", len(body), body)
}()

// cannedCache listens on loopback and answers every request on every
// connection with hitResponse, allocating nothing per request, so that
// the allocations a benchmark counts are cachectl's alone.
func cannedCache(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go answer(c)
		}
	}()
	return "http://" + ln.Addr().String()
}

// answer serves one connection until the client closes it.
func answer(c net.Conn) {
	defer func() { _ = c.Close() }()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(bytes.TrimRight(line, "\r\n")) > 0 {
			continue
		}
		if _, err := c.Write(hitResponse); err != nil {
			return
		}
	}
}

// BenchmarkRun verifies one route per operation the way the benchmark
// script's all-hits run does (anonymous variant, status, cache and
// lifetime checks, concurrency 16, kept-alive connections, jsonl output),
// against a loopback cache that costs next to nothing, so the figures are
// cachectl's own per-route cost:
//
//	go test ./pkg/verify -run '^$' -bench Run -benchmem -cpuprofile verify.prof
func BenchmarkRun(b *testing.B) {
	base := cannedCache(b)
	cfg := &config.Config{
		Environments: map[string]*config.Environment{"production": {Name: "production", BaseURL: base}},
		Defaults: config.Defaults{Expect: config.Expectations{Anonymous: &config.Expectation{
			Status: new(200), Cache: []string{"HIT", "MISS"}, MinMaxAge: new(int64(300)),
		}}},
	}
	planner, err := verify.NewPlanner(cfg, cfg.Environments["production"])
	if err != nil {
		b.Fatal(err)
	}
	variants := []probe.Variant{probe.Anonymous}
	findings := planner.NeedsFindings(variants)
	prober := probe.New(probe.Options{KeepAlive: true, NoBodyHash: !findings, NoServerTiming: !findings && !planner.NeedsServerTiming(variants)})
	w, err := report.NewVerifyWriter(report.JSONL, io.Discard, report.VerifyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	targets := func(yield func(verify.Target) bool) {
		for i := range b.N {
			t, err := planner.Target(i, fmt.Sprintf("/articles/bench-article-%06d", i%10000))
			if err != nil || !yield(t) {
				return
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	err = verify.Run(context.Background(), prober, targets, verify.Options{Env: "production", Concurrency: 16}, func(res verify.RouteResult) error {
		for _, r := range res.Records {
			if !r.Passed {
				return fmt.Errorf("%s %s: %s", r.Route, r.Check, r.Actual)
			}
		}
		return w.Route(res.Records)
	})
	if err != nil {
		b.Fatal(err)
	}
}
