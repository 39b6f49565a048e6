#!/usr/bin/env bash
# cachectl in five minutes, against a real Varnish on this machine.
#
# Builds cachectl, starts the local stack (scripts/stack.sh: the Devnotes
# origin behind a production and a staging Varnish), signs in to get a
# session, then inspects routes so you can watch:
#   - an article go MISS -> HIT through the production cache;
#   - the dashboard flagged: a personalized page cached with Set-Cookie
#     (set-cookie-cacheable) and served from cache to a logged-in visitor
#     (logged-in-cached);
#   - the home page, health check and account page behaving as intended;
#   - the publishing story: an article retitled at the origin, `cachectl
#     stale` finding exactly the pages that show the old title, and
#     `purge --stale --verify` clearing only those.
#   - a slow page measured cold and warm, its missing index fixed, only that
#     page purged, the page measured again and the two measurements compared:
#     the cold numbers improve, the warm ones do not move.
# The stack is stopped on exit unless it was already running.
#
# Environment: BIN_DIR (default .bin) for the binary; the STACK_* variables of
# scripts/stack.sh. Narration goes to stderr, cachectl's report to stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN_DIR=${BIN_DIR:-$ROOT/.bin}
BIN=$BIN_DIR/cachectl
STACK=$ROOT/scripts/stack.sh
ARTICLE=/articles/go-context-cancellation

say() { printf '\n==> %s\n' "$*" >&2; }

# run prints the command (without secrets: the session travels in the
# environment) and runs it; a non-zero exit is reported, not fatal, because
# some steps are meant to find problems.
run() {
	printf '$ cachectl %s\n' "$*" >&2
	local rc=0
	"$BIN" "$@" || rc=$?
	if ((rc != 0)); then
		printf '    (exit status %d)\n' "$rc" >&2
	fi
	return 0
}

# publishing_scene warms the site, edits one article at the origin and
# purges exactly what the edit made stale.
publishing_scene() {
	local sitemap=$PRODUCTION_URL/sitemap.xml other=/articles/http-caching-headers
	say "publishing: readers warm the production cache (every page of the sitemap)"
	curl -fsS "$sitemap" | grep -o '<loc>[^<]*</loc>' | sed -e 's#<loc>##' -e 's#</loc>##' |
		while read -r page; do curl -fsS -o /dev/null "$page"; done
	run stale --config "$CONFIG" --env production --sitemap "$sitemap"

	say "publishing: the editor retitles $ARTICLE at the origin (its title is also on /, its tag pages and the feed)"
	curl -fsS -o /dev/null -X POST --data-urlencode "title=Cancelling work with context.Context in Go, revised" "$ORIGIN_URL/admin$ARTICLE"

	say "which cached copies are now out of date? exactly the pages with the old title (/now's render time is ignored)"
	run stale --config "$CONFIG" --env production --sitemap "$sitemap"

	say "the related rule alone would name these (a preview; tag pages have no rule)"
	run purge --config "$CONFIG" --env production --related --dry-run "$ARTICLE"

	say "purge only the stale pages: first the plan, then for real, proven with a follow-up request"
	run purge --config "$CONFIG" --env production --stale --sitemap "$sitemap" --dry-run
	run purge --config "$CONFIG" --env production --stale --sitemap "$sitemap" --verify --reason "retitled $ARTICLE"

	say "the edge now serves the new title, and an untouched article is still a HIT"
	curl -fsS "$PRODUCTION_URL$ARTICLE" | grep -o '<title>[^<]*</title>' >&2 || true
	run inspect --config "$CONFIG" --env production --as anonymous "$other"
	run stale --config "$CONFIG" --env production --sitemap "$sitemap"
}

say "building cachectl into $BIN"
mkdir -p "$BIN_DIR"
go build -o "$BIN" ./cmd/cachectl

if "$STACK" status >/dev/null 2>&1; then
	say "reusing the local stack that is already running"
else
	say "starting the local stack: origin + production and staging Varnish"
	trap '"$STACK" down >&2 || true' EXIT
	"$STACK" up >&2
fi

STATE_DIR=$("$STACK" status | awk '$1 == "state" { print $2 }')
ORIGIN_URL=http://127.0.0.1:${STACK_ORIGIN_PORT:-18080}
PRODUCTION_URL=http://127.0.0.1:${STACK_PRODUCTION_PORT:-16081}
STAGING_URL=http://127.0.0.1:${STACK_STAGING_PORT:-16082}

