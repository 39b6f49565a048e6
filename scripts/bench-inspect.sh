#!/usr/bin/env bash
# Benchmark: cachectl inspect against the local production Varnish, compared in
# the same run with what a user would otherwise write, a curl loop at the same
# concurrency:  xargs -P 8 curl -s -o /dev/null -D -
#
# Both sides fetch the same URLs as both variants (anonymous, and logged in with
# the session cookie), over a fresh connection per request, after one warming
# pass so anonymous requests are cache HITs for both.
#
# Environment: ROUTES (default 2000), BIG_ROUTES (default 20000, for the memory
# check; 0 skips it), CONCURRENCY (default 8), the STACK_* variables of
# scripts/stack.sh (defaults here: ports 28080/26081/26082).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUTES=${ROUTES:-2000}
BIG_ROUTES=${BIG_ROUTES:-20000}
CONCURRENCY=${CONCURRENCY:-8}
export STACK_ORIGIN_PORT=${STACK_ORIGIN_PORT:-28080}
export STACK_PRODUCTION_PORT=${STACK_PRODUCTION_PORT:-26081}
export STACK_STAGING_PORT=${STACK_STAGING_PORT:-26082}
export STACK_DIR=${STACK_DIR:-/tmp/cachectl-bench-stack}
export STACK_ACCESS_LOG=0
BASE=http://127.0.0.1:$STACK_PRODUCTION_PORT
WORK=$(mktemp -d /tmp/cachectl-bench.XXXXXX)
say() { printf '==> %s\n' "$*" >&2; }

cleanup() { scripts/stack.sh down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
go build -o "$WORK/cachectl" ./cmd/cachectl
scripts/stack.sh up >&2

# A config for the benchmark stack, with the session taken from a cookie jar.
curl -s -o /dev/null -c "$WORK/jar" "http://127.0.0.1:$STACK_ORIGIN_PORT/login"
SESSION=$(awk '$6 == "sessionid" { print $7 }' "$WORK/jar")
# The curl loop reads the cookie from a file so the value never sits in argv.
awk -v host=127.0.0.1 'BEGIN{OFS="\t"} $6 == "sessionid" { print host, "FALSE", "/", "FALSE", "0", $6, $7 }' "$WORK/jar" >"$WORK/curl-cookies"
cat >"$WORK/bench.yaml" <<YAML
environments:
  production:
    base_url: $BASE
    hosts: [127.0.0.1:$STACK_PRODUCTION_PORT]
    session: { cookie: sessionid, value_env: BENCH_SESSION }
YAML
export BENCH_SESSION=$SESSION

urls() { # N -> N article URLs
	local n=$1
	seq 1 "$n" | awk -v base="$BASE" '{ printf "%s/articles/bench-article-%06d\n", base, $1 }'
}

# elapsed seconds and peak RSS (KiB) of a command: "SECONDS KIB"
measure() {
	/usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || true
	cat "$WORK/time"
}

curl_loop() { # file -> both variants with xargs -P
	local f=$1
	{
		xargs -P "$CONCURRENCY" -n 1 curl -s -o /dev/null -D - <"$f"
		xargs -P "$CONCURRENCY" -n 1 curl -s -o /dev/null -D - -b "$WORK/curl-cookies" <"$f"
	} >/dev/null
}
export -f curl_loop
export CONCURRENCY WORK

urls "$ROUTES" >"$WORK/urls.txt"
say "warming $ROUTES routes"
"$WORK/cachectl" inspect --config "$WORK/bench.yaml" --env production --as anonymous --from-file "$WORK/urls.txt" -o jsonl --concurrency 16 >/dev/null || true

requests=$((ROUTES * 2))
say "cachectl inspect: $ROUTES routes x 2 variants, concurrency $CONCURRENCY"
read -r c_sec c_rss < <(measure "$WORK/cachectl" inspect --config "$WORK/bench.yaml" --env production --as both --from-file "$WORK/urls.txt" -o jsonl --concurrency "$CONCURRENCY")
say "curl loop: same URLs, xargs -P $CONCURRENCY"
read -r k_sec k_rss < <(measure bash -c "curl_loop $WORK/urls.txt")

big=""
if [ "$BIG_ROUTES" != 0 ]; then
	urls "$BIG_ROUTES" >"$WORK/big.txt"
	say "cachectl inspect: $BIG_ROUTES routes x 2 variants (memory)"
	read -r b_sec b_rss < <(measure "$WORK/cachectl" inspect --config "$WORK/bench.yaml" --env production --as both --from-file "$WORK/big.txt" -o jsonl --concurrency "$CONCURRENCY")
	big=$(printf '| cachectl inspect, %d routes | %d | %.2f | %.0f | %.1f |' "$BIG_ROUTES" $((BIG_ROUTES * 2)) "$b_sec" "$(echo "$BIG_ROUTES * 2 / $b_sec" | bc -l)" "$(echo "$b_rss / 1024" | bc -l)")
fi

printf '\n| run | requests | seconds | requests/s | peak RSS MiB |\n| --- | ---: | ---: | ---: | ---: |\n'
printf '| cachectl inspect, %d routes | %d | %.2f | %.0f | %.1f |\n' "$ROUTES" "$requests" "$c_sec" "$(echo "$requests / $c_sec" | bc -l)" "$(echo "$c_rss / 1024" | bc -l)"
printf '| curl loop (xargs -P %d), %d routes | %d | %.2f | %.0f | - |\n' "$CONCURRENCY" "$ROUTES" "$requests" "$k_sec" "$(echo "$requests / $k_sec" | bc -l)"
[ -n "$big" ] && echo "$big"
printf '\ncachectl is %.1fx the curl loop at concurrency %d (%s, %d cores)\n' "$(echo "$k_sec / $c_sec" | bc -l)" "$CONCURRENCY" "$(uname -m)" "$(nproc)"
