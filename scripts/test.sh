#!/usr/bin/env bash
# The test suite: formatting, a tidy go.mod, vet, staticcheck, no unreachable
# functions, the binary's dependencies (no test helper, Kubernetes type or doc
# generator linked in), actionlint on the GitHub Action and every workflow,
# the race-enabled tests (unit, golden and integration tests against a real
# Varnish in front of a real FastAPI origin and against nginx with the
# cache-purge module, Squid, Traffic Server and Varnish with xkey; metrics
# scraped by a real Prometheus, HTML reports rendered in a real headless
# Chromium, man pages up to date) and a short run of every fuzz target.
#
# On a fresh Debian machine it installs what it needs: the Debian packages of
# the local stack, the caches, Prometheus, Chromium and shellcheck (when
# root; otherwise it prints the apt-get command) and the pinned Go tools.
# Installing a cache does not start its system service. With CI=true nothing
# is skipped: a missing package fails.
#
# Environment: FUZZTIME (default 5s per target, 0 to skip fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2   # staticcheck 2026.2.2
DEADCODE_VERSION=v0.52.0     # golang.org/x/tools
ACTIONLINT_VERSION=v1.7.12
DEADCODE_KEEP=scripts/deadcode-keep.txt
FUZZTIME=${FUZZTIME:-5s}
export PATH="/usr/local/go/bin:$PATH"
GOBIN_DIR="$(go env GOPATH)/bin"
export PATH="$GOBIN_DIR:$PATH"

