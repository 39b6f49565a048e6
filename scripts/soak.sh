#!/usr/bin/env bash
# Soak: cachectl verify over many routes at a capped rate against the local
# stack (FastAPI origin behind a real Varnish), with the production Varnish
# killed and restarted in the middle of the run. It checks that
#   - the run completes (exit 3: some probes got no response; not a crash,
#     not a hang) and reports one result per route;
#   - the routes probed while Varnish was down are failures (reachable
#     check failed), never passes, and the routes before and after pass;
#   - memory stays flat: RSS of the cachectl process sampled every second,
#     min/max and the first- against the last-quarter average.
#
# Environment (defaults in brackets):
#   SOAK_ROUTES [50000]       routes to verify
#   SOAK_RATE [400]           verify --rate (requests per second)
#   SOAK_AS [anonymous]       anonymous, or both (adds the logged-in variant: twice the requests)
#   SOAK_CONCURRENCY [16]     verify --concurrency
#   SOAK_RESTART_AT [half]    seconds into the run when Varnish is killed
#   SOAK_DOWN [5]             seconds Varnish stays down
#   SOAK_MAX_GROWTH [1.5]     largest allowed last-/first-quarter RSS ratio
#   STACK_DIR [/tmp/cachectl-soak-stack]; STACK_*_PORT [first bindable from 41080, 41081, 41082]
#
# Exit status: 0 all checks held; 1 a check failed; 2 missing tools.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"

