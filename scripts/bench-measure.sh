#!/usr/bin/env bash
# Benchmark: how honest cachectl measure and compare are, on the local stack
# (the Devnotes origin behind the production Varnish):
#   - A/A: two measurements of the same unchanged stack, compared, REPEATS
#     times; every metric should be "unchanged" in at least 19 of 20;
#   - regression: /popular with its index dropped (POST /admin/slow?on=1,
#     a cold path about 10× slower), measured with 12 samples per state
#     before and after, REPEATS times; compare should say "regressed" and
#     exit 1 every time, and leave the warm path unchanged;
#   - overhead: CPU time per sample (user + system, GNU time) of a
#     measurement of CPU_SAMPLES samples per state, against its wall time:
#     the time between samples is spent waiting on the network.
#
# Environment (defaults in brackets): REPEATS [20], SAMPLES [20] (A/A),
# CPU_SAMPLES [500], and the STACK_* variables of scripts/stack.sh (here:
# ports 48080/46081/46082).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
REPEATS=${REPEATS:-20}
SAMPLES=${SAMPLES:-20}
CPU_SAMPLES=${CPU_SAMPLES:-500}
export STACK_ORIGIN_PORT=${STACK_ORIGIN_PORT:-48080}
export STACK_PRODUCTION_PORT=${STACK_PRODUCTION_PORT:-46081}
export STACK_STAGING_PORT=${STACK_STAGING_PORT:-46082}
export STACK_DIR=${STACK_DIR:-/tmp/cachectl-bench-measure-stack}
export STACK_ACCESS_LOG=0
BASE=http://127.0.0.1:$STACK_PRODUCTION_PORT
ORIGIN=http://127.0.0.1:$STACK_ORIGIN_PORT
WORK=$(mktemp -d /tmp/cachectl-bench-measure.XXXXXX)
say() { printf '==> %s\n' "$*" >&2; }

for tool in curl /usr/bin/time; do
	command -v "$tool" >/dev/null || { say "missing $tool (apt-get install curl time)"; exit 2; }
done
cleanup() {
	curl -fsS -o /dev/null -X POST "$ORIGIN/admin/slow?on=0" 2>/dev/null || true
	scripts/stack.sh down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
go build -o "$WORK/cachectl" ./cmd/cachectl
scripts/stack.sh up >&2
slow() { curl -fsS -o /dev/null -X POST "$ORIGIN/admin/slow?on=$1"; }
measure() { # FILE SAMPLES
	"$WORK/cachectl" measure -o json --samples "$2" "$BASE/popular" >"$1" || true
}
# compare OLD NEW -> "exit verdicts...", verdicts as STATE:METRIC=VERDICT
compare() {
	local code=0
	"$WORK/cachectl" compare -o jsonl "$1" "$2" >"$WORK/cmp.jsonl" || code=$?
	printf '%s ' "$code"
	sed -E 's/.*"state":"([a-z]+)","metric":"([^"]+)".*"verdict":"([a-z]+)".*/\1:\2=\3/' "$WORK/cmp.jsonl" | tr '\n' ' '
	echo
}

slow 0
say "A/A: $REPEATS pairs of measurements of /popular, $SAMPLES samples per state"
aa_clean=0
for i in $(seq 1 "$REPEATS"); do
	measure "$WORK/a.json" "$SAMPLES"
	measure "$WORK/b.json" "$SAMPLES"
	result=$(compare "$WORK/a.json" "$WORK/b.json")
	if [[ $result == "0 "* && $result != *"=improved"* && $result != *"=regressed"* ]]; then
		aa_clean=$((aa_clean + 1))
	else
		say "A/A pair $i: $result"
	fi
done

say "regression: /popular without its index, 12 samples per state, $REPEATS times"
caught=0
warm_steady=0
for i in $(seq 1 "$REPEATS"); do
	slow 0
	measure "$WORK/fast.json" 12
	slow 1
	measure "$WORK/slow.json" 12
	result=$(compare "$WORK/fast.json" "$WORK/slow.json")
	[[ $result == "1 "* && $result == *"cold:ttfb_ms=regressed"* ]] && caught=$((caught + 1))
	[[ $result == *"warm:ttfb_ms=unchanged"* ]] && warm_steady=$((warm_steady + 1))
	[[ $result == "1 "* ]] || say "regression run $i: $result"
done
read -r base slowed < <(grep '"state":"cold","metric":"ttfb_ms"' "$WORK/cmp.jsonl" | sed -E 's/.*"old":([0-9.]+),"new":([0-9.]+).*/\1 \2/')
slow 0

say "overhead: $CPU_SAMPLES samples per state of /popular"
/usr/bin/time -f '%U %S %e' -o "$WORK/time" "$WORK/cachectl" measure -o json --samples "$CPU_SAMPLES" "$BASE/popular" >/dev/null
read -r user sys wall <"$WORK/time"
requests=$((2 * CPU_SAMPLES + 1))

printf '\n%-52s %14s\n' "measure" "value"
printf '%-52s %14s\n' "A/A pairs with every metric unchanged" "$aa_clean of $REPEATS"
printf '%-52s %14s\n' "10× slower cold path reported regressed (12 samples)" "$caught of $REPEATS"
printf '%-52s %14s\n' "  warm path unchanged in those runs" "$warm_steady of $REPEATS"
printf '%-52s %14s\n' "  cold TTFB median, indexed → no index (last run)" "${base}ms → ${slowed}ms"
printf '%-52s %11s µs\n' "CPU per sample (user + system)" "$(awk -v u="$user" -v s="$sys" -v n="$requests" 'BEGIN { printf "%.0f", (u + s) / n * 1e6 }')"
printf '%-52s %11s µs\n' "wall time per sample" "$(awk -v w="$wall" -v n="$requests" 'BEGIN { printf "%.0f", w / n * 1e6 }')"
printf '%-52s %13s%%\n' "CPU share of the wall time" "$(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (u + s) / w }')"
