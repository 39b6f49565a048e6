// Package measure takes cache-aware timing samples of routes and compares
// two measurements.
//
// A measurement keeps the cache state under control: cold samples are
// real misses (the cache fetched the page from the origin, made so by a
// unique query parameter or a purge), warm samples real hits (after a
// priming request that is not counted), and every response in another
// state is discarded and counted rather than mixed in. Each sample holds
// the time to first byte, the total time, the status code, the normalized
// cache status and the response's Server-Timing metrics.
//
// A comparison pairs the runs of two measurements by URL, visitor variant
// and cache state — never a warm run with a cold one — and judges every
// metric with the Mann-Whitney U test benchstat uses: a change is
// improved or regressed only when the test is significant and the change
// of the median is large enough to matter; otherwise it is unchanged.
package measure
