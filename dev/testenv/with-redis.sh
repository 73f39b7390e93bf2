#!/usr/bin/env bash
# with-redis.sh CMD [ARG...]
#
# Starts, on free loopback ports, a standalone redis-server and a 3-master
# Redis Cluster, exports
#
#   OPITIOS_TEST_REDIS_ADDR=127.0.0.1:<port>
#   OPITIOS_TEST_REDIS_CLUSTER_ADDRS=127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>
#
# runs CMD with them, then stops every server it started and removes their
# data directories: after success, after failure, and after SIGINT, SIGTERM or
# SIGHUP (which it first forwards to CMD's process group). It exits with CMD's
# status, or 128+N when it was itself stopped by signal N.
#
# It never touches a server it did not start. Ports are picked at random in
# [20000, 55000] among those free on 127.0.0.1, cluster ports only when
# port+10000 (the cluster bus) is free too; a server that still loses its port
# to a race is restarted on another one. CMD's stdin is /dev/null.
# shellcheck disable=SC2317 # cleanup and on_signal run from traps
set -euo pipefail
set -m # every job gets its own process group, so signals reach CMD only when forwarded

log() { printf 'with-redis: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi
for tool in redis-server redis-cli; do
	command -v "$tool" >/dev/null ||
		die "$tool is not installed: run \`make deps\` (installs Debian's redis-server and redis-tools)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/opitios-redis.XXXXXX")
pids=()      # redis-server processes started here
cmd_pid=""   # CMD, leader of its own process group
declare -A taken=() # ports (client and bus) claimed by this run

# stop_group_then_wait waits for the job whose pid is $1 to end, killing its
# process group if it has not ended within $2 seconds.
stop_group_then_wait() {
	local pid=$1 grace=$2 watchdog
	(
		sleep "$grace"
		kill -KILL -- "-$pid" 2>/dev/null
	) &
	watchdog=$!
	wait "$pid" 2>/dev/null
	kill -KILL -- "-$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	# Whatever CMD left behind in its group goes too.
	kill -KILL -- "-$pid" 2>/dev/null
}

cleanup() {
	local status=$?
	set +e
	trap - EXIT INT TERM HUP
	if [ -n "$cmd_pid" ]; then
		stop_group_then_wait "$cmd_pid" 10
	fi
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		stop_group_then_wait "$pid" 10
	done
	rm -rf "$tmp"
	exit "$status"
}

on_signal() {
	local sig=$1 code=$2
	log "got SIG$sig: stopping ${cmd_pid:+the command and }the Redis servers"
	if [ -n "$cmd_pid" ]; then
		kill "-$sig" -- "-$cmd_pid" 2>/dev/null || true
	fi
	exit "$code"
}

trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

# port_free reports whether every given TCP port is free on 127.0.0.1.
if command -v python3 >/dev/null 2>&1; then
	port_free() {
		python3 - "$@" <<-'EOF'
			import socket, sys
			for port in map(int, sys.argv[1:]):
			    s = socket.socket()
			    try:
			        s.bind(("127.0.0.1", port))
			    except OSError:
			        sys.exit(1)
			    finally:
			        s.close()
		EOF
	}
else
	# Without python3: a port nothing accepts connections on is taken as free.
	port_free() {
		local p
		for p in "$@"; do
			if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
				return 1
			fi
		done
	}
fi

# pick_port sets $picked to a free port not yet claimed by this run; with
# "bus" as $1 the port's cluster bus (port+10000) must be free and unclaimed
# too. (No command substitution: $RANDOM would repeat in every subshell.)
picked=""
pick_port() {
	local want_bus=${1:-} p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 35001))
		[ -z "${taken[$p]:-}" ] || continue
		if [ "$want_bus" = bus ]; then
			[ -z "${taken[$((p + 10000))]:-}" ] || continue
			port_free "$p" "$((p + 10000))" || continue
		else
			port_free "$p" || continue
		fi
		picked=$p
		return 0
	done
	return 1
}

