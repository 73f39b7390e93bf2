#!/usr/bin/env bash
# fuzz-all.sh: runs every fuzz target in the module for $FUZZTIME (default 5s).
#
# Packages are found by grepping *_test.go files for `func Fuzz`; the targets
# themselves are what `go test -list '^Fuzz'` reports for each such package,
# so files excluded by build constraints do not count. Each target runs as
#
#   go test -run '^$' -fuzz '^FuzzName$' -fuzztime $FUZZTIME ./pkg
#
# All targets run even when one fails (its failing input is then written
# under the package's testdata/fuzz/, as `go test` always does); the script
# exits 1 if any failed. No fuzz targets is success.
set -euo pipefail
cd "$(dirname "$0")/../.."

go=${GO:-go}
fuzztime=${FUZZTIME:-5s}

mapfile -t dirs < <(
	grep -rlE --include='*_test.go' --exclude-dir='.?*' --exclude-dir=node_modules \
		--exclude-dir=testdata --exclude-dir=cdk.out --exclude-dir=build \
		'^func Fuzz([^a-z]|$)' . | xargs -r -n1 dirname | sort -u
)

targets=()
failed=()
for dir in "${dirs[@]}"; do
	if ! out=$("$go" test -list '^Fuzz' "$dir" 2>&1); then
		printf '%s\n' "$out" >&2
		failed+=("(listing $dir)")
		continue
	fi
	while read -r name; do
		targets+=("$dir $name")
	done < <(grep -E '^Fuzz([^a-z]|$)' <<<"$out" || true)
done

if ((${#targets[@]} == 0 && ${#failed[@]} == 0)); then
	echo "fuzz: no fuzz targets in the module: nothing to do"
	exit 0
fi

# fuzz_one runs one target. A run whose only failure is the fuzzing
# engine's own "context deadline exceeded" (its workers did not stop within
# the deadline on a loaded machine; no failing input was found or written)
# is run once more; any other failure stands.
fuzz_one() {
	local dir=$1 name=$2 out
	for attempt in 1 2; do
		if out=$("$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$dir" 2>&1); then
			printf '%s\n' "$out"
			return 0
		fi
		printf '%s\n' "$out"
		if ((attempt == 2)) || grep -q 'Failing input written' <<<"$out" ||
			! grep -qx '    context deadline exceeded' <<<"$out"; then
			return 1
		fi
		echo "fuzz: $name: the engine's deadline, not an input, failed the run: once more"
	done
}

echo "fuzz: ${#targets[@]} target(s), $fuzztime each"
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	echo "--- fuzz $name ($dir)"
	if ! fuzz_one "$dir" "$name"; then
		failed+=("$name ($dir)")
	fi
done

if ((${#failed[@]} > 0)); then
	echo "fuzz: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: all ${#targets[@]} target(s) passed"