ROUTES=${SOAK_ROUTES:-50000}
RATE=${SOAK_RATE:-400}
AS=${SOAK_AS:-anonymous}
CONCURRENCY=${SOAK_CONCURRENCY:-16}
DOWN=${SOAK_DOWN:-5}
MAX_GROWTH=${SOAK_MAX_GROWTH:-1.5}
# bindable PORT succeeds when PORT can be listened on: 4xxxx ports are in the
# kernel's ephemeral range, where a busy machine's outgoing connections may
# hold one.
bindable() {
	/usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
# pick_port BASE prints the first bindable port from BASE up.
pick_port() {
	local p=$1
	while ! bindable "$p"; do p=$((p + 3)); done
	echo "$p"
}
export STACK_ORIGIN_PORT=${STACK_ORIGIN_PORT:-$(pick_port 41080)}
export STACK_PRODUCTION_PORT=${STACK_PRODUCTION_PORT:-$(pick_port 41081)}
export STACK_STAGING_PORT=${STACK_STAGING_PORT:-$(pick_port 41082)}
export STACK_DIR=${STACK_DIR:-/tmp/cachectl-soak-stack}
export STACK_ACCESS_LOG=0
BASE=http://127.0.0.1:$STACK_PRODUCTION_PORT
variants=1
[[ $AS == both ]] && variants=2
expected_secs=$(((ROUTES * variants + RATE - 1) / RATE))
RESTART_AT=${SOAK_RESTART_AT:-$((expected_secs / 2))}
WORK=$(mktemp -d /tmp/cachectl-soak.XXXXXX)
say() { printf '==> %s\n' "$*" >&2; }

for tool in curl ps /usr/bin/python3; do
	command -v "$tool" >/dev/null || { say "missing $tool"; exit 2; }
done
verify_pid=
cleanup() {
	[[ -n $verify_pid ]] && kill "$verify_pid" 2>/dev/null || true
	scripts/stack.sh down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/cachectl" ./cmd/cachectl
scripts/stack.sh up >&2

session_line=
if [[ $AS == both ]]; then
	curl -s -o /dev/null -c "$WORK/jar" "http://127.0.0.1:$STACK_ORIGIN_PORT/login"
	SOAK_SESSION=$(awk '$6 == "sessionid" { print $7 }' "$WORK/jar")
	export SOAK_SESSION
	session_line="    session: { cookie: sessionid, value_env: SOAK_SESSION }"
fi
{
	echo "environments:"
	echo "  production:"
	echo "    base_url: $BASE"
	[[ -n $session_line ]] && echo "$session_line"
	echo "defaults:"
	echo "  expect:"
	echo "    anonymous: { status: 200, cache: [HIT, MISS] }"
	[[ $AS == both ]] && echo "    logged_in: { status: 200 }"
} >"$WORK/soak.yaml"
seq 1 "$ROUTES" | awk '{ printf "/articles/soak-article-%06d\n", $1 }' >"$WORK/routes.txt"

say "verify: $ROUTES routes × $variants variant(s) at $RATE req/s (≈ ${expected_secs}s); Varnish killed at ${RESTART_AT}s for ${DOWN}s"
start=$(date +%s.%N)
set +e
"$WORK/cachectl" verify --config "$WORK/soak.yaml" --env production --routes "$WORK/routes.txt" \
	--rate "$RATE" --concurrency "$CONCURRENCY" --timeout 5s -o jsonl >"$WORK/out.jsonl" 2>"$WORK/stderr" &
verify_pid=$!
set -e

# Sample RSS every second; kill and restart Varnish once, on schedule.
: >"$WORK/rss"
restarted=no
kill_at= up_at=
t0=$SECONDS
while kill -0 "$verify_pid" 2>/dev/null; do
	elapsed=$((SECONDS - t0))
	rss=$(ps -o rss= -p "$verify_pid" 2>/dev/null | tr -d ' ' || true)
	[[ -n $rss ]] && echo "$elapsed $rss" >>"$WORK/rss"
	if [[ $restarted == no ]] && ((elapsed >= RESTART_AT)); then
		restarted=yes
		pid=$(cat "$STACK_DIR/production.pid")
		say "killing the production varnishd (pid $pid) at ${elapsed}s"
		kill_at=$(date +%s.%N)
		kill -TERM "$pid"
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
		sleep "$DOWN"
		scripts/stack.sh up >/dev/null 2>&1
		up_at=$(date +%s.%N)
		say "production Varnish is back (pid $(cat "$STACK_DIR/production.pid")) after $(awk -v a="$kill_at" -v b="$up_at" 'BEGIN { printf "%.1f", b - a }')s"
	fi
	sleep 1
done
set +e
wait "$verify_pid"
code=$?
set -e
verify_pid=
end=$(date +%s.%N)

say "verify exited $code after $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')s; its last words: $(tail -n 1 "$WORK/stderr")"
/usr/bin/python3 - "$WORK/out.jsonl" "$WORK/rss" "$code" "$ROUTES" "$variants" "$restarted" "$MAX_GROWTH" <<'PY'
import json, sys

out, rss_file, code, routes, variants, restarted, max_growth = sys.argv[1:]
code, routes, variants, max_growth = int(code), int(routes), int(variants), float(max_growth)
failures = []
ok = True

def check(cond, msg):
    global ok
    print(("ok    " if cond else "FAIL  ") + msg)
    ok = ok and cond

by_route = {}
for line in open(out):
    r = json.loads(line)
    key = (r["index"], r["variant"])
    st = by_route.setdefault(key, {"passed": True, "unreachable": False})
    if not r["passed"]:
        st["passed"] = False
        if r["check"] == "reachable":
            st["unreachable"] = True
probes = len(by_route)
failed = sorted(i for (i, _), s in by_route.items() if not s["passed"])
unreachable = sorted(i for (i, _), s in by_route.items() if s["unreachable"])
passed = probes - len(failed)

check(code not in (0, 2) and code < 128, f"run completed: exit {code} (3 = some probes got no response)")
check(probes == routes * variants, f"one result per route and variant: {probes} of {routes * variants}")
if restarted == "yes":
    check(len(unreachable) > 0, f"the Varnish restart shows as failures: {len(unreachable)} probes unreachable")
if unreachable:
    lo, hi = unreachable[0], unreachable[-1]
    inside = [i for (i, _), s in by_route.items() if lo <= i <= hi]
    inside_passed = sum(1 for (i, _), s in by_route.items() if lo <= i <= hi and s["passed"])
    print(f"      failed window: routes {lo}..{hi} ({hi - lo + 1} routes); {inside_passed} of {len(inside)} probes in it passed (in-flight at the edges)")
    check(inside_passed <= 0.05 * len(inside) + 64, "the window while Varnish was down is failures, not passes")
check(len(failed) == len(unreachable), f"every failure is an unreachable probe: {len(failed)} failed, {len(unreachable)} unreachable")
print(f"      passed {passed}, failed {len(failed)}")

samples = [int(l.split()[1]) for l in open(rss_file) if l.strip()]
if len(samples) >= 8:
    q = len(samples) // 4
    first = sum(samples[:q]) / q
    last = sum(samples[-q:]) / q
    print(f"      RSS: {len(samples)} samples, min {min(samples)/1024:.1f} MiB, max {max(samples)/1024:.1f} MiB, "
          f"first quarter {first/1024:.1f} MiB, last quarter {last/1024:.1f} MiB ({last/first:.2f}×)")
    check(last <= first * max_growth, f"memory flat: last/first quarter {last/first:.2f} ≤ {max_growth}")
else:
    check(False, f"too few RSS samples ({len(samples)}) to judge memory")
sys.exit(0 if ok else 1)
PY
