#!/usr/bin/env bash
# Benchmark: cachectl purge of N URLs against the Cloudflare API fake
# (cdnfake -provider cloudflare, loopback, a free port picked by the fake
# itself), in four scenarios:
#
#   A  no limit on the fake: API calls must equal ceil(N / BATCH) exactly.
#   B  the fake limited to RATE requests/s with a bucket of BURST, cachectl
#      configured with the same rate and burst: total time within TOLERANCE%
#      of the floor that limit allows, (calls - BURST) / RATE seconds, and no
#      request rejected for rate by the fake (the client throttles itself).
#   C  FAULTS of the requests answered with a random 429/500/502/503
#      (Retry-After RETRY_AFTER): every URL purged and none purged twice (the
#      fake's count of purged items equals N); retries and time reported.
#   D  a zone held to HELD URLs a request while cachectl starts at the plan's
#      documented 100 (no batch_size): the API refuses one request as too
#      many, cachectl keeps the size it accepted, and the run takes
#      ceil(N / HELD) requests plus the refused one.
#   E  memory as the number of URLs grows: peak RSS (GNU time) of
#      purge --dry-run -o jsonl (the whole plan printed, nothing sent) at each
#      size in DRY_SIZES, and of a purge -o json against the fake as in A at
#      each size in RUN_SIZES (the fake must purge every URL). Target: flat
#      in the number of URLs (the plan is spooled to a temporary file; what
#      grows is the 16-byte-per-URL repeat check).
#
# Prints a Markdown table on stdout (progress on stderr) and exits 1 when a
# check fails, 2 when something needed is missing or a run breaks.
#
# Environment (defaults in brackets): N [10000], BATCH [100], RATE [5],
# BURST [25], TOLERANCE [15] (percent), FAULTS [0.1], RETRY_AFTER [1s],
# HELD [30], SEED [1], DRY_SIZES ["10000 100000 1000000"], RUN_SIZES ["10000
# 100000"], SCENARIOS [ABCD] (any subset of ABCDE), CACHECTL (a built binary to use
# instead of building one), BENCH_RESULTS (also write the figures there as
# key=value lines, for scripts/bench/run.sh).
#
# Scenario B takes about (ceil(N/BATCH) - BURST) / RATE seconds: 15 s for the
# defaults. N=1000 gives a quick run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${N:-10000}
BATCH=${BATCH:-100}
RATE=${RATE:-5}
BURST=${BURST:-25}
TOLERANCE=${TOLERANCE:-15}
FAULTS=${FAULTS:-0.1}
RETRY_AFTER=${RETRY_AFTER:-1s}
SEED=${SEED:-1}
HELD=${HELD:-30}
SCENARIOS=${SCENARIOS:-ABCD}
DRY_SIZES=${DRY_SIZES:-"10000 100000 1000000"}
RUN_SIZES=${RUN_SIZES:-"10000 100000"}
ZONE=023e105f4ecef8ad9ca31a8372d0c353
HOST=www.example.com

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench-purge: %s\n' "$*" >&2
	exit 2
}
for tool in jq awk go /usr/bin/time; do
	command -v "$tool" >/dev/null || die "missing $tool (apt-get install jq gawk time; Go from go.dev)"
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N=$N: want a positive whole number"
[[ $BATCH =~ ^[1-9][0-9]*$ ]] && ((BATCH <= 500)) || die "BATCH=$BATCH: want 1 to 500"
[[ $BURST =~ ^[1-9][0-9]*$ ]] || die "BURST=$BURST: want a positive whole number"
awk -v r="$RATE" 'BEGIN { exit !(r + 0 > 0) }' || die "RATE=$RATE: want a positive number"