say() { printf '==> %s\n' "$*" >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Debian packages of the local stack (Varnish, FastAPI, uvicorn), of the
# caches the integration tests run cachectl against (internal/cachetest), the
# Prometheus that scrapes cachectl watch, the browser the HTML reports are
# rendered in, and shellcheck for the scripts of the action and the
# workflows. Recommended packages are left out: they would add services
# (Prometheus recommends its node exporter).
missing=()
command -v varnishd >/dev/null 2>&1 || [ -x /usr/sbin/varnishd ] || missing+=(varnish)
/usr/bin/python3 -c 'import fastapi' 2>/dev/null || missing+=(python3-fastapi)
/usr/bin/python3 -c 'import uvicorn' 2>/dev/null || missing+=(python3-uvicorn)
dpkg -s varnish-modules >/dev/null 2>&1 || missing+=(varnish-modules)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
dpkg -s libnginx-mod-http-cache-purge >/dev/null 2>&1 || missing+=(libnginx-mod-http-cache-purge)
[ -x /usr/sbin/squid ] || missing+=(squid)
[ -x /usr/bin/traffic_server ] || missing+=(trafficserver)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The tests start the caches themselves, on loopback ports of their own:
    # keep apt from starting nginx, Squid or Traffic Server as services.
    printf '#!/bin/sh\nexit 101\n' >"$tmp/policy-rc.d"
    chmod +x "$tmp/policy-rc.d"
    export POLICYRCD="$tmp/policy-rc.d"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "missing packages: ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2; exit 1
  else
    say "missing ${missing[*]}: integration and browser tests will be skipped; install with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
fi

if ! staticcheck -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
  say "installing staticcheck $STATICCHECK_VERSION"
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
if ! go version -m "$(command -v deadcode 2>/dev/null || echo /nonexistent)" 2>/dev/null \
  | grep -q "golang.org/x/tools[[:space:]]*${DEADCODE_VERSION}[[:space:]]"; then
  say "installing deadcode $DEADCODE_VERSION"
  go install "golang.org/x/tools/cmd/deadcode@$DEADCODE_VERSION"
fi
if ! go version -m "$(command -v actionlint 2>/dev/null || echo /nonexistent)" 2>/dev/null \
  | grep -q "github.com/rhysd/actionlint[[:space:]]*${ACTIONLINT_VERSION}[[:space:]]"; then
  say "installing actionlint $ACTIONLINT_VERSION"
  go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi

say "go mod tidy"
# go.mod lists exactly what the code imports, each requirement marked direct
# or indirect as it is; -diff changes nothing and exits 1 with the diff.
if ! tidy=$(go mod tidy -diff 2>&1); then
  echo "go mod tidy would change go.mod/go.sum (run go mod tidy):" >&2
  echo "$tidy" >&2; exit 1
fi

say "go vet"
go vet ./...

say "staticcheck"
staticcheck ./...

say "deadcode"
# Every function is reachable from main or a test, unless it is listed in
# $DEADCODE_KEEP with the reason it is kept. Entries are import paths inside
# the module followed by the function (pkg/foo.Func, pkg/foo.Type.Method), so
# moving code within a file never invalidates them; an entry that is no longer
# reported is stale and fails the run too, so the list only ever shrinks.
module=$(go list -m)
deadcode -test -f '{{range .Funcs}}{{$.Path}}.{{.Name}}{{"\n"}}{{end}}' ./... \
  | sed "s|^$module/||" | LC_ALL=C sort -u >"$tmp/deadcode-reported"
sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$DEADCODE_KEEP" | LC_ALL=C sort -u >"$tmp/deadcode-kept"
unexpected=$(LC_ALL=C comm -23 "$tmp/deadcode-reported" "$tmp/deadcode-kept")
stale=$(LC_ALL=C comm -13 "$tmp/deadcode-reported" "$tmp/deadcode-kept")
if [ -n "$unexpected" ]; then
  echo "unreachable functions (delete them, use them, or list them with a reason in $DEADCODE_KEEP):" >&2
  printf '  %s\n' $unexpected >&2
fi
if [ -n "$stale" ]; then
  echo "$DEADCODE_KEEP lists functions that are no longer unreachable; remove them:" >&2
  printf '  %s\n' $stale >&2
fi
[ -z "$unexpected$stale" ] || exit 1

say "binary dependencies"
# Test helpers (internal/), the Kubernetes types the manifest tests decode
# with, the man page generator and Prometheus' test utilities stay out of
# the binary.
linked=$(go list -deps ./cmd/cachectl | grep -E "^($module/internal/|k8s\.io/|sigs\.k8s\.io/|github\.com/cpuguy83/go-md2man|github\.com/spf13/cobra/doc|github\.com/prometheus/client_golang/prometheus/testutil)" || true)
if [ -n "$linked" ]; then
  echo "cmd/cachectl links packages meant for tests and tools only:" >&2
  printf '  %s\n' $linked >&2; exit 1
fi

say "actionlint"
# Every workflow file, then the same workflows once more in a scratch
# repository where uses: cachectl/cachectl@REF reads uses: ./ (this
# repository's action.yml): actionlint checks a local action's metadata and
# each with: against its inputs. shellcheck (installed above) checks the
# workflows' run: scripts; the action's own scripts are checked by a test.
workflows=(configs/github-actions-*.yml)
if [ -d .github/workflows ]; then workflows+=(.github/workflows/*.y*ml); fi
actionlint "${workflows[@]}"
lint="$tmp/actionlint"
mkdir -p "$lint/.github/workflows"
cp action.yml "$lint/"
for w in "${workflows[@]}"; do
  sed -E 's#uses: cachectl/cachectl@[^[:space:]]+#uses: ./#' "$w" >"$lint/.github/workflows/$(basename "$w")"
done
(cd "$lint" && git init -q . && actionlint)

say "go test -race"
go test -race -count=1 -timeout 15m ./...

# --- govulncheck: known vulnerabilities in the code paths we call ------------
# Needs its database (vuln.go.dev, or GOVULNDB). Where that is unreachable
# (offline machines, sandboxes) the check is skipped with a note; it never
# fails the run for want of a network.
GOVULNCHECK_VERSION=v1.9.0
GOVULNDB=${GOVULNDB:-https://vuln.go.dev}
if curl -fsS -o /dev/null --max-time 20 "$GOVULNDB/index/db.json.gz" 2>/dev/null \
  || { [ "${GOVULNDB#file://}" != "$GOVULNDB" ] && [ -f "${GOVULNDB#file://}/index/db.json" ]; }; then
  if ! govulncheck -version 2>/dev/null | grep -q "govulncheck@${GOVULNCHECK_VERSION}"; then
    say "installing govulncheck $GOVULNCHECK_VERSION"
    go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
  fi
  say "govulncheck ($GOVULNDB)"
  govulncheck -db "$GOVULNDB" ./...
else
  say "govulncheck SKIPPED: vulnerability database $GOVULNDB unreachable within 20s (set GOVULNDB to a mirror or file:// copy to run it)"
fi
# --- end govulncheck ----------------------------------------------------------

if [ "$FUZZTIME" != "0" ]; then
  say "fuzz targets, $FUZZTIME each"
  # Every FuzzXxx in the tree; a crasher fails the run and is kept under testdata/fuzz.
  grep -rl --include='*_test.go' '^func Fuzz' pkg internal 2>/dev/null | while read -r file; do
    pkg="./$(dirname "$file")"
    for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
      say "  $pkg $fn"
      # A crasher is written to testdata/fuzz and fails the run at once. On a
      # loaded machine the fuzzing engine itself can time out a worker at the
      # end of its time ("context deadline exceeded", no failing input); such
      # a run is shown and tried again, twice at most.
      log=$(mktemp)
      for attempt in 1 2 3; do
        if go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg" >"$log" 2>&1; then
          break
        fi
        cat "$log" >&2
        if grep -q 'Failing input written' "$log" || ! grep -q 'context deadline exceeded' "$log" || [ "$attempt" = 3 ]; then
          rm -f "$log"; exit 1
        fi
        say "  $fn: the fuzzing engine timed out a worker; trying again"
      done
      rm -f "$log"
    done
  done
fi
say "all tests passed"
