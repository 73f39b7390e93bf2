#!/usr/bin/env bash
# shifted-clock.sh WHEN CMD [ARG...]
#
# Runs CMD (typically `go test ...`) so that every Go program it builds reads
# a wall clock that starts at WHEN and then runs at the normal rate: time.Now,
# time.Since, time.Until, context deadlines, TLS certificate checks, the
# AWS SDK's signing clock, all of them. The system clock is not touched and
# nothing needs root.
#
#   dev/testenv/shifted-clock.sh 2026-12-24T19:30:00Z go test -count=1 ./shared/market
#   dev/testenv/shifted-clock.sh 2027-03-14 dev/testenv/with-redis.sh go test ./...
#
# WHEN is anything GNU `date -d` reads; a bare YYYY-MM-DD means 12:00 UTC that
# day. `make test-dates` runs the Go tests at a fixed list of instants.
#
# How it works. Go reads the clock through the vDSO, so LD_PRELOAD tricks such
# as libfaketime do not reach it. Instead this script copies the standard
# library's src/time/time.go into a temporary directory, makes `func Now()`
# add a number of seconds to the wall reading it gets from the runtime (the
# monotonic reading is left alone, so durations, timers and sleeps are real),
# adds a file that reads that number from $OPITIOS_TEST_CLOCK_SHIFT once at
# start-up, and points an overlay file (go help build, -overlay) at both. It
# then exports
#
#   GOFLAGS="-overlay=<tmp>/overlay.json -count=1 $GOFLAGS"
#   OPITIOS_TEST_CLOCK_SHIFT=<WHEN minus now, in seconds>
#
# so every go command under CMD, including a `go build` or `go run` a test
# starts, compiles the shifted time package (the build cache keys it by
# content: the first run rebuilds the standard library once, later runs reuse
# it). -count=1 keeps `go test` from answering with a result cached at
# another WHEN: the test binaries are the same whatever the shift. Child
# processes that inherit the environment keep the same shift; programs not
# built by Go under CMD (redis-server, a prebuilt binary) see the real clock,
# and so does a child given a fresh environment unless it is handed
# OPITIOS_TEST_CLOCK_SHIFT (dev/local's end-to-end tests hand it on).
#
# Before running CMD the script builds and runs a probe program with the
# overlay and fails unless its time.Now() is within a minute of WHEN, so a
# Go release whose time.go no longer matches the rewrite stops here instead
# of silently testing today. It exits with CMD's status.
set -euo pipefail

# One brace group, which bash reads whole before running it: editing this
# file cannot change a run in progress.
{
if [ $# -lt 2 ]; then
	echo "usage: $0 WHEN CMD [ARG...]   (WHEN: 2027-03-14T07:30:00Z, 2026-12-24, ...)" >&2
	exit 2
fi
when=$1
shift

log() { printf 'shifted-clock: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

go=${GO:-go}
if [[ $when =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
	when="${when}T12:00:00Z"
fi
target=$(date -u -d "$when" +%s) || die "cannot read WHEN=$when (GNU date -d syntax)"

goroot=$("$go" env GOROOT)
src=$goroot/src/time/time.go
[ -f "$src" ] || die "no $src"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/opitios-shifted-clock.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case $tmp in *[[:space:],]*) die "temporary directory $tmp contains a space or comma (GOFLAGS cannot hold it)" ;; esac

# Now() starts with `sec, nsec, mono := runtimeNow()`; the shift goes right
# after it. Exactly one such line must be found inside Now.
if ! awk '
	/^func Now\(\) Time \{$/ { in_now = 1 }
	in_now && /^\tsec, nsec, mono := runtimeNow\(\)$/ { print; print "\tsec += testClockShift"; n++; in_now = 0; next }
	/^}$/ { in_now = 0 }
	{ print }
	END { exit n == 1 ? 0 : 1 }' "$src" >"$tmp/time.go"; then
	die "cannot find the wall-clock read in func Now of $src (Go $("$go" env GOVERSION)): update this script"
fi

cat >"$tmp/testclockshift.go" <<'EOF'
package time

import "syscall"

// testClockShift is added to every wall-clock reading of Now: seconds from
// $OPITIOS_TEST_CLOCK_SHIFT, an optionally signed decimal integer.
var testClockShift = func() int64 {
	s, _ := syscall.Getenv("OPITIOS_TEST_CLOCK_SHIFT")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || i > 15 {
			panic("time: OPITIOS_TEST_CLOCK_SHIFT must be a whole number of seconds")
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}()
EOF

cat >"$tmp/overlay.json" <<EOF
{"Replace": {
	"$src": "$tmp/time.go",
	"$goroot/src/time/zz_opitios_testclockshift.go": "$tmp/testclockshift.go"
}}
EOF

export GOFLAGS="-overlay=$tmp/overlay.json -count=1${GOFLAGS:+ $GOFLAGS}"

# The probe: a program that prints time.Now() in epoch seconds. The shift is
# computed after the (possibly slow) first build, right before CMD starts.
mkdir "$tmp/probe"
cat >"$tmp/probe/main.go" <<'EOF'
package main

import (
	"fmt"
	"time"
)

func main() { fmt.Println(time.Now().Unix()) }
EOF
printf 'module probe\n\ngo 1.21\n' >"$tmp/probe/go.mod"
(cd "$tmp/probe" && GOWORK=off GOFLAGS="-overlay=$tmp/overlay.json" "$go" build -o "$tmp/probe/probe" .) ||
	die "cannot build the probe with the overlay"

export OPITIOS_TEST_CLOCK_SHIFT=$((target - $(date -u +%s)))
got=$("$tmp/probe/probe")
if ((got < target || got > target + 60)); then
	die "the probe read $(date -u -d "@$got" +%FT%TZ), not $(date -u -d "@$target" +%FT%TZ): the overlay does not shift time.Now"
fi
log "Go programs now read $(date -u -d "@$got" +%FT%TZ) (shift ${OPITIOS_TEST_CLOCK_SHIFT}s); running: $*"

# Not exec: the EXIT trap removes the overlay once CMD is done.
status=0
"$@" || status=$?
exit "$status"
}
