#!/usr/bin/env bash
# cachectl benchmark suite: one command, one Markdown results table.
#
#   scripts/bench/run.sh            the full suite (about 10 minutes on 2 cores)
#   QUICK=1 scripts/bench/run.sh    a small version of everything (< 2 minutes)
#
# Sections, run one after another (never two heavy ones at once):
#   (a) inspect and verify throughput against the local stack's production
#       Varnish, compared in the same run with the curl loop a user would
#       write (xargs -P CONCURRENCY curl) and with wrk on the same URL list
#       (anonymous and logged-in variants), keep-alive and fresh-connection;
#       verify through scripts/bench-verify.sh when it is present;
#   (b) purge against the Cloudflare API fake: API calls vs ceil(N/batch),
#       time vs the rate-limit floor, injected 429/5xx (scripts/bench-purge.sh);
#   (c) start-up time of `cachectl version` (hyperfine) and binary size,
#       stripped and not;
#   (d) peak RSS (GNU time) of inspect -o jsonl and verify -o jsonl at each
#       size in RSS_SIZES;
#   (e) go test -bench microbenchmarks of normalization and analysis,
#       summarized with benchstat (compared with the last full run's,
#       kept in scripts/bench/results/micro.txt, when there is one);
#   (f) stale over ROUTES URLs on the local stack, warm (each URL an edge
#       HIT and a conditional origin request answered 304): URLs per second
#       against wrk sending the same 2 x ROUTES requests (the edge GETs, then
#       the origin GETs with the same validators), and peak RSS of
#       stale -o jsonl at each size in RSS_SIZES.
#
# The table and the machine it ran on go to stdout and to
# scripts/bench/results/latest.md; progress goes to stderr. Exit 1 when a
# section's own check failed (the table is still written), 2 when something
# needed is missing.
#
# Environment (full / QUICK=1 defaults): ROUTES [2000 / 300] routes for
# throughput; RSS_SIZES ["2000 20000 100000" / "300 1500"]; CONCURRENCY [8];
# WRK_SECONDS [10 / 3]; PURGE_N [10000 / 1500]; PURGE_BATCH [100];
# BENCH_COUNT [6 / 2] (go test -count); BENCH_TIME [1s / 100ms];
# SECTIONS [abcdef] (any subset); the STACK_* variables of scripts/stack.sh
# (defaults here: ports 38080/36081/36082, dir /tmp/cachectl-bench-suite;
# the next free ports are taken when those are busy).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
	ROUTES=${ROUTES:-300}
	RSS_SIZES=${RSS_SIZES:-"300 1500"}
	WRK_SECONDS=${WRK_SECONDS:-3}
	PURGE_N=${PURGE_N:-1500}
	BENCH_COUNT=${BENCH_COUNT:-2}
	BENCH_TIME=${BENCH_TIME:-100ms}
else
	ROUTES=${ROUTES:-2000}
	RSS_SIZES=${RSS_SIZES:-"2000 20000 100000"}
	WRK_SECONDS=${WRK_SECONDS:-10}
	PURGE_N=${PURGE_N:-10000}
	BENCH_COUNT=${BENCH_COUNT:-6}
	BENCH_TIME=${BENCH_TIME:-1s}
fi
CONCURRENCY=${CONCURRENCY:-8}
PURGE_BATCH=${PURGE_BATCH:-100}
SECTIONS=${SECTIONS:-abcdef}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
RESULTS_DIR=$ROOT/scripts/bench/results

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 2
}
for tool in go curl jq awk wrk hyperfine /usr/bin/time; do
	command -v "$tool" >/dev/null || die "missing $tool (apt-get install curl jq gawk wrk hyperfine time)"
done
[[ $ROUTES =~ ^[1-9][0-9]*$ ]] || die "ROUTES=$ROUTES: want a positive whole number"
[[ $CONCURRENCY =~ ^[1-9][0-9]*$ ]] || die "CONCURRENCY=$CONCURRENCY: want a positive whole number"

