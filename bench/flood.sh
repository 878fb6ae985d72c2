#!/usr/bin/env bash
# A SYN flood of single-packet flows from spoofed sources: throughput and
# peak memory of `flowmeter extract` with a bounded flow table, one core.
#
#   bench/flood.sh [FLOWS...]     # default: 1000000 2000000 10000000
#
# Each capture (bench/out/floodN.pcap, made once by bench/gen -flood: N SYNs
# over N/50 000 s, so with the 2-minute idle timeout every flow stays open
# until the table is full) is metered with --max-flows 1000000, all columns
# to CSV on /dev/null, pinned to CPU 0 with GOMAXPROCS=1. With softflowd and
# nfcapd installed (Debian), softflowd -r reads the same file in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
go build -o bench/out/flowmeter ./cmd/flowmeter
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 2000000 10000000)
echo "flowmeter extract --max-flows 1000000, $(go version | cut -d' ' -f3), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for n in "${sizes[@]}"; do
	f=bench/out/flood$n.pcap
	[ -f "$f" ] || go run ./bench/gen -flood -flows "$n" -span "$((n / 50000))s" -o "$f"
	cat "$f" >/dev/null
	taskset -c 0 env GOMAXPROCS=1 /usr/bin/time -v bench/out/flowmeter extract --workers 1 --max-flows 1000000 -o /dev/null "$f" 2>bench/out/flood$n.log
	pps=$(sed -n 's/.*(\([0-9]*\) packets\/s).*/\1/p' bench/out/flood$n.log)
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' bench/out/flood$n.log)
	open=$(sed -n 's/.*at most \([0-9]*\) open.*/\1/p' bench/out/flood$n.log)
	ev=$(sed -n 's/^ *\([0-9]*\) flows ended early.*/\1/p' bench/out/flood$n.log)
	printf '%9d SYNs: %8s packets/s  peak RSS %8s KiB  most open %8s  evicted %9s\n' "$n" "$pps" "$rss" "$open" "${ev:-0}"
	if command -v softflowd >/dev/null && command -v nfcapd >/dev/null; then
		d=$(mktemp -d)
		nfcapd -p 29995 -l "$d" >/dev/null 2>&1 &
		nf=$!
		s=$(date +%s.%N)
		taskset -c 0 softflowd -r "$f" -n 127.0.0.1:29995 -v 9 >/dev/null 2>&1 || true
		e=$(date +%s.%N)
		kill "$nf" 2>/dev/null || true
		rm -rf "$d"
		printf '%9d SYNs: softflowd %s packets/s\n' "$n" "$(echo "$n / ($e - $s)" | bc)"
	fi
done
