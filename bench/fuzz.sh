#!/usr/bin/env bash
# Runs every fuzz target for a while (default 10m each), one after another,
# one core each (-parallel 1), and says which found a crash. A crash is kept
# by go test in the package's testdata/fuzz/FuzzX/ (commit it with its fix:
# it then runs as a plain test in `go test ./...`).
#
#   bench/fuzz.sh [DURATION] [TARGET...]     # e.g. bench/fuzz.sh 30s FuzzLoad
set -uo pipefail
cd "$(dirname "$0")/.."
d=${1:-10m}
shift || true
all=(packet:FuzzDecode capture:FuzzReader capture:FuzzPcapngOptions capture:FuzzPcapLikePcapgo capture/filter:FuzzCompile
	model:FuzzLoad label:FuzzParse meter:FuzzPipeline app:FuzzFeed feature:FuzzAppendFloat sink/csv:FuzzRows)
fail=0
for t in "${all[@]}"; do
	pkg=${t%%:*} name=${t##*:}
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
	if out=$(go test -timeout 0 -run '^$' -fuzz "^$name\$" -fuzztime "$d" -parallel 1 "./$pkg" 2>&1); then
		printf '%-20s %-16s ok    %s\n' "$name" "$pkg" "$(echo "$out" | grep -o 'execs: [0-9]*' | tail -1)"
	else
		fail=1
		printf '%-20s %-16s FAIL\n%s\n' "$name" "$pkg" "$out"
	fi
done
exit $fail