# configs/demo.yaml names the default ports (in base URLs, endpoints and host
# allow-lists); point a copy at other ones.
CONFIG=configs/demo.yaml
if [[ ${STACK_ORIGIN_PORT:-18080}/${STACK_PRODUCTION_PORT:-16081}/${STACK_STAGING_PORT:-16082} != 18080/16081/16082 ]]; then
	CONFIG=$STATE_DIR/demo.yaml
	sed -E -e "s#(127\.0\.0\.1|localhost):16081#\1:${STACK_PRODUCTION_PORT:-16081}#g" \
		-e "s#(127\.0\.0\.1|localhost):16082#\1:${STACK_STAGING_PORT:-16082}#g" \
		-e "s#(127\.0\.0\.1|localhost):18080#\1:${STACK_ORIGIN_PORT:-18080}#g" configs/demo.yaml >"$CONFIG"
fi

say "checking $CONFIG"
run config validate --config "$CONFIG"

say "starting from a cold cache: PURGE the demo routes on both caches"
for base in "$PRODUCTION_URL" "$STAGING_URL"; do
	for path in / "$ARTICLE" /dashboard; do
		curl -fsS -o /dev/null -X PURGE "$base$path"
	done
done

say "signing in at $ORIGIN_URL/login; the session goes into CACHECTL_DEMO_SESSION (never printed)"
CACHECTL_DEMO_SESSION=$(curl -fsS -o /dev/null -c - "$ORIGIN_URL/login?user=ada" | awk '$6 == "sessionid" { print $7 }')
if [[ -z $CACHECTL_DEMO_SESSION ]]; then
	echo "demo: $ORIGIN_URL/login set no sessionid cookie" >&2
	exit 1
fi
export CACHECTL_DEMO_SESSION

say "an article, twice as each visitor: anonymous goes MISS -> HIT, logged-in passes the cache"
run inspect --config "$CONFIG" --env production --as both --repeat 2 "$ARTICLE"

say "the dashboard as an anonymous visitor: the first request fills the cache, Set-Cookie and all"
run inspect --config "$CONFIG" --env production --as anonymous /dashboard

say "the dashboard as a logged-in visitor: served from the cache (--fail-on warn makes this exit 1, as in CI)"
run inspect --config "$CONFIG" --env production --as logged-in --fail-on warn /dashboard

say "the other routes: home, health check, account"
run inspect --config "$CONFIG" --env production / /health /account

say "staging caps lifetimes at 60 s: compare the article's Cache-Control there"
run inspect --config "$CONFIG" --env staging --as anonymous "$ARTICLE"

# verify and diff run when this build has them.
if "$BIN" verify --help >/dev/null 2>&1; then
	say "every route's expectations against production: /dashboard fails, on purpose"
	run verify --config "$CONFIG" --env production
fi
if "$BIN" diff --help >/dev/null 2>&1; then
	say "production against staging: the 60-second cap shows up as drift"
	run diff --config "$CONFIG" --env production --env staging
fi

# The publishing story: an editor retitles an article; only the pages that
# show the old title are purged, and nothing else loses its cached copy.
if "$BIN" stale --help >/dev/null 2>&1; then
	publishing_scene
fi

if "$BIN" measure --help >/dev/null 2>&1; then
	say "a slow page: a migration dropped the index /popular reads its comments through (POST /admin/slow?on=1)"
	curl -fsS -o /dev/null -X POST "$ORIGIN_URL/admin/slow?on=1"
	curl -fsS -o /dev/null -X PURGE "$PRODUCTION_URL/popular"
	say "measure it: cold samples are real misses, warm samples real hits; Server-Timing shows the database time"
	run measure --config "$CONFIG" --env production --samples 12 /popular
	run measure --config "$CONFIG" --env production --samples 12 -o json /popular >"$STATE_DIR/before.json"

	say "change one thing: create the index again (POST /admin/slow?on=0), then purge only that route"
	curl -fsS -o /dev/null -X POST "$ORIGIN_URL/admin/slow?on=0"
	run purge --config "$CONFIG" --env production --journal "$STATE_DIR/journal.jsonl" --reason "add the missing index" /popular

	say "measure again and compare: the cold path improved, the warm path (served by the cache) is unchanged"
	run measure --config "$CONFIG" --env production --samples 12 -o json /popular >"$STATE_DIR/after.json"
	run compare "$STATE_DIR/before.json" "$STATE_DIR/after.json"
fi

say "done; the stack's logs are in $STATE_DIR"