WORK=$(mktemp -d /tmp/cachectl-bench-suite.XXXXXX)
STACK_UP=0
cleanup() {
	if ((STACK_UP)); then scripts/stack.sh down >/dev/null 2>&1 || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- ports
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # first port from $1 up that nothing listens on
	local p=$1
	while port_busy "$p"; do p=$((p + 1)); done
	echo "$p"
}
pick_port() { # NAME DEFAULT -> the default, or the next free one with a note
	local p
	p=$(free_port "$2")
	[[ $p == "$2" ]] || say "port $2 is in use; $1 uses $p"
	echo "$p"
}
STACK_ORIGIN_PORT=$(pick_port origin "${STACK_ORIGIN_PORT:-38080}")
STACK_PRODUCTION_PORT=$(pick_port production "${STACK_PRODUCTION_PORT:-36081}")
STACK_STAGING_PORT=$(pick_port staging "${STACK_STAGING_PORT:-36082}")
[[ $STACK_STAGING_PORT != "$STACK_PRODUCTION_PORT" ]] || STACK_STAGING_PORT=$(free_port $((STACK_PRODUCTION_PORT + 1)))
export STACK_ORIGIN_PORT STACK_PRODUCTION_PORT STACK_STAGING_PORT
export STACK_DIR=${STACK_DIR:-/tmp/cachectl-bench-suite}
export STACK_ACCESS_LOG=0
BASE=http://127.0.0.1:$STACK_PRODUCTION_PORT

# ---------------------------------------------------------------- machine
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cores=$(nproc)
ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
kernel=$(uname -sr)
gover=$(go env GOVERSION)
varnish=$( (varnishd -V 2>&1 || true) | sed -n 's/^varnishd (\(varnish-[^ ]*\).*/\1/p' | head -n 1)
wrkver=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $1, $2 }')
curlver=$(curl --version | awk 'NR == 1 { print $1, $2 }')
MACHINE="$cpu, $cores cores, $ram RAM; $os, kernel $kernel; $gover; ${varnish:-varnish not installed}; $wrkver; $curlver; all on loopback"
say "machine: $MACHINE"

