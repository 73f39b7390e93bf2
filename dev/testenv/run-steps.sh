#!/usr/bin/env bash
# run-steps.sh TITLE TARGET...
#
# Runs `make TARGET` for each TARGET in order, all of them even when one
# fails, then prints one line per step and a final summary line:
#
#   TITLE: PASS (5 passed, 3 skipped) in 6m10s
#   TITLE: FAIL (test-go, fuzz failed; 4 passed, 2 skipped) in 7m02s
#
# A step is "skipped" when it exits 0 and printed a line starting with
# "make TARGET: SKIPPED". Exits 0 only when no step failed; on SIGINT or
# SIGTERM it stops at once and exits 130 or 143.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 TITLE TARGET..." >&2
	exit 2
fi
title=$1
shift
make=${MAKE:-make}

logs=$(mktemp -d "${TMPDIR:-/tmp}/opitios-steps.XXXXXX")
trap 'rm -rf "$logs"' EXIT
current=""
interrupted() {
	printf '\n%s: INTERRUPTED during %s\n' "$title" "${current:-setup}" >&2
	exit "$1"
}
trap 'interrupted 130' INT
trap 'interrupted 143' TERM

duration() {
	local s=$1
	if ((s >= 60)); then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	else
		printf '%ds' "$s"
	fi
}

start=$SECONDS
lines=()
failed=()
passed=0
skipped=0
for target in "$@"; do
	current=$target
	printf '\n==> %s: make %s\n' "$title" "$target"
	t0=$SECONDS
	status=0
	"$make" --no-print-directory "$target" 2>&1 | tee "$logs/$target.log" || status=$?
	took=$(duration $((SECONDS - t0)))
	if ((status != 0)); then
		failed+=("$target")
		lines+=("$(printf '  %-8s %-14s %8s' FAIL "$target" "$took")")
	elif reason=$(grep -m1 "^make $target: SKIPPED" "$logs/$target.log"); then
		skipped=$((skipped + 1))
		lines+=("$(printf '  %-8s %-14s %8s  %s' skipped "$target" "$took" "${reason#*SKIPPED: }")")
	else
		passed=$((passed + 1))
		lines+=("$(printf '  %-8s %-14s %8s' ok "$target" "$took")")
	fi
done
current=""

total=$(duration $((SECONDS - start)))
printf '\n==> %s summary\n' "$title"
printf '%s\n' "${lines[@]}"
if ((${#failed[@]} > 0)); then
	names=$(
		IFS=,
		echo "${failed[*]}"
	)
	printf '%s: FAIL (%s failed; %d passed, %d skipped) in %s\n' \
		"$title" "${names//,/, }" "$passed" "$skipped" "$total"
	exit 1
fi
printf '%s: PASS (%d passed, %d skipped) in %s\n' "$title" "$passed" "$skipped" "$total"
