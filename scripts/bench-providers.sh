#!/usr/bin/env bash
# Benchmark: cachectl purge of N URLs through each provider, against its API
# fake on loopback (cdnfake) keeping the vendor's documented rate limits
# where the fake has them (Akamai, Bunny), with cachectl's default limits for
# the provider (Cloudflare on the Pro plan). For each provider it reports the
# API calls, the time, the floor the vendor's published limits allow for N
# URLs, how far above it the run was, and the requests the fake refused for
# rate (0 means the client throttled itself under the vendor's limit).
#
# Floors, for N URLs of one request each (Fastly, Bunny) or packed (the rest):
#   cloudflare  (N - 1,500) / 1,500 s: the Pro plan's 1,500 URLs a second
#   fastly      none published for URL purges
#   akamai      max((calls - 100) / 50, (N - 10,000) / 200) s: 100 requests at
#               50 a second, 10,000 URLs at 200 a second
#   bunny       (N - 120) / 5 s: 120 exact purges at 5 a second
#
# Environment (defaults in brackets): N [10000], PROVIDERS [cloudflare fastly
# akamai bunny], CACHECTL (a built binary to use instead of building one).
# Bunny takes (N - 120) / 5 seconds: 33 minutes for the default N.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${N:-10000}
PROVIDERS=${PROVIDERS:-cloudflare fastly akamai bunny}
HOST=www.example.com

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench-providers: %s\n' "$*" >&2
	exit 2
}
for tool in jq awk go; do
	command -v "$tool" >/dev/null || die "missing $tool (apt-get install jq gawk; Go from go.dev)"
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N=$N: want a positive whole number"

WORK=$(mktemp -d /tmp/cachectl-bench-providers.XXXXXX)
FAKE_PID=""
stop_fake() {
	local pid=$FAKE_PID
	[[ -n $pid ]] || return 0
	FAKE_PID=""
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop_fake
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Credentials live in this process's environment and in files under $WORK
# only: never in argv or output.
rand() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
BENCH_TOKEN=$(rand)
export BENCH_TOKEN
# cachectl reads ~/.edgerc with HOME=$BENCH_HOME; the build keeps the real HOME.
BENCH_HOME=$WORK/home
export XDG_STATE_HOME=$WORK/state
mkdir -p "$BENCH_HOME"
printf '[default]\nhost = akab-bench.luna.akamaiapis.net\nclient_token = akab-%s\nclient_secret = %s\naccess_token = akab-%s\n' \
	"$(rand)" "$(rand)" "$(rand)" >"$BENCH_HOME/.edgerc"
chmod 600 "$BENCH_HOME/.edgerc"

say "building cachectl and cdnfake"
if [[ -z ${CACHECTL:-} ]]; then
	go build -o "$WORK/cachectl" ./cmd/cachectl
	CACHECTL=$WORK/cachectl
fi
go build -o "$WORK/cdnfake" ./internal/cdnfake/cmd/cdnfake
seq 1 "$N" | awk -v h="$HOST" '{ printf "https://%s/articles/bench-article-%06d\n", h, $1 }' >"$WORK/urls.txt"

start_fake() { # PROVIDER FLAGS... -> FAKE_PID, API_URL
	local p=$1
	shift
	"$WORK/cdnfake" -provider "$p" -port 0 -token-env BENCH_TOKEN -edgerc "$BENCH_HOME/.edgerc" "$@" \
		>"$WORK/counts-$p.json" 2>"$WORK/fake-$p.err" &
	FAKE_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		API_URL=$(sed -n 's#.*listening on \(http://127\.0\.0\.1:[0-9/a-z]*\).*#\1#p' "$WORK/fake-$p.err" 2>/dev/null || true)
		[[ -n $API_URL ]] && return 0
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$WORK/fake-$p.err" >&2
	die "the $p fake did not start"
}

cdn_section() { # PROVIDER -> the cdn keys besides provider and api_url
	case $1 in
	cloudflare) printf '      zone_id: 023e105f4ecef8ad9ca31a8372d0c353\n      api_token_env: BENCH_TOKEN\n      plan: pro\n' ;;
	fastly) printf '      service_id: SU1Z0isxPaozGVKXdv0eY\n      api_token_env: BENCH_TOKEN\n' ;;
	akamai) printf '      network: production\n' ;;
	bunny) printf '      api_token_env: BENCH_TOKEN\n' ;;
	esac
}

floor() { # PROVIDER CALLS -> seconds, or n/a
	awk -v p="$1" -v n="$N" -v c="$2" 'function pos(x) { return x > 0 ? x : 0 }
		BEGIN {
			if (p == "cloudflare") printf "%.2f", pos((n - 1500) / 1500)
			else if (p == "akamai") { a = pos((c - 100) / 50); b = pos((n - 10000) / 200); printf "%.2f", (a > b ? a : b) }
			else if (p == "bunny") printf "%.2f", pos((n - 120) / 5)
			else print "n/a"
		}'
}

ROWS=()
for p in $PROVIDERS; do
	case $p in
	cloudflare | fastly) start_fake "$p" ;;
	akamai | bunny) start_fake "$p" -vendor-limits ;;
	*) die "unknown provider $p" ;;
	esac
	{
		printf 'environments:\n  production:\n    base_url: https://%s\n    cdn:\n      provider: %s\n      api_url: %s\n' "$HOST" "$p" "$API_URL"
		cdn_section "$p"
	} >"$WORK/$p.yaml"
	say "$p: purging $N URLs"
	set +e
	HOME=$BENCH_HOME "$CACHECTL" purge --config "$WORK/$p.yaml" --env production --from-file "$WORK/urls.txt" \
		--journal "$WORK/journal-$p.jsonl" -o json >"$WORK/out-$p.json" 2>"$WORK/err-$p.txt"
	code=$?
	set -e
	stop_fake
	if ((code != 0)); then
		tail -n 20 "$WORK/err-$p.txt" >&2
		die "$p: cachectl purge exited $code"
	fi
	calls=$(jq -r .summary.api_calls "$WORK/out-$p.json")
	purged=$(jq -r .summary.purged "$WORK/out-$p.json")
	sec=$(jq -r '.summary.elapsed_ms / 1000' "$WORK/out-$p.json")
	limited=$(jq -r .rate_limited "$WORK/counts-$p.json")
	fl=$(floor "$p" "$calls")
	over=$(awk -v t="$sec" -v f="$fl" 'BEGIN { if (f == "n/a") print "n/a"; else if (f > 0) printf "%+.1f%%", 100 * (t - f) / f; else printf "+%.2f s", t }')
	say "$p: $purged purged in $calls API calls, ${sec}s (floor $fl), $limited refused for rate"
	ROWS+=("| $p | $N | $calls | $purged | $(printf '%.2f' "$sec") s | $fl | $over | $limited |")
done

printf '\n| provider | URLs | API calls | purged | time | floor (s) | over the floor | refused for rate |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
printf '%s\n' "${ROWS[@]}"
