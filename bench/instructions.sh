#!/usr/bin/env bash
# Instruction counts (valgrind callgrind: repeatable, unlike wall time on a
# shared VM) of flowmeter binaries on the same capture, for comparing two
# builds within a fraction of a percent.
#
#   bench/instructions.sh OLD_BINARY [NEW_BINARY]   # NEW: built from this tree
#   CAPTURE=FILE bench/instructions.sh OLD_BINARY     # another capture
#
# The capture is bench/out/mid.pcap (5 000 flows, 104 551 packets, made by
# bench/gen once) unless CAPTURE names another (a flood:
# go run ./bench/gen -flood -flows 100000 -span 2s -o bench/out/flood100000.pcap).
# One core (GOMAXPROCS=1), asynchronous preemption off
# (callgrind trips on Go's preemption signals otherwise), and the garbage
# collector off (GOGC=off; GOGC=100 bench/instructions.sh to keep it): its
# timing moved single counts by up to 10 %.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/instructions.sh OLD_BINARY [NEW_BINARY]}
new=${2:-}
mkdir -p bench/out
if [ -z "$new" ]; then
	go build -o bench/out/flowmeter ./cmd/flowmeter
	new=bench/out/flowmeter
fi
cap=${CAPTURE:-bench/out/mid.pcap}
[ -n "${CAPTURE:-}" ] || [ -f "$cap" ] || go run ./bench/gen -flows 5000 -span 1m -seed 5 -o "$cap"
count() { # binary args...: the least of 3 runs
	local bin=$1; shift
	for _ in 1 2 3; do
		GOGC=${GOGC:-off} GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 |
			sed -n 's/.*Collected : //p'
	done | sort -n | head -1
}
printf '%-44s %12s %12s %8s\n' run old new change
for run in "extract --workers 1 -o /dev/null" "extract --workers 2 -o /dev/null" \
	"extract --workers 1 -o bench/out/mid.parquet" "classify --workers 1 -o /dev/null"; do
	# shellcheck disable=SC2086
	a=$(count "$old" $run -q "$cap")
	# shellcheck disable=SC2086
	b=$(count "$new" $run -q "$cap")
	printf '%-44s %12s %12s %+7.2f%%\n' "$run" "$a" "$b" "$(echo "100*($b-$a)/$a" | bc -l)"
done