# ---------------------------------------------------------------- table
ROWS=()
NOTES=()
FAILED=0
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }
note() {
	NOTES+=("- $*")
	say "note: $*"
}
fmt() { awk -v v="$1" -v p="${2:-0}" 'BEGIN { if (v == "" || v == "n/a") print "n/a"; else printf "%.*f", p, v }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f MiB", k / 1024 }'; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

say "building cachectl (and a stripped copy)"
go build -o "$WORK/cachectl" ./cmd/cachectl
go build -ldflags='-s -w' -o "$WORK/cachectl-stripped" ./cmd/cachectl
BIN=$WORK/cachectl

# ---------------------------------------------------------------- (c)
if [[ $SECTIONS == *c* ]]; then
	say "(c) start-up time and binary size"
	hyperfine --warmup 3 -N --export-json "$WORK/startup.json" "$BIN version" >&2
	start_ms=$(jq -r '.results[0] | "\(.mean * 1000) \(.stddev * 1000)"' "$WORK/startup.json")
	row "start-up" "\`cachectl version\` (hyperfine, $(jq -r '.results[0].times | length' "$WORK/startup.json") runs)" \
		"$(fmt "${start_ms% *}" 1) ms ± $(fmt "${start_ms#* }" 1) ms" "mean ± σ"
	size=$(stat -c %s "$WORK/cachectl")
	stripped=$(stat -c %s "$WORK/cachectl-stripped")
	row "binary size" "linux/$(go env GOARCH), $gover" \
		"$(awk -v b="$size" 'BEGIN { printf "%.1f MiB", b / 1048576 }') ($(awk -v b="$stripped" 'BEGIN { printf "%.1f MiB", b / 1048576 }') stripped)" \
		"\`go build\`; stripped: \`-ldflags='-s -w'\`"
fi

# ---------------------------------------------------------------- (e)
MICRO=""
if [[ $SECTIONS == *e* ]]; then
	say "(e) microbenchmarks, -count $BENCH_COUNT -benchtime $BENCH_TIME"
	pattern='^(BenchmarkDetect|BenchmarkParseCacheStatus|BenchmarkParseCacheControl|BenchmarkSharedFreshness|BenchmarkFindings)$'
	go test -run '^$' -bench "$pattern" -benchmem -count "$BENCH_COUNT" -benchtime "$BENCH_TIME" \
		./pkg/cachestatus ./pkg/analyze >"$WORK/micro.txt"
	# Median ns/op, B/op and allocs/op of each benchmark for the table.
	while read -r name ns bytes allocs; do
		row "microbenchmark" "$name" "$(fmt "$ns" 0) ns/op" "$bytes B/op, $allocs allocs/op (median of $BENCH_COUNT)"
	done < <(awk '/^Benchmark/ { sub(/-[0-9]+$/, "", $1); n = $1; if (!(n in seen)) { seen[n] = 1; order[++k] = n }
			c[n]++; ns[n, c[n]] = $3; b[n] = $5; a[n] = $7 }
		END { for (i = 1; i <= k; i++) { n = order[i]; m = c[n]; for (x = 1; x <= m; x++) v[x] = ns[n, x]
			for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (v[y] < v[x]) { t = v[x]; v[x] = v[y]; v[y] = t }
			med = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
			sub(/^Benchmark/, "", n); print n, med, b[order[i]], a[order[i]] } }' "$WORK/micro.txt")
	mkdir -p "$RESULTS_DIR"
	inputs=("now=$WORK/micro.txt")
	if [[ -f $RESULTS_DIR/micro.txt ]]; then
		cp "$RESULTS_DIR/micro.txt" "$WORK/previous.txt"
		inputs=("previous=$WORK/previous.txt" "now=$WORK/micro.txt")
	fi
	if (cd "$WORK" && go run "$BENCHSTAT" "${inputs[@]}") >"$WORK/benchstat.txt" 2>"$WORK/benchstat.err"; then
		MICRO=$(sed "s#$WORK/##g" "$WORK/benchstat.txt")
	else
		note "benchstat ($BENCHSTAT) could not be fetched or run: $(tail -n 1 "$WORK/benchstat.err"); raw go test -bench output below"
		MICRO=$(grep -E '^(Benchmark|goos|goarch|pkg|cpu)' "$WORK/micro.txt")
	fi
	# Only full runs become the baseline the next run is compared with.
	if [[ $QUICK != 1 ]]; then cp "$WORK/micro.txt" "$RESULTS_DIR/micro.txt"; fi
fi

# ---------------------------------------------------------------- (b)
if [[ $SECTIONS == *b* ]]; then
	say "(b) purge: $PURGE_N URLs against the Cloudflare fake"
	set +e
	N=$PURGE_N BATCH=$PURGE_BATCH CACHECTL=$BIN BENCH_RESULTS="$WORK/purge.env" \
		scripts/bench-purge.sh >"$WORK/purge.md"
	code=$?
	set -e
	if [[ -f $WORK/purge.env ]]; then
		pv() { awk -F= -v k="$1" '$1 == k { print $2 }' "$WORK/purge.env"; }
		row "purge A (no limit)" "$(pv purge_n) URLs, batch $(pv purge_batch): API calls vs ceil(N/batch)" \
			"$(pv purge_a_calls) vs $(pv purge_a_want)" "$([[ $(pv purge_a_calls) == "$(pv purge_a_want)" ]] && echo equal || echo '**not equal**'), $(pv purge_a_seconds) s"
		row "purge B (fake: $(pv purge_rate) req/s, bucket $(pv purge_burst))" "time vs floor (ceil(N/batch) − burst) / rate" \
			"$(pv purge_b_seconds) s vs $(pv purge_b_floor) s ($(pv purge_b_pct)%)" \
			"$(pv purge_b_calls) requests, $(pv purge_b_rejected) rejected for rate by the fake"
		row "purge C ($(pv purge_faults) faults: 429/5xx)" "every URL purged, none twice" \
			"$(pv purge_c_purged) purged, $(pv purge_c_failed) failed; fake purged $(pv purge_c_items) items" \
			"$(pv purge_c_faults) faults, $(pv purge_c_retries) retries, $(pv purge_c_requests) requests, $(pv purge_c_seconds) s"
		row "purge D (zone held to 30)" "the plan's batch size: API calls vs ceil(N/30) + 1 refused" \
			"$(pv purge_d_calls) vs $(pv purge_d_want)" "$([[ $(pv purge_d_calls) == "$(pv purge_d_want)" ]] && echo equal || echo '**not equal**'), $(pv purge_d_seconds) s"
	fi
	if ((code != 0)); then
		FAILED=1
		note "bench-purge.sh exited $code: $( ((code == 1)) && echo "a check failed (B: the fake rejected requests for rate)" || echo "the run broke")"
	fi
fi

# ---------------------------------------------------------------- stack: (a) inspect, (d), (f)
session_config() { # FILE yes|no -> config with the session (and expectations for verify)
	{
		echo "environments:"
		echo "  production:"
		echo "    base_url: $BASE"
		echo "    hosts: [127.0.0.1:$STACK_PRODUCTION_PORT]"
		if [[ $2 == yes ]]; then echo "    session: { cookie: sessionid, value_env: BENCH_SESSION }"; fi
		echo "defaults:"
		echo "  expect:"
		echo "    anonymous: { status: 200, cache: [HIT, MISS], min_max_age: 300 }"
		if [[ $2 == yes ]]; then echo "    logged_in: { status: 200 }"; fi
	} >"$1"
}
paths() { seq 1 "$1" | awk '{ printf "/articles/bench-article-%06d\n", $1 }'; }
measure() { # OUT-PREFIX CMD... -> "$OUT.time" holds "seconds peak-KiB"; exit code returned
	# stdout goes to $MEASURE_OUT when set, else nowhere.
	local out=$1 code=0
	shift
	/usr/bin/time -f '%e %M' -o "$out.raw" "$@" >"${MEASURE_OUT:-/dev/null}" 2>"$out.err" || code=$?
	# GNU time puts "Command exited with non-zero status N" before the figures.
	tail -n 1 "$out.raw" >"$out.time"
	return "$code"
}

if [[ $SECTIONS == *a* || $SECTIONS == *d* || $SECTIONS == *f* ]]; then
	say "starting the local stack (origin :$STACK_ORIGIN_PORT, production :$STACK_PRODUCTION_PORT, staging :$STACK_STAGING_PORT)"
	STACK_UP=1
	scripts/stack.sh up >&2
	curl -fsS -o /dev/null -c "$WORK/jar" "http://127.0.0.1:$STACK_ORIGIN_PORT/login"
	BENCH_SESSION=$(awk '$6 == "sessionid" { print $7 }' "$WORK/jar")
	[[ -n $BENCH_SESSION ]] || die "the origin's /login set no sessionid cookie"
	export BENCH_SESSION
	# curl reads the cookie from a file so the value never sits in argv.
	awk 'BEGIN { OFS = "\t" } $6 == "sessionid" { print "127.0.0.1", "FALSE", "/", "FALSE", "0", $6, $7 }' "$WORK/jar" >"$WORK/curl-cookies"
	session_config "$WORK/both.yaml" yes
	session_config "$WORK/anon.yaml" no
fi

if [[ $SECTIONS == *a* ]]; then
	requests=$((ROUTES * 2))
	paths "$ROUTES" >"$WORK/paths.txt"
	awk -v b="$BASE" '{ print b $0 }' "$WORK/paths.txt" >"$WORK/urls.txt"
	say "(a) warming $ROUTES routes"
	"$BIN" inspect --config "$WORK/both.yaml" --env production --as anonymous --from-file "$WORK/urls.txt" \
		-o jsonl --concurrency 16 >/dev/null || true

	inspect_run() { # LABEL EXTRA-FLAGS...
		local label=$1 sec
		shift
		say "(a) cachectl inspect $*: $ROUTES routes × 2 variants, concurrency $CONCURRENCY"
		measure "$WORK/inspect" "$BIN" inspect --config "$WORK/both.yaml" --env production --as both \
			--from-file "$WORK/urls.txt" -o jsonl --concurrency "$CONCURRENCY" "$@" ||
			note "cachectl inspect $* exited $?: $(tail -n 1 "$WORK/inspect.err")"
		read -r sec _ <"$WORK/inspect.time"
		INSPECT_RPS=$(per_sec "$requests" "$sec")
		row "throughput" "cachectl inspect, $label" "$INSPECT_RPS req/s" "$requests requests in $(fmt "$sec" 2) s"
	}
	inspect_run "fresh connection per probe (default)"
	inspect_fresh=$INSPECT_RPS
	inspect_run "--keep-alive" --keep-alive
	inspect_keep=$INSPECT_RPS

	say "(a) curl loop: same URLs, both variants, xargs -P $CONCURRENCY"
	start=$(now)
	{
		xargs -P "$CONCURRENCY" -n 1 curl -s -o /dev/null -D - <"$WORK/urls.txt"
		xargs -P "$CONCURRENCY" -n 1 curl -s -o /dev/null -D - -b "$WORK/curl-cookies" <"$WORK/urls.txt"
	} >/dev/null 2>&1 || true
	sec=$(since "$start")
	curl_rps=$(per_sec "$requests" "$sec")
	row "throughput" "curl loop (\`xargs -P $CONCURRENCY curl -s -o /dev/null -D -\`)" "$curl_rps req/s" "$requests requests in $(fmt "$sec" 2) s"

	# wrk walks the same list, the logged-in half with the session cookie.
	awk '{ print $0 "\t0"; print $0 "\t1" }' "$WORK/paths.txt" >"$WORK/wrk-urls.tsv"
	cat >"$WORK/urls.lua" <<'LUA'
-- Cycles through WRK_URLS (path TAB 1 for the logged-in variant) from a
-- different offset in each thread; WRK_CLOSE=1 asks for a fresh connection
-- per request, as cachectl inspect and curl make by default.
local paths, cookies = {}, {}
for line in io.lines(os.getenv("WRK_URLS")) do
  local p, c = line:match("^(%S+)\t(%d)$")
  paths[#paths + 1] = p
  cookies[#cookies + 1] = c == "1"
end
local session = "sessionid=" .. os.getenv("BENCH_SESSION")
local close = os.getenv("WRK_CLOSE") == "1"
local n = 0
function setup(thread) thread:set("offset", n * 7919); n = n + 1 end
function init() i = offset or 0 end
function request()
  i = i % #paths + 1
  local h = { ["Accept-Encoding"] = "gzip" }
  if cookies[i] then h["Cookie"] = session end
  if close then h["Connection"] = "close" end
  return wrk.format("GET", paths[i], h)
end
LUA
	threads=$((CONCURRENCY < 2 ? 1 : 2))
	wrk_run() { # CLOSE LABEL
		say "(a) wrk, $2: same URL list, $CONCURRENCY connections, ${WRK_SECONDS}s"
		WRK_URLS="$WORK/wrk-urls.tsv" WRK_CLOSE=$1 wrk -t"$threads" -c"$CONCURRENCY" -d"${WRK_SECONDS}s" \
			-s "$WORK/urls.lua" "$BASE" >"$WORK/wrk.txt"
		WRK_RPS=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$WORK/wrk.txt")
		local errs
		errs=$(awk '/Socket errors|Non-2xx/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$WORK/wrk.txt")
		row "throughput" "wrk, $2 (-t$threads -c$CONCURRENCY, ${WRK_SECONDS}s)" "$WRK_RPS req/s" \
			"$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt") requests${errs:+; ${errs%; }}"
	}
	wrk_run 1 "Connection: close"
	wrk_close=$WRK_RPS
	wrk_run 0 "keep-alive"
	wrk_keep=$WRK_RPS
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
	row "throughput ratio" "inspect (fresh) / curl loop" "$(ratio "$inspect_fresh" "$curl_rps")×" "both a new connection per request"
	row "throughput ratio" "inspect (fresh) / wrk (Connection: close)" "$(ratio "$inspect_fresh" "$wrk_close")×" "same connection model"
	row "throughput ratio" "inspect --keep-alive / wrk (keep-alive)" "$(ratio "$inspect_keep" "$wrk_keep")×" "wrk: this machine's limit"
fi

if [[ $SECTIONS == *d* ]]; then
	for n in $RSS_SIZES; do
		[[ $n =~ ^[1-9][0-9]*$ ]] || die "RSS_SIZES: '$n' is not a positive whole number"
		paths "$n" >"$WORK/rss-paths.txt"
		awk -v b="$BASE" '{ print b $0 }' "$WORK/rss-paths.txt" >"$WORK/rss-urls.txt"
		say "(d) peak RSS: cachectl inspect -o jsonl --as both, $n routes"
		measure "$WORK/rss" "$BIN" inspect --config "$WORK/both.yaml" --env production --as both \
			--from-file "$WORK/rss-urls.txt" -o jsonl --concurrency "$CONCURRENCY" ||
			note "inspect at $n routes exited $?: $(tail -n 1 "$WORK/rss.err")"
		read -r sec kib <"$WORK/rss.time"
		row "peak RSS" "inspect -o jsonl, $n routes × 2 variants" "$(mib "$kib")" "$(fmt "$sec" 1) s, $(per_sec $((n * 2)) "$sec") req/s"
		if [[ $("$BIN" verify --help 2>/dev/null || true) == *--routes* ]]; then
			say "(d) peak RSS: cachectl verify -o jsonl --routes, anonymous, $n routes"
			measure "$WORK/rss" "$BIN" verify --config "$WORK/anon.yaml" --env production \
				--routes "$WORK/rss-paths.txt" -o jsonl --concurrency "$CONCURRENCY" ||
				note "verify at $n routes exited $? (failed checks count too): $(tail -n 1 "$WORK/rss.err")"
			read -r sec kib <"$WORK/rss.time"
			row "peak RSS" "verify -o jsonl --routes, $n routes, anonymous" "$(mib "$kib")" "$(fmt "$sec" 1) s, $(per_sec "$n" "$sec") req/s"
		else
			note "verify has no --routes flag in this build: verify RSS skipped"
		fi
	done
fi

if [[ $SECTIONS == *f* ]]; then
	{
		echo "environments:"
		echo "  production:"
		echo "    base_url: $BASE"
		echo "    hosts: [127.0.0.1:$STACK_PRODUCTION_PORT]"
		echo "    origin_url: http://127.0.0.1:$STACK_ORIGIN_PORT"
	} >"$WORK/stale.yaml"
	stale_run() { # PREFIX URL-FILE -> measured run of stale -o jsonl into PREFIX.jsonl; exit code returned
		MEASURE_OUT="$1.jsonl" measure "$1" "$BIN" stale --config "$WORK/stale.yaml" --env production \
			--from-file "$2" -o jsonl --concurrency "$CONCURRENCY"
	}
	stale_warm() { # URL-FILE: one run fills the edge's cache (each URL a MISS, the origin not asked)
		"$BIN" stale --config "$WORK/stale.yaml" --env production --from-file "$1" -o jsonl \
			--concurrency 16 >"$WORK/stale-warm.jsonl" 2>"$WORK/stale-warm.err" ||
			note "stale warm-up exited $?: $(tail -n 1 "$WORK/stale-warm.err")"
	}
	paths "$ROUTES" >"$WORK/stale-paths.txt"
	awk -v b="$BASE" '{ print b $0 }' "$WORK/stale-paths.txt" >"$WORK/stale-urls.txt"
	say "(f) warming $ROUTES URLs for stale"
	stale_warm "$WORK/stale-urls.txt"
	say "(f) cachectl stale: $ROUTES URLs, warm, concurrency $CONCURRENCY"
	stale_run "$WORK/stale" "$WORK/stale-urls.txt" || note "cachectl stale exited $?: $(tail -n 1 "$WORK/stale.err")"
	read -r sec _ <"$WORK/stale.time"
	stale_ups=$(per_sec "$ROUTES" "$sec")
	not304=$(jq -r 'select(.reason != "origin answered 304 to the edge copy'"'"'s validators") | .url' "$WORK/stale.jsonl" | wc -l)
	if ((not304 != 0)) || [[ $(wc -l <"$WORK/stale.jsonl") != "$ROUTES" ]]; then
		FAILED=1
		note "stale: $not304 of $(wc -l <"$WORK/stale.jsonl") URLs were not an edge HIT confirmed by a 304 (want all $ROUTES)"
	fi
	row "stale throughput" "cachectl stale, $ROUTES URLs warm (edge HIT + origin 304 each), concurrency $CONCURRENCY" \
		"$stale_ups URLs/s" "$((ROUTES * 2)) requests in $(fmt "$sec" 2) s ($(per_sec $((ROUTES * 2)) "$sec") req/s)"

	# wrk sends the same requests: the edge GETs, then the origin GETs with
	# the validators stale sent (the edge copies' ETag and Last-Modified).
	jq -r --arg b "$BASE" '[(.url | ltrimstr($b)), (.edge.etag // ""), (.edge.last_modified // "")] | @tsv' \
		"$WORK/stale.jsonl" >"$WORK/stale-wrk.tsv"
	cat >"$WORK/stale.lua" <<'LUA'
-- Cycles through WRK_URLS (path TAB etag TAB last-modified) from a
-- different offset in each thread; WRK_CONDITIONAL=1 sends the validators
-- as If-None-Match and If-Modified-Since, as stale asks the origin.
local paths, inm, ims = {}, {}, {}
for line in io.lines(os.getenv("WRK_URLS")) do
  local p, e, m = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  paths[#paths + 1], inm[#inm + 1], ims[#ims + 1] = p, e, m
end
local conditional = os.getenv("WRK_CONDITIONAL") == "1"
local n = 0
function setup(thread) thread:set("offset", n * 7919); n = n + 1 end
function init() i = offset or 0 end
function request()
  i = i % #paths + 1
  local h = { ["Accept-Encoding"] = "gzip" }
  if conditional and inm[i] ~= "" then h["If-None-Match"] = inm[i] end
  if conditional and ims[i] ~= "" then h["If-Modified-Since"] = ims[i] end
  return wrk.format("GET", paths[i], h)
end
LUA
	threads=$((CONCURRENCY < 2 ? 1 : 2))
	stale_wrk() { # CONDITIONAL URL -> req/s
		WRK_URLS="$WORK/stale-wrk.tsv" WRK_CONDITIONAL=$1 wrk -t"$threads" -c"$CONCURRENCY" -d"${WRK_SECONDS}s" \
			-s "$WORK/stale.lua" "$2" >"$WORK/stale-wrk.txt"
		awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$WORK/stale-wrk.txt"
	}
	say "(f) wrk: the edge GETs, then the conditional origin GETs, $CONCURRENCY connections, ${WRK_SECONDS}s each"
	wrk_edge=$(stale_wrk 0 "$BASE")
	wrk_origin=$(stale_wrk 1 "http://127.0.0.1:$STACK_ORIGIN_PORT")
	# One URL costs one request of each kind: 1 / (1/edge + 1/origin) URLs per second.
	wrk_ups=$(awk -v e="$wrk_edge" -v o="$wrk_origin" 'BEGIN { if (e > 0 && o > 0) printf "%.0f", 1 / (1 / e + 1 / o); else print 0 }')
	row "stale throughput" "wrk, the same $((ROUTES * 2)) requests (-t$threads -c$CONCURRENCY, keep-alive, ${WRK_SECONDS}s per side)" \
		"$wrk_ups URLs/s" "edge GETs $wrk_edge req/s, conditional origin GETs $wrk_origin req/s; URLs/s = 1 / (1/edge + 1/origin)"
	row "stale throughput ratio" "stale / wrk" "$(awk -v a="$stale_ups" -v b="$wrk_ups" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')×" \
		"same requests and connection model; stale also decodes and hashes every edge body"

	for n in $RSS_SIZES; do
		[[ $n =~ ^[1-9][0-9]*$ ]] || die "RSS_SIZES: '$n' is not a positive whole number"
		paths "$n" | awk -v b="$BASE" '{ print b $0 }' >"$WORK/stale-rss-urls.txt"
		say "(f) peak RSS: cachectl stale -o jsonl, $n URLs (warmed first)"
		stale_warm "$WORK/stale-rss-urls.txt"
		stale_run "$WORK/stale-rss" "$WORK/stale-rss-urls.txt" ||
			note "stale at $n URLs exited $?: $(tail -n 1 "$WORK/stale-rss.err")"
		read -r sec kib <"$WORK/stale-rss.time"
		row "peak RSS" "stale -o jsonl --from-file, $n URLs, warm" "$(mib "$kib")" \
			"$(fmt "$sec" 1) s, $(per_sec "$n" "$sec") URLs/s; $(grep -c '"stale":true' "$WORK/stale-rss.jsonl" || true) stale"
	done
fi

if ((STACK_UP)); then
	scripts/stack.sh down >/dev/null 2>&1 || true
	STACK_UP=0
fi

# ---------------------------------------------------------------- (a) verify
if [[ $SECTIONS == *a* ]]; then
	if [[ -x scripts/bench-verify.sh ]]; then
		say "(a) scripts/bench-verify.sh: $ROUTES routes, concurrency $CONCURRENCY"
		set +e
		ROUTES=$ROUTES BIG_ROUTES=0 CONCURRENCY=$CONCURRENCY WRK_SECONDS=$WRK_SECONDS CURL_REQUESTS=$((ROUTES * 2)) \
			STACK_DIR="$STACK_DIR-verify" scripts/bench-verify.sh >"$WORK/verify.txt" 2>"$WORK/verify.err"
		code=$?
		set -e
		vv() { awk -v k="$1" 'index($0, k) == 1 { print $NF; exit }' "$WORK/verify.txt"; }
		v_rps=$(vv "verify req/s")
		if ((code == 0)) && [[ -n $v_rps ]]; then
			row "throughput" "cachectl verify (scripts/bench-verify.sh, keep-alive)" "$v_rps req/s" "$((ROUTES * 2)) requests, concurrency $CONCURRENCY"
			row "throughput" "wrk, keep-alive (bench-verify.sh's own run)" "$(vv "wrk req/s") req/s" "same URL list"
			row "throughput" "curl loop (bench-verify.sh's own run)" "$(vv "curl loop req/s") req/s" "$((ROUTES * 2)) requests"
			row "throughput ratio" "verify / wrk (keep-alive)" "$(vv "verify / wrk")" "verify / curl loop: $(vv "verify / curl loop")"
		else
			FAILED=1
			note "scripts/bench-verify.sh exited $code: $(tail -n 3 "$WORK/verify.err" | tr '\n' ' ')"
		fi
	else
		note "scripts/bench-verify.sh is not in this checkout: verify throughput skipped"
	fi
fi

# ---------------------------------------------------------------- report
{
	echo "## cachectl benchmark results"
	echo
	echo "Machine: $MACHINE."
	echo
	echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)'), \`$([[ $QUICK == 1 ]] && echo 'QUICK=1 ')scripts/bench/run.sh\` (routes $ROUTES, concurrency $CONCURRENCY, purge N $PURGE_N)."
	echo
	echo "| area | measure | value | notes |"
	echo "| --- | --- | ---: | --- |"
	printf '%s\n' "${ROWS[@]}"
	if ((${#NOTES[@]})); then
		echo
		printf '%s\n' "${NOTES[@]}"
	fi
	if [[ -n $MICRO ]]; then
		echo
		echo "benchstat (\`go test -bench -count $BENCH_COUNT -benchtime $BENCH_TIME\`, pkg/cachestatus and pkg/analyze):"
		echo
		echo '```'
		echo "$MICRO"
		echo '```'
	fi
	if [[ -s $WORK/purge.md ]]; then
		echo
		echo "scripts/bench-purge.sh:"
		sed -n '/^| scenario/,$p' "$WORK/purge.md"
	fi
} >"$WORK/latest.md"
mkdir -p "$RESULTS_DIR"
cp "$WORK/latest.md" "$RESULTS_DIR/latest.md"
cat "$WORK/latest.md"
say "results written to ${RESULTS_DIR#"$ROOT"/}/latest.md"
exit "$FAILED"
