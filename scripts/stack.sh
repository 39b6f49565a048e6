#!/usr/bin/env bash
# Local stack for cachectl: the Devnotes origin (FastAPI) behind two real
# Varnish instances, "production" and "staging", all on loopback.
#
#   scripts/stack.sh up       start whatever is not running yet, wait until it answers
#   scripts/stack.sh down     stop the processes this stack started (pid files)
#   scripts/stack.sh status   show each component, its pid and URL
#
# Environment (defaults in brackets):
#   STACK_ORIGIN_PORT [18080]  STACK_PRODUCTION_PORT [16081]  STACK_STAGING_PORT [16082]
#   STACK_DIR [${XDG_RUNTIME_DIR:-/tmp}/cachectl-stack]  state: pid files, logs, varnish work dirs
#   STACK_TIMEOUT [30]         seconds to wait for each component to answer
#   STACK_INSTALL [auto]       auto: install missing Debian packages when root; never: only report them
#   STACK_ACCESS_LOG [1]       0 turns off the origin's access log (benchmarks)
#   STACK_PYTHON [/usr/bin/python3]  interpreter with fastapi and uvicorn
#
# Exit status: 0 ok; 1 a component failed to start or stop; 2 usage;
# 3 required packages are missing (the install command is printed).
set -euo pipefail

readonly HOST=127.0.0.1
ORIGIN_PORT=${STACK_ORIGIN_PORT:-18080}
PRODUCTION_PORT=${STACK_PRODUCTION_PORT:-16081}
STAGING_PORT=${STACK_STAGING_PORT:-16082}
STATE_DIR=${STACK_DIR:-${XDG_RUNTIME_DIR:-/tmp}/cachectl-stack}
# As root, varnishd works as the varnish user, who cannot enter root's private
# runtime dir; the default then moves to /tmp.
if [[ -z ${STACK_DIR:-} && $EUID -eq 0 && -n ${XDG_RUNTIME_DIR:-} && $(stat -c %a "$XDG_RUNTIME_DIR" 2>/dev/null) == 700 ]]; then
	STATE_DIR=/tmp/cachectl-stack
fi
TIMEOUT=${STACK_TIMEOUT:-30}
INSTALL=${STACK_INSTALL:-auto}
ACCESS_LOG=${STACK_ACCESS_LOG:-1}
# Debian's interpreter, which has the python3-fastapi and python3-uvicorn packages.
PYTHON=${STACK_PYTHON:-/usr/bin/python3}
VARNISHD=$(command -v varnishd || echo /usr/sbin/varnishd)

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SITE_DIR=$SCRIPT_DIR/stack/site
readonly VCL_DIR=$SCRIPT_DIR/stack
readonly COMPONENTS=(origin production staging)

log() { printf 'stack: %s\n' "$*" >&2; }
die() {
	local code=$1
	shift
	log "$*"
	exit "$code"
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

port_of() {
	case $1 in
	origin) echo "$ORIGIN_PORT" ;;
	production) echo "$PRODUCTION_PORT" ;;
	staging) echo "$STAGING_PORT" ;;
	esac
}

url_of() { echo "http://$HOST:$(port_of "$1")"; }

check_port() {
	[[ $2 =~ ^[0-9]+$ ]] && (($2 > 0 && $2 < 65536)) || die 2 "$1: invalid port '$2'"
}

# missing_packages prints the Debian packages whose programs are not installed.
missing_packages() {
	[[ -x $VARNISHD ]] || echo varnish
	if ! [[ -x $PYTHON ]]; then
		echo python3 python3-fastapi python3-uvicorn
	else
		"$PYTHON" -c 'import fastapi' >/dev/null 2>&1 || echo python3-fastapi
		"$PYTHON" -c 'import uvicorn' >/dev/null 2>&1 || echo python3-uvicorn
	fi
	command -v curl >/dev/null 2>&1 || echo curl
}

