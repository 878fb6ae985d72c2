#!/usr/bin/env bash
# Reproducible throughput and memory benchmark of `flowmeter extract`.
#
#   bench/run.sh            # generates bench/out/*.pcap once, then measures
#
# big.pcap:   60 000 flows started over 10 minutes (≈1.2 M packets, mixed
#             TCP/UDP/ICMP, IPv4/IPv6, 10 % VLAN-tagged), seed 1.
# dense.pcap: 100 000 flows started within 5 s, so that most are open at
#             once: peak RSS over the most flows open gives bytes per flow.
# Each run writes CSV to /dev/null; numbers come from the summary line and
# /usr/bin/time -v. "1 core" pins the process to CPU 0 with GOMAXPROCS=1 (and
# one worker). workersN: flows sharded over N flow tables by a symmetric hash
# of the flow key, beside a reader and a writer goroutine (output identical
# to one worker).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
go build -o bench/out/flowmeter ./cmd/flowmeter
[ -f bench/out/big.pcap ] || go run ./bench/gen -flows 60000 -span 10m -o bench/out/big.pcap
[ -f bench/out/dense.pcap ] || go run ./bench/gen -flows 100000 -span 5s -seed 2 -o bench/out/dense.pcap
[ -f bench/out/tiny.pcap ] || go run ./bench/gen -flows 10 -span 1s -seed 3 -o bench/out/tiny.pcap

measure() { # name file workers cmd-prefix...
	local name=$1 file=$2 workers=$3; shift 3
	cat "$file" >/dev/null # page cache
	"$@" /usr/bin/time -v bench/out/flowmeter extract --workers "$workers" -o /dev/null "$file" 2>bench/out/$name.log
	local pps rss el open
	pps=$(sed -n 's/.*(\([0-9]*\) packets\/s).*/\1/p' bench/out/$name.log)
	open=$(sed -n 's/.*at most \([0-9]*\) open.*/\1/p' bench/out/$name.log)
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' bench/out/$name.log)
	el=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' bench/out/$name.log)
	printf '%-22s %12s packets/s  wall %8s  peak RSS %7s KiB  max open flows %s\n' "$name" "$pps" "$el" "$rss" "$open"
	eval "${name//[^a-z0-9]/_}_rss=$rss; ${name//[^a-z0-9]/_}_open=$open"
}

echo "flowmeter extract, $(go version | cut -d' ' -f3), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for f in big dense; do echo "$f.pcap: $(du -h bench/out/$f.pcap | cut -f1)"; done
measure big_1core bench/out/big.pcap 1 taskset -c 0 env GOMAXPROCS=1
measure big_workers1 bench/out/big.pcap 1 env
measure big_workers2 bench/out/big.pcap 2 env
measure big_workers3 bench/out/big.pcap 3 env
measure dense_1core bench/out/dense.pcap 1 taskset -c 0 env GOMAXPROCS=1
measure dense_workers2 bench/out/dense.pcap 2 env
measure tiny bench/out/tiny.pcap 1 env
echo "bytes per open flow (dense − tiny RSS) / open flows: $(( (dense_1core_rss - tiny_rss) * 1024 / dense_1core_open ))"
