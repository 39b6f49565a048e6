// Package cachetest runs cachectl against the caching proxies people put
// in front of their sites, each installed from Debian and configured the
// way its own documentation shows (scripts/stack/caches,
// configs/varnish-xkey.vcl): nginx with the cache-purge module, Squid,
// Apache Traffic Server and Varnish with the xkey module. Each cache is
// started once for the package, in front of the local stack's origin
// (internal/stacktest), and stopped after the last test.
//
// The package holds tests only.
package cachetest