require_packages() {
	local missing
	missing=$(missing_packages | tr '\n' ' ' | sed 's/ *$//')
	[[ -z $missing ]] && return 0
	if [[ $INSTALL != never && $EUID -eq 0 && -f /etc/debian_version ]]; then
		log "installing missing packages: $missing"
		# shellcheck disable=SC2086 # word splitting of the package list is intended
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; then
			DEBIAN_FRONTEND=noninteractive apt-get update
			# shellcheck disable=SC2086
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
		fi
		missing=$(missing_packages | tr '\n' ' ' | sed 's/ *$//')
		[[ -z $missing ]] && return 0
	fi
	local sudo=
	[[ $EUID -ne 0 ]] && sudo='sudo '
	log "missing packages: $missing"
	log "install them with: ${sudo}apt-get install -y $missing"
	exit 3
}

pidfile() { echo "$STATE_DIR/$1.pid"; }
logfile() { echo "$STATE_DIR/$1.log"; }

# alive succeeds while the process exists and has not exited; a zombie
# (exited, not yet reaped by its new parent) counts as gone.
alive() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(<"/proc/$1/stat") 2>/dev/null || return 0
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# pid_of prints the pid of a running component this stack started; it fails
# when the pid file is missing, stale, or names an unrelated process (pid reuse).
pid_of() {
	local f pid cmd want
	f=$(pidfile "$1")
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	alive "$pid" || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	case $1 in
	origin) want=uvicorn ;;
	*) want="varnishd" ;;
	esac
	[[ $cmd == *"$want"* ]] || return 1
	echo "$pid"
}

