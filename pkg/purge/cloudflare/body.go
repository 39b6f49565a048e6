package cloudflare

import (
	"github.com/cloudflare/cloudflare-go/v7/cache"

	"github.com/cachectl/cachectl/pkg/purge"
)

// The SDK's request fields are of an internal generic type; its helper to
// build them lives in the root package, which would link every Cloudflare
// service. Setting Value and Present by selector needs neither.

// params builds the SDK's request for one purge.
func params(zone string, kind purge.Kind, targets []purge.Target) cache.CachePurgeParams {
	var p cache.CachePurgeParams
	p.ZoneID.Value, p.ZoneID.Present = zone, true
	p.Body = body(kind, targets)
	return p
}

// body picks the request shape for kind: exactly one per request.
func body(kind purge.Kind, targets []purge.Target) cache.CachePurgeParamsBodyUnion {
	values := make([]string, len(targets))
	for i, t := range targets {
		values[i] = t.Value
	}
	switch kind {
	case purge.KindURL:
		if !anyHeaders(targets) {
			var b cache.CachePurgeParamsBodyCachePurgeSingleFile
			b.Files.Value, b.Files.Present = values, true
			return b
		}
		files := make([]cache.CachePurgeParamsBodyCachePurgeSingleFileWithURLAndHeadersFile, len(targets))
		for i, t := range targets {
			files[i].URL.Value, files[i].URL.Present = t.Value, true
			if len(t.Headers) > 0 {
				files[i].Headers.Value, files[i].Headers.Present = t.Headers, true
			}
		}
		var b cache.CachePurgeParamsBodyCachePurgeSingleFileWithURLAndHeaders
		b.Files.Value, b.Files.Present = files, true
		return b
	case purge.KindTag:
		var b cache.CachePurgeParamsBodyCachePurgeFlexPurgeByTags
		b.Tags.Value, b.Tags.Present = values, true
		return b
	case purge.KindHost:
		var b cache.CachePurgeParamsBodyCachePurgeFlexPurgeByHostnames
		b.Hosts.Value, b.Hosts.Present = values, true
		return b
	case purge.KindPrefix:
		var b cache.CachePurgeParamsBodyCachePurgeFlexPurgeByPrefixes
		b.Prefixes.Value, b.Prefixes.Present = values, true
		return b
	}
	var b cache.CachePurgeParamsBodyCachePurgeEverything
	b.PurgeEverything.Value, b.PurgeEverything.Present = true, true
	return b
}

func anyHeaders(targets []purge.Target) bool {
	for _, t := range targets {
		if len(t.Headers) > 0 {
			return true
		}
	}
	return false
}
