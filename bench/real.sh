#!/usr/bin/env bash
# Makes bench/out/real.pcap, the real-traffic capture of bench/run.sh, once
# per machine (never committed): every capture of the given lab runs merged
# into one pcap in timestamp order (bench/merge).
#
#   bench/real.sh LABDIR...     # directories written by lab/run.sh -o
#   sudo bench/real.sh          # no LABDIR: runs the lab (lab/run.sh) with
#                               # seeds 401.. until the merged runs hold
#                               # 3 M packets (about 18 minutes a run)
#
# Lab runs differ by seed (client addresses, timings, which objects are
# fetched), so merged runs are distinct traffic, not copies.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
	seed=401
	total=0
	while [ "$total" -lt 3000000 ]; do
		d=bench/out/lab-$seed
		[ -f "$d/labels.csv" ] || lab/run.sh -o "$d" -s "$seed" --gzip
		dirs+=("$d")
		n=$(go run ./bench/merge -o /dev/null "$d" 2>&1 | sed -n 's/.* \([0-9]*\) packets written.*/\1/p')
		total=$((total + ${n:-0}))
		echo "real.sh: ${#dirs[@]} lab runs, $total packets"
		seed=$((seed + 1))
	done
fi
go run ./bench/merge -o bench/out/real.pcap "${dirs[@]}"