# port_in_use succeeds when something accepts connections on the port.
port_in_use() {
	(exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

tail_log() {
	local f
	f=$(logfile "$1")
	if [[ -s $f ]]; then
		log "last lines of $f:"
		tail -n "${2:-25}" "$f" | sed 's/^/    /' >&2
	fi
}

# wait_ready polls the component's /health through its own port until it
# answers 200, its process dies, or the timeout passes.
wait_ready() {
	local name=$1 pid=$2 url deadline
	url="$(url_of "$name")/health"
	deadline=$((SECONDS + TIMEOUT))
	while ((SECONDS < deadline)); do
		if ! alive "$pid"; then
			tail_log "$name"
			die 1 "$name exited during startup (see $(logfile "$name"))"
		fi
		if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	tail_log "$name"
	die 1 "$name did not answer $url within ${TIMEOUT}s (see $(logfile "$name"))"
}

# ensure_not_moved refuses to treat a component running on another port as started.
ensure_same_port() {
	local name=$1 recorded
	recorded=$(cat "$STATE_DIR/$name.port" 2>/dev/null || true)
	if [[ -n $recorded && $recorded != "$(port_of "$name")" ]]; then
		die 1 "$name is already running on port $recorded, not $(port_of "$name"); run '$0 down' first"
	fi
}

start_origin() {
	local pid port
	port=$(port_of origin)
	if pid=$(pid_of origin); then
		ensure_same_port origin
		log "origin already running (pid $pid) at $(url_of origin)"
		return 0
	fi
	port_in_use "$port" && die 1 "origin: port $port on $HOST is already in use by another process"
	local args=(-m uvicorn app:app --app-dir "$SITE_DIR" --host "$HOST" --port "$port")
	[[ $ACCESS_LOG == 0 ]] && args+=(--no-access-log)
	"$PYTHON" "${args[@]}" >>"$(logfile origin)" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$(pidfile origin)"
	echo "$port" >"$STATE_DIR/origin.port"
	wait_ready origin "$pid"
	log "origin started (pid $pid) at $(url_of origin)"
}

start_varnish() {
	local name=$1 pid port workdir vcl
	port=$(port_of "$name")
	if pid=$(pid_of "$name"); then
		ensure_same_port "$name"
		log "$name already running (pid $pid) at $(url_of "$name")"
		return 0
	fi
	port_in_use "$port" && die 1 "$name: port $port on $HOST is already in use by another process"
	workdir=$STATE_DIR/$name
	vcl=$STATE_DIR/$name.vcl
	# The checked-in VCL names the default origin port; point it at this stack's origin.
	sed "s/^\([[:space:]]*\.port = \)\"[0-9]*\";/\1\"$ORIGIN_PORT\";/" "$VCL_DIR/$name.vcl" >"$vcl"
	chmod 0644 "$vcl"
	rm -f "$(pidfile "$name")"
	# -F keeps the manager in the foreground so its pid is ours to stop; the
	# admin port is picked by the kernel (varnishadm -n finds it). Small
	# thread pools and log space let several stacks run side by side.
	"$VARNISHD" -F -n "$workdir" -i "$name" \
		-a "$HOST:$port" -T "$HOST:0" \
		-f "$vcl" -s malloc,64m \
		-p thread_pools=1 -p thread_pool_min=10 -p thread_pool_max=1000 \
		-p vsl_space=16M \
		>>"$(logfile "$name")" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$(pidfile "$name")"
	echo "$port" >"$STATE_DIR/$name.port"
	wait_ready "$name" "$pid"
	log "$name started (pid $pid) at $(url_of "$name")"
}

stop() {
	local name=$1 pid i
	if ! pid=$(pid_of "$name"); then
		rm -f "$(pidfile "$name")" "$STATE_DIR/$name.port"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		log "$name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	alive "$pid" && die 1 "$name (pid $pid) is still running"
	rm -f "$(pidfile "$name")" "$STATE_DIR/$name.port"
	log "$name stopped (pid $pid)"
}

write_env() {
	cat >"$STATE_DIR/env" <<EOF
STACK_ORIGIN_URL=$(url_of origin)
STACK_PRODUCTION_URL=$(url_of production)
STACK_STAGING_URL=$(url_of staging)
STACK_DIR=$STATE_DIR
EOF
}

# check_traversable fails when a directory above the state dir shuts out
# other users: varnishd, started as root, reads its VCL and work directory as
# the varnish and vcache users.
check_traversable() {
	local d=$STATE_DIR
	while [[ $d != / && -n $d ]]; do
		if [[ -d $d && $(($(stat -c '0%a' "$d") & 01)) -eq 0 ]]; then
			die 1 "varnishd's unprivileged users cannot enter $d (mode $(stat -c %a "$d")); set STACK_DIR to a directory under /tmp"
		fi
		d=$(dirname "$d")
	done
}

cmd_up() {
	require_packages
	mkdir -p "$STATE_DIR"
	if [[ $EUID -eq 0 ]]; then
		chmod 0755 "$STATE_DIR"
		check_traversable
	fi
	start_origin
	start_varnish production
	start_varnish staging
	write_env
	cmd_status
}

cmd_down() {
	local rc=0 i
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
		(stop "${COMPONENTS[i]}") || rc=1
	done
	rm -f "$STATE_DIR/env"
	return "$rc"
}

cmd_status() {
	local name pid rc=0
	for name in "${COMPONENTS[@]}"; do
		if pid=$(pid_of "$name"); then
			# Show the port it was started on, which may differ from this shell's settings.
			printf '%-11s running  pid %-8s http://%s:%s\n' "$name" "$pid" "$HOST" \
				"$(cat "$STATE_DIR/$name.port" 2>/dev/null || port_of "$name")"
		else
			printf '%-11s stopped  %-12s %s\n' "$name" "" "$(url_of "$name")"
			rc=1
		fi
	done
	printf '%-11s %s\n' state "$STATE_DIR"
	return "$rc"
}

main() {
	[[ $# -eq 1 ]] || usage
	check_port STACK_ORIGIN_PORT "$ORIGIN_PORT"
	check_port STACK_PRODUCTION_PORT "$PRODUCTION_PORT"
	check_port STACK_STAGING_PORT "$STAGING_PORT"
	case $1 in
	up) cmd_up ;;
	down) cmd_down ;;
	status) cmd_status ;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