# running reports whether process $1 exists and is not a zombie.
running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

debug_opt=()
if [ "$(redis-server --version | sed -n 's/.* v=\([0-9]*\)\..*/\1/p')" -ge 7 ] 2>/dev/null; then
	debug_opt=(--enable-debug-command local)
fi

# start_server NAME [bus] [REDIS-ARG...] starts a redis-server in $tmp/NAME,
# waits until it answers and sets $port to its port.
port=""
start_server() {
	local name=$1 want_bus="" dir="$tmp/$1" attempt pid deadline
	shift
	if [ "${1:-}" = bus ]; then
		want_bus=bus
		shift
	fi
	mkdir -p "$dir"
	for ((attempt = 1; attempt <= 10; attempt++)); do
		pick_port "$want_bus" || die "no free port for $name"
		port=$picked
		taken[$port]=1
		[ -z "$want_bus" ] || taken[$((port + 10000))]=1
		: >"$dir/redis.log"
		redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --logfile "$dir/redis.log" \
			--daemonize no --save "" --appendonly no "${debug_opt[@]}" "$@" </dev/null &
		pid=$!
		deadline=$((SECONDS + 10))
		while :; do
			# The answer must come from this process, not from a server that
			# took the port first.
			if [ "$(redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
				sed -n 's/^process_id:\([0-9]*\).*/\1/p')" = "$pid" ]; then
				pids+=("$pid")
				return 0
			fi
			if ! running "$pid"; then
				wait "$pid" 2>/dev/null || true
				if grep -q 'Address already in use' "$dir/redis.log"; then
					log "$name: port $port was taken meanwhile, trying another"
					continue 2
				fi
				tail -n 20 "$dir/redis.log" >&2
				die "redis-server ($name) exited on start"
			fi
			if ((SECONDS >= deadline)); then
				pids+=("$pid")
				tail -n 20 "$dir/redis.log" >&2
				die "redis-server ($name) on 127.0.0.1:$port did not answer within 10s"
			fi
			sleep 0.05
		done
	done
	die "redis-server ($name) could not get a free port in 10 attempts"
}

start_server standalone
standalone="127.0.0.1:$port"

cluster_ports=()
for n in 1 2 3; do
	start_server "cluster$n" bus --cluster-enabled yes --cluster-config-file nodes.conf \
		--cluster-node-timeout 5000
	cluster_ports+=("$port")
done
cluster_addrs=()
for p in "${cluster_ports[@]}"; do
	cluster_addrs+=("127.0.0.1:$p")
done

if ! redis-cli --cluster create "${cluster_addrs[@]}" --cluster-yes >"$tmp/cluster-create.log" 2>&1; then
	cat "$tmp/cluster-create.log" >&2
	die "redis-cli --cluster create failed"
fi

deadline=$((SECONDS + 30))
for p in "${cluster_ports[@]}"; do
	until info=$(redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null) &&
		grep -q '^cluster_state:ok' <<<"$info" &&
		grep -q '^cluster_known_nodes:3' <<<"$info" &&
		grep -q '^cluster_slots_ok:16384' <<<"$info"; do
		if ((SECONDS >= deadline)); then
			printf '%s\n' "$info" >&2
			die "cluster node 127.0.0.1:$p did not reach cluster_state:ok within 30s"
		fi
		sleep 0.1
	done
done

export OPITIOS_TEST_REDIS_ADDR="$standalone"
export OPITIOS_TEST_REDIS_CLUSTER_ADDRS
OPITIOS_TEST_REDIS_CLUSTER_ADDRS=$(
	IFS=,
	echo "${cluster_addrs[*]}"
)
log "standalone $OPITIOS_TEST_REDIS_ADDR, cluster $OPITIOS_TEST_REDIS_CLUSTER_ADDRS"

"$@" </dev/null &
cmd_pid=$!
status=0
wait "$cmd_pid" || status=$?
exit "$status"
