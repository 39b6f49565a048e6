#!/usr/bin/env bash
# Benchmark: cachectl verify against the local production Varnish, measured in
# the same run against
#   - wrk on the same URL set (both variants, the logged-in half with the
#     session cookie) and connection count: the physical limit of this machine;
#   - the curl loop a user would write (xargs -P CONCURRENCY curl), on the same
#     URLs and connection count;
# the same comparison on a URL list that is all cache hits (the anonymous
# variant only, every copy in the cache): the hardest case, where the server
# costs least and the client's own CPU shows most;
# and the peak RSS of verify -o jsonl at ROUTES and BIG_ROUTES routes (GNU time).
#
# Targets: verify ≥ 65% of wrk's request rate (≥ 40% on all hits), ≥ 5× the
# curl loop, peak RSS under 64 MB and flat from ROUTES to BIG_ROUTES.
#
# Environment (defaults in brackets): ROUTES [10000], BIG_ROUTES [100000; 0
# skips], CONCURRENCY [16], WRK_SECONDS [10], CURL_REQUESTS [2000], BIN [a
# cachectl built from this tree; set it to compare two builds], and the
# STACK_* variables of scripts/stack.sh (here: ports 38080/36081/36082).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUTES=${ROUTES:-10000}
BIG_ROUTES=${BIG_ROUTES:-100000}
CONCURRENCY=${CONCURRENCY:-16}
WRK_SECONDS=${WRK_SECONDS:-10}
CURL_REQUESTS=${CURL_REQUESTS:-2000}
export STACK_ORIGIN_PORT=${STACK_ORIGIN_PORT:-38080}
export STACK_PRODUCTION_PORT=${STACK_PRODUCTION_PORT:-36081}
export STACK_STAGING_PORT=${STACK_STAGING_PORT:-36082}
export STACK_DIR=${STACK_DIR:-/tmp/cachectl-bench-verify-stack}
export STACK_ACCESS_LOG=0
BASE=http://127.0.0.1:$STACK_PRODUCTION_PORT
WORK=$(mktemp -d /tmp/cachectl-bench-verify.XXXXXX)
say() { printf '==> %s\n' "$*" >&2; }

for tool in wrk curl /usr/bin/time; do
	command -v "$tool" >/dev/null || { say "missing $tool (apt-get install wrk curl time)"; exit 2; }