WORK=$(mktemp -d /tmp/cachectl-bench-purge.XXXXXX)
FAKE_PID=""
stop_fake() { # stops the running fake; its counts land in $WORK/counts-$1.json
	local pid=$FAKE_PID
	[[ -n $pid ]] || return 0
	FAKE_PID=""
	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop_fake
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The token lives only in this process's environment: never in argv or output.
BENCH_CF_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export BENCH_CF_TOKEN
export XDG_STATE_HOME=$WORK/state

say "building cachectl and the Cloudflare fake"
if [[ -z ${CACHECTL:-} ]]; then
	go build -o "$WORK/cachectl" ./cmd/cachectl
	CACHECTL=$WORK/cachectl
fi
[[ -x $CACHECTL ]] || die "CACHECTL=$CACHECTL is not an executable"
go build -o "$WORK/cdnfake" ./internal/cdnfake/cmd/cdnfake

seq 1 "$N" | awk -v h="$HOST" '{ printf "https://%s/articles/bench-article-%06d\n", h, $1 }' >"$WORK/urls.txt"
CALLS_WANT=$(((N + BATCH - 1) / BATCH))

start_fake() { # NAME FAKE-FLAGS... -> sets FAKE_PID and API_URL
	local name=$1
	shift
	"$WORK/cdnfake" -provider cloudflare -port 0 -zone "$ZONE" -token-env BENCH_CF_TOKEN -hosts "$HOST" \
		-files-limit "$BATCH" -seed "$SEED" "$@" >"$WORK/counts-$name.json" 2>"$WORK/fake-$name.err" &
	FAKE_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		API_URL=$(sed -n 's#.*listening on \(http://127\.0\.0\.1:[0-9]*/client/v4\).*#\1#p' "$WORK/fake-$name.err" 2>/dev/null || true)
		[[ -n $API_URL ]] && return 0
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$WORK/fake-$name.err" >&2
	die "the Cloudflare fake for scenario $name did not start"
}

write_config() { # FILE RATE BURST [BATCH_SIZE (none: the plan's default)]
	cat >"$1" <<YAML
environments:
  production:
    base_url: https://$HOST
    cdn:
      provider: cloudflare
      zone_id: $ZONE
      api_token_env: BENCH_CF_TOKEN
      api_url: $API_URL
      plan: pro
      rate: $2
      burst: $3
      max_attempts: 5
YAML
	if [[ -n ${4-$BATCH} ]]; then
		printf '      batch_size: %s\n' "${4-$BATCH}" >>"$1"
	fi
}

now() { date +%s.%N; }

# run_purge NAME RATE BURST [BATCH_SIZE] -> purge every URL; leaves
# $WORK/out-NAME.json, the fake's counts in $WORK/counts-NAME.json, wall
# seconds in WALL.
run_purge() {
	local name=$1 code start end
	write_config "$WORK/$name.yaml" "$2" "$3" "${4-$BATCH}"
	start=$(now)
	set +e
	"$CACHECTL" purge --config "$WORK/$name.yaml" --env production --from-file "$WORK/urls.txt" \
		--journal "$WORK/journal-$name.jsonl" --reason "bench-purge scenario $name" \
		-o json >"$WORK/out-$name.json" 2>"$WORK/err-$name.txt"
	code=$?
	set -e
	end=$(now)
	stop_fake
	WALL=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
	if ((code != 0)); then
		tail -n 20 "$WORK/err-$name.txt" >&2
		die "scenario $name: cachectl purge exited $code"
	fi
	jq -e '.summary' "$WORK/out-$name.json" >/dev/null || die "scenario $name: no summary in cachectl's output"
	jq -e '.requests' "$WORK/counts-$name.json" >/dev/null || die "scenario $name: the fake reported no counts"
}
sum() { jq -r "$1" "$WORK/out-$2.json"; }
fake() { jq -r "$1" "$WORK/counts-$2.json"; }

FAILED=0
check() { # OK? MESSAGE
	if [[ $1 == yes ]]; then
		say "ok: $2"
	else
		say "FAIL: $2"
		FAILED=1
	fi
}
ROWS=()
RESULTS=()

if [[ $SCENARIOS == *A* ]]; then
	say "scenario A: $N URLs, batch $BATCH, no limit on the fake"
	start_fake A
	run_purge A 1000 1000
	a_calls=$(sum .summary.api_calls A)
	a_requests=$(fake .requests A)
	a_purged=$(sum .summary.purged A)
	a_ms=$(sum .summary.elapsed_ms A)
	check "$([[ $a_calls == "$CALLS_WANT" && $a_requests == "$CALLS_WANT" ]] && echo yes)" \
		"API calls $a_calls (fake received $a_requests) = ceil($N/$BATCH) = $CALLS_WANT"
	check "$([[ $a_purged == "$N" && $(fake .items_purged A) == "$N" ]] && echo yes)" \
		"$a_purged of $N URLs purged, fake purged $(fake .items_purged A) items"
	ROWS+=("| A: no limit | $N URLs, batch $BATCH | $a_requests API calls; ceil(N/batch) = $CALLS_WANT | $(awk -v m="$a_ms" 'BEGIN { printf "%.2f", m / 1000 }') s | $([[ $a_requests == "$CALLS_WANT" ]] && echo "equal" || echo "**not equal**") |")
	RESULTS+=("purge_a_calls=$a_requests" "purge_a_want=$CALLS_WANT" "purge_a_seconds=$(awk -v m="$a_ms" 'BEGIN { printf "%.2f", m / 1000 }')")
fi

if [[ $SCENARIOS == *B* ]]; then
	floor=$(awk -v c="$CALLS_WANT" -v b="$BURST" -v r="$RATE" 'BEGIN { f = (c - b) / r; printf "%.2f", (f > 0 ? f : 0) }')
	say "scenario B: fake limited to $RATE req/s, bucket $BURST; cachectl rate $RATE burst $BURST (floor ${floor}s)"
	start_fake B -rate "$RATE" -burst "$BURST"
	run_purge B "$RATE" "$BURST"
	b_requests=$(fake .requests B)
	b_limited=$(fake .rate_limited B)
	b_sec=$(awk -v m="$(sum .summary.elapsed_ms B)" 'BEGIN { printf "%.2f", m / 1000 }')
	b_calls=$(sum .summary.api_calls B)
	b_pct=$(awk -v t="$b_sec" -v f="$floor" 'BEGIN { if (f > 0) printf "%+.1f", 100 * (t - f) / f; else print "n/a" }')
	if [[ $b_pct == n/a ]]; then
		say "note: $CALLS_WANT calls fit in the bucket of $BURST; no floor to compare with (raise N)"
	else
		check "$(awk -v p="$b_pct" -v t="$TOLERANCE" 'BEGIN { exit !(p <= t && p >= -t) }' && echo yes)" \
			"time ${b_sec}s vs floor ${floor}s = ($CALLS_WANT - $BURST)/$RATE: ${b_pct}% (within ±$TOLERANCE%)"
	fi
	check "$([[ $b_limited == 0 ]] && echo yes)" "$b_limited requests rejected for rate by the fake"
	check "$([[ $(sum .summary.purged B) == "$N" && $b_calls == "$b_requests" ]] && echo yes)" \
		"$(sum .summary.purged B) of $N URLs purged in $b_calls API calls (fake received $b_requests)"
	ROWS+=("| B: $RATE req/s, bucket $BURST | $N URLs, batch $BATCH | $b_requests API calls, $b_limited rejected for rate | $b_sec s (floor $floor s, $b_pct%) | $([[ $b_limited == 0 ]] && echo "throttled client-side" || echo "**rate-limited by the API**") |")
	RESULTS+=("purge_b_calls=$b_requests" "purge_b_seconds=$b_sec" "purge_b_floor=$floor" "purge_b_pct=$b_pct" "purge_b_rejected=$b_limited")
fi

if [[ $SCENARIOS == *C* ]]; then
	say "scenario C: $FAULTS of requests answered 429/5xx (Retry-After $RETRY_AFTER), seed $SEED"
	start_fake C -fault-fraction "$FAULTS" -retry-after "$RETRY_AFTER"
	run_purge C 1000 1000
	c_purged=$(sum .summary.purged C)
	c_failed=$(sum .summary.failed C)
	c_retries=$(sum .summary.retries C)
	c_calls=$(sum .summary.api_calls C)
	c_items=$(fake .items_purged C)
	c_requests=$(fake .requests C)
	c_faults=$(fake .faults C)
	c_states=$(jq -r '[.targets[] | select(.state == "purged")] | length' "$WORK/out-C.json")
	c_sec=$(awk -v m="$(sum .summary.elapsed_ms C)" 'BEGIN { printf "%.2f", m / 1000 }')
	check "$([[ $c_purged == "$N" && $c_failed == 0 && $c_states == "$N" ]] && echo yes)" \
		"$c_purged of $N URLs purged, $c_failed failed"
	check "$([[ $c_items == "$N" ]] && echo yes)" "fake purged $c_items items for $N URLs (none twice)"
	check "$([[ $c_retries == "$c_faults" ]] && echo yes)" "$c_retries retries for $c_faults injected faults ($c_requests requests, $c_calls API calls)"
	ROWS+=("| C: ${FAULTS} faults (429/5xx) | $N URLs, batch $BATCH | $c_requests requests, $c_faults faults, $c_retries retries | $c_sec s | $c_purged purged, $c_failed failed, fake purged $c_items items |")
	RESULTS+=("purge_c_requests=$c_requests" "purge_c_faults=$c_faults" "purge_c_retries=$c_retries" "purge_c_seconds=$c_sec" "purge_c_purged=$c_purged" "purge_c_failed=$c_failed" "purge_c_items=$c_items")
fi

if [[ $SCENARIOS == *D* ]]; then
	d_want=$(((N + HELD - 1) / HELD + 1))
	say "scenario D: a zone held to $HELD URLs a request; cachectl starts at the plan's 100"
	start_fake D -files-limit "$HELD"
	run_purge D 1000 1000 ""
	d_calls=$(sum .summary.api_calls D)
	d_requests=$(fake .requests D)
	d_limit=$(sum '.summary.batch_limits.url // 0' D)
	d_sec=$(awk -v m="$(sum .summary.elapsed_ms D)" 'BEGIN { printf "%.2f", m / 1000 }')
	check "$([[ $d_calls == "$d_want" && $d_requests == "$d_want" && $d_limit == "$HELD" ]] && echo yes)" \
		"API calls $d_calls (fake received $d_requests) = ceil($N/$HELD) + 1 refused = $d_want; batch limit kept: $d_limit"
	check "$([[ $(sum .summary.purged D) == "$N" && $(fake .items_purged D) == "$N" ]] && echo yes)" \
		"$(sum .summary.purged D) of $N URLs purged, fake purged $(fake .items_purged D) items"
	ROWS+=("| D: zone held to $HELD | $N URLs, plan's batch size | $d_requests API calls; ceil(N/$HELD) + 1 = $d_want | $d_sec s | batch limit kept at $d_limit |")
	RESULTS+=("purge_d_calls=$d_requests" "purge_d_want=$d_want" "purge_d_seconds=$d_sec")
fi

if [[ $SCENARIOS == *E* ]]; then
	# rss_of LABEL ARGS...: runs cachectl under GNU time; sets RSS_MIB and WALL_S.
	rss_of() {
		local label=$1
		shift
		if ! /usr/bin/time -f '%M %e' -o "$WORK/time" "$CACHECTL" "$@" >"$WORK/out-E.json" 2>"$WORK/err-E.txt"; then
			tail -n 5 "$WORK/err-E.txt" >&2
			die "scenario E: $label exited non-zero"
		fi
		read -r RSS_MIB WALL_S <"$WORK/time"
		RSS_MIB=$((RSS_MIB / 1024))
	}
	API_URL=http://127.0.0.1:9/client/v4 # a dry run sends nothing
	write_config "$WORK/E-dry.yaml" 1000 1000
	for n in $DRY_SIZES; do
		[[ $n =~ ^[1-9][0-9]*$ ]] || die "DRY_SIZES: '$n' is not a positive whole number"
		seq 1 "$n" | awk -v h="$HOST" '{ printf "https://%s/articles/bench-article-%07d\n", h, $1 }' >"$WORK/urls-E.txt"
		say "scenario E: dry run of $n URLs"
		rss_of "dry run" purge --config "$WORK/E-dry.yaml" --env production --dry-run -o jsonl --from-file "$WORK/urls-E.txt"
		ROWS+=("| E: memory, dry run | $n URLs | nothing sent | $WALL_S s | peak RSS $RSS_MIB MiB |")
		RESULTS+=("purge_e_dry_${n}_rss_mib=$RSS_MIB" "purge_e_dry_${n}_seconds=$WALL_S")
	done
	for n in $RUN_SIZES; do
		[[ $n =~ ^[1-9][0-9]*$ ]] || die "RUN_SIZES: '$n' is not a positive whole number"
		seq 1 "$n" | awk -v h="$HOST" '{ printf "https://%s/articles/bench-article-%07d\n", h, $1 }' >"$WORK/urls-E.txt"
		say "scenario E: purge of $n URLs against the fake"
		start_fake E
		write_config "$WORK/E.yaml" 1000 1000
		rss_of "purge" purge --config "$WORK/E.yaml" --env production --from-file "$WORK/urls-E.txt" \
			--journal "$WORK/journal-E.jsonl" -o json
		stop_fake
		e_purged=$(jq -r .summary.purged "$WORK/out-E.json")
		check "$([[ $e_purged == "$n" && $(fake .items_purged E) == "$n" ]] && echo yes)" \
			"$e_purged of $n URLs purged, fake purged $(fake .items_purged E) items"
		ROWS+=("| E: memory, purge | $n URLs, batch $BATCH | $(fake .requests E) API calls | $WALL_S s | peak RSS $RSS_MIB MiB |")
		RESULTS+=("purge_e_run_${n}_rss_mib=$RSS_MIB" "purge_e_run_${n}_seconds=$WALL_S")
	done
fi

printf '\n| scenario | work | API | time | outcome |\n| --- | --- | --- | ---: | --- |\n'
printf '%s\n' "${ROWS[@]}"
RESULTS+=("purge_n=$N" "purge_batch=$BATCH" "purge_rate=$RATE" "purge_burst=$BURST" "purge_faults=$FAULTS" "purge_ok=$((1 - FAILED))")
if [[ -n ${BENCH_RESULTS:-} ]]; then
	printf '%s\n' "${RESULTS[@]}" >"$BENCH_RESULTS"
fi
if ((FAILED)); then
	say "bench-purge: a check failed (see FAIL above)"
	exit 1
fi
