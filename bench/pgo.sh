#!/usr/bin/env bash
# Refreshes cmd/flowmeter/default.pgo, the CPU profile that `go build
# ./cmd/flowmeter` uses for profile-guided optimisation (it inlines and
# lays out the hot paths the profile shows). The profile is the in-process
# benchmarks of real traffic (extract and classify, one worker, on
# CAPTURE: bench/out/real.pcap, made by bench/real.sh) and of a SYN flood,
# merged. Refresh it after changes to the hot paths, then check the gain
# with bench/ab.sh (a build with -pgo=off against one with it).
#
#   bench/pgo.sh [CAPTURE]
set -euo pipefail
cd "$(dirname "$0")/.."
cap=${1:-bench/out/real.pcap}
[ -f "$cap" ] || { echo "bench/pgo.sh: no $cap (make it with bench/real.sh, or name a capture)" >&2; exit 1; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
FLOWMETER_BENCH_PCAP=$(realpath "$cap") go test -run XXX -bench 'Extract/workers=1$|Classify' -benchtime 2x \
	-o "$d/meter.test" -cpuprofile "$d/real.pprof" ./meter >/dev/null
go test -run XXX -bench 'Flood/workers=1$' -benchtime 3x -o "$d/meter.test" -cpuprofile "$d/flood.pprof" ./meter >/dev/null
go tool pprof -proto "$d/real.pprof" "$d/flood.pprof" >cmd/flowmeter/default.pgo
echo "cmd/flowmeter/default.pgo: $(wc -c <cmd/flowmeter/default.pgo) bytes"