done
cleanup() { scripts/stack.sh down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
if [[ -n ${BIN:-} ]]; then
	cp "$BIN" "$WORK/cachectl"
else
	go build -o "$WORK/cachectl" ./cmd/cachectl
fi
scripts/stack.sh up >&2

curl -s -o /dev/null -c "$WORK/jar" "http://127.0.0.1:$STACK_ORIGIN_PORT/login"
BENCH_SESSION=$(awk '$6 == "sessionid" { print $7 }' "$WORK/jar")
export BENCH_SESSION
awk 'BEGIN{OFS="\t"} $6 == "sessionid" { print "127.0.0.1", "FALSE", "/", "FALSE", "0", $6, $7 }' "$WORK/jar" >"$WORK/curl-cookies"

# Every article must come from the cache for an anonymous visitor; the
# logged-in variant is passed to the origin by Varnish and must answer 200.
config() { # FILE WITH_SESSION
	{
		echo "environments:"
		echo "  production:"
		echo "    base_url: $BASE"
		if [[ $2 == yes ]]; then echo "    session: { cookie: sessionid, value_env: BENCH_SESSION }"; fi
		echo "defaults:"
		echo "  expect:"
		echo "    anonymous: { status: 200, cache: [HIT, MISS], min_max_age: 300 }"
		if [[ $2 == yes ]]; then echo "    logged_in: { status: 200 }"; fi
	} >"$1"
}
config "$WORK/both.yaml" yes
config "$WORK/anon.yaml" no
routes() { seq 1 "$1" | awk '{ printf "/articles/bench-article-%06d\n", $1 }'; }
routes "$ROUTES" >"$WORK/routes.txt"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", n / (e - s) }'; }

say "warming $ROUTES routes (anonymous copies into the cache)"
"$WORK/cachectl" verify --config "$WORK/anon.yaml" --env production --routes "$WORK/routes.txt" \
	--concurrency "$CONCURRENCY" -o jsonl >/dev/null || true

say "cachectl verify: $ROUTES routes × 2 variants, concurrency $CONCURRENCY"
start=$(now)
set +e
/usr/bin/time -v -o "$WORK/time-both" "$WORK/cachectl" verify --config "$WORK/both.yaml" --env production \
	--routes "$WORK/routes.txt" --concurrency "$CONCURRENCY" -o jsonl >"$WORK/both.jsonl"
code=$?
set -e
end=$(now)
requests=$((ROUTES * 2))
verify_rps=$(rate "$requests" "$start" "$end")
verify_rss=$(awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$WORK/time-both")
failed=$(grep -c '"passed":false' "$WORK/both.jsonl" || true)
say "verify exit $code, $failed failed checks"

# wrk walks the same URL list, the logged-in half with the session cookie.
{ routes "$ROUTES" | awk '{ print $0 "\t0"; print $0 "\t1" }'; } >"$WORK/wrk-urls.tsv"
cat >"$WORK/urls.lua" <<'LUA'
local paths, cookies = {}, {}
for line in io.lines(os.getenv("WRK_URLS")) do
  local p, c = line:match("^(%S+)\t(%d)$")
  paths[#paths + 1] = p
  cookies[#cookies + 1] = c == "1"
end
local session = "sessionid=" .. os.getenv("BENCH_SESSION")
local i = 0
function setup(thread) thread:set("offset", i * 7919); i = i + 1 end
function init() i = offset or 0 end
function request()
  i = i % #paths + 1
  if cookies[i] then
    return wrk.format("GET", paths[i], { ["Cookie"] = session, ["Accept-Encoding"] = "gzip" })
  end
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
LUA
say "wrk: same URL set, $CONCURRENCY connections, ${WRK_SECONDS}s"
threads=$((CONCURRENCY < 2 ? 1 : 2))
WRK_URLS="$WORK/wrk-urls.tsv" wrk -t"$threads" -c"$CONCURRENCY" -d"${WRK_SECONDS}s" -s "$WORK/urls.lua" "$BASE" >"$WORK/wrk.txt"
wrk_rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$WORK/wrk.txt")

say "cachectl verify, all hits: $ROUTES routes, anonymous only, concurrency $CONCURRENCY"
start=$(now)
"$WORK/cachectl" verify --config "$WORK/anon.yaml" --env production --routes "$WORK/routes.txt" \
	--concurrency "$CONCURRENCY" -o jsonl >"$WORK/hits.jsonl" || true
end=$(now)
hits_rps=$(rate "$ROUTES" "$start" "$end")
hits_seen=$(grep -c '"check":"cache".*"cache":"HIT"' "$WORK/hits.jsonl" || true)
say "verify saw $hits_seen HITs of $ROUTES"
routes "$ROUTES" | awk '{ print $0 "\t0" }' >"$WORK/wrk-hits.tsv"
say "wrk, all hits: same URL set, $CONCURRENCY connections, ${WRK_SECONDS}s"
WRK_URLS="$WORK/wrk-hits.tsv" wrk -t"$threads" -c"$CONCURRENCY" -d"${WRK_SECONDS}s" -s "$WORK/urls.lua" "$BASE" >"$WORK/wrk-hits.txt"
wrk_hits_rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$WORK/wrk-hits.txt")

say "curl loop: first $CURL_REQUESTS of the same requests, xargs -P $CONCURRENCY"
head -n "$CURL_REQUESTS" "$WORK/wrk-urls.tsv" | awk -v base="$BASE" '{ print base $1, $2 }' >"$WORK/curl-input"
start=$(now)
xargs -P "$CONCURRENCY" -L 1 sh -c 'if [ "$1" = 1 ]; then exec curl -s -o /dev/null -b "$2" -D - "$0"; else exec curl -s -o /dev/null -D - "$0"; fi' \
	<"$WORK/curl-input" "$WORK/curl-cookies" >/dev/null 2>&1 || true
end=$(now)
curl_rps=$(rate "$CURL_REQUESTS" "$start" "$end")

rss_run() { # ROUTES -> peak RSS in MB of an anonymous verify -o jsonl
	routes "$1" >"$WORK/rss-routes.txt"
	/usr/bin/time -v -o "$WORK/time-rss" "$WORK/cachectl" verify --config "$WORK/anon.yaml" --env production \
		--routes "$WORK/rss-routes.txt" --concurrency "$CONCURRENCY" -o jsonl >/dev/null || true
	awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$WORK/time-rss"
}
say "peak RSS, verify -o jsonl, anonymous: $ROUTES routes"
rss_small=$(rss_run "$ROUTES")
rss_big=n/a
if ((BIG_ROUTES > 0)); then
	say "peak RSS, verify -o jsonl, anonymous: $BIG_ROUTES routes"
	rss_big=$(rss_run "$BIG_ROUTES")
fi

printf '\n%-38s %12s\n' "measure" "value"
printf '%-38s %12s\n' "verify req/s ($ROUTES routes × 2)" "$verify_rps"
printf '%-38s %12s\n' "wrk req/s (same URLs, -c $CONCURRENCY)" "$wrk_rps"
printf '%-38s %12s\n' "curl loop req/s (xargs -P $CONCURRENCY)" "$curl_rps"
printf '%-38s %11s%%\n' "verify / wrk" "$(awk -v a="$verify_rps" -v b="$wrk_rps" 'BEGIN { printf "%.0f", 100 * a / b }')"
printf '%-38s %12s\n' "verify req/s, all hits ($ROUTES)" "$hits_rps"
printf '%-38s %12s\n' "wrk req/s, all hits" "$wrk_hits_rps"
printf '%-38s %11s%%\n' "verify / wrk, all hits" "$(awk -v a="$hits_rps" -v b="$wrk_hits_rps" 'BEGIN { printf "%.0f", 100 * a / b }')"
printf '%-38s %11sx\n' "verify / curl loop" "$(awk -v a="$verify_rps" -v b="$curl_rps" 'BEGIN { printf "%.1f", a / b }')"
printf '%-38s %9s MB\n' "peak RSS, $ROUTES routes × 2, jsonl" "$verify_rss"
printf '%-38s %9s MB\n' "peak RSS, $ROUTES routes anon, jsonl" "$rss_small"
printf '%-38s %9s MB\n' "peak RSS, $BIG_ROUTES routes anon, jsonl" "$rss_big"
