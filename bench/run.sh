#!/usr/bin/env bash
# Reproducible throughput and memory benchmark of `flowmeter extract`.
#
#   bench/run.sh            # generates bench/out/*.pcap once, then measures
#   REPS=5 bench/run.sh real   # only the real-traffic comparison (below)
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
#
# real.pcap (bench/real.sh makes it from lab runs; not committed): real
# traffic between network namespaces. In one run, on the same file: cat to
# /dev/null, flowmeter on one core (with and without the application
# metadata, --app) and with --workers 2 (all columns to CSV), Parquet and
# classification on one core, and the Debian flow meters softflowd (-r,
# NetFlow v9 to a local nfcapd) and argus (-r -w), when installed. Each is
# printed as packets/s and as a ratio to cat. Every ratio between two runs
# comes from REPS pairs run in turn (pair), the median of the pairs' ratios:
# this VM's speed drifts by a third within minutes, which made ratios of
# medians measured minutes apart swing (Parquet/CSV 1.00–1.56× in one
# sitting). Ratios within one run, not absolute times, are what compare
# across machines.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
go build -o bench/out/flowmeter ./cmd/flowmeter
REPS=${REPS:-5}

# median FILE CMD...: the median wall time (s) of REPS runs of CMD.
median() {
	local f=$1; shift
	cat "$f" >/dev/null # page cache
	for _ in $(seq "$REPS"); do
		/usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1
	done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# pair A B: runs the shell commands A and B in turn (A, B, A, B, …) REPS
# times each, so that this VM's drift hits both alike, and prints the
# median wall time of A, of B, and the median of the per-pair ratios B/A.
pair() {
	for _ in $(seq "$REPS"); do
		echo "$(/usr/bin/time -f %e sh -c "$1" 2>&1 >/dev/null | tail -1) $(/usr/bin/time -f %e sh -c "$2" 2>&1 >/dev/null | tail -1)"
	done | awk '
		function median(x, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
			return (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
		{ a[NR] = $1; b[NR] = $2; r[NR] = $2 / $1 }
		END { printf "%.3f %.3f %.3f\n", median(a, NR), median(b, NR), median(r, NR) }'
}

# cpustat: the machine's CPU time so far, "total steal" in clock ticks
# (/proc/stat). steal SINCE: the share of CPU time the hypervisor took from
# this VM since the snapshot SINCE, in percent: time that no program here
# got, which caps what two busy cores can do.
cpustat() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9 }' /proc/stat; }
steal() {
	local a b
	a=($1) b=($(cpustat))
	echo "${a[0]} ${a[1]} ${b[0]} ${b[1]}" | awk '{ d = $3 - $1; printf "%.1f", (d > 0 ? 100 * ($4 - $2) / d : 0) }'
}

real() {
	local f=bench/out/real.pcap
	if [ ! -f $f ]; then
		echo "real.pcap: none; make it with bench/real.sh (from lab runs)"
		return
	fi
	local sum pk fl
	sum=$(bench/out/flowmeter extract --workers 1 -o /dev/null $f 2>&1)
	pk=$(echo "$sum" | sed -n 's/.*file, \([0-9]*\) packets.*/\1/p')
	fl=$(echo "$sum" | sed -n 's/.*flows written \([0-9]*\).*/\1/p')
	echo "real.pcap: $(du -hL $f | cut -f1), $pk packets, $fl flows; each comparison $REPS interleaved pairs (median wall time, median of the pairs' ratios)"
	cat $f >/dev/null # page cache
	local cat_s
	cat_s=$(median $f cat $f)
	row() { # name seconds
		printf '%-40s %6.2f s %12.0f packets/s  %5.2f × cat\n' "$1" "$2" "$(echo "$pk / $2" | bc -l)" "$(echo "$cat_s / $2" | bc -l)"
	}
	row "cat > /dev/null" "$cat_s"
	local one="taskset -c 0 env GOMAXPROCS=1 bench/out/flowmeter extract -q --workers 1"
	local p
	p=($(pair "$one -o /dev/null $f" "$one --app=false -o /dev/null $f"))
	row "flowmeter extract, 1 core" "${p[0]}"
	row "flowmeter extract --app=false, 1 core" "${p[1]}"
	echo "  application metadata (--app) costs: $(echo "(1 / ${p[2]} - 1) * 100" | bc -l | xargs printf "%.1f") % of the time"
	p=($(pair "$one -o /dev/null $f" "bench/out/flowmeter extract -q --workers 2 -o /dev/null $f"))
	row "flowmeter extract --workers 2" "${p[1]}"
	echo "  --workers 2 / 1 core: $(echo "1 / ${p[2]}" | bc -l | xargs printf "%.2f")× (1 core in these pairs: ${p[0]} s)"
	local st
	st=$(cpustat)
	bench/out/flowmeter extract -q --workers 2 -o /dev/null $f
	echo "  during one more --workers 2 run, the hypervisor took $(steal "$st") % of the machine's CPU time (steal)"
	# The machine's own ceiling for two cores: two independent one-core
	# runs at once, one per core, against one alone, in turn. No program
	# whose work splits perfectly in two can beat their ratio here.
	local both="taskset -c 0 env GOMAXPROCS=1 bench/out/flowmeter extract -q --workers 1 -o /dev/null $f & taskset -c 1 env GOMAXPROCS=1 bench/out/flowmeter extract -q --workers 1 -o /dev/null $f; wait"
	p=($(pair "$one -o /dev/null $f" "$both"))
	echo "  two one-core runs at once (one per core) take $(printf "%.2f" "${p[2]}")× one alone: this machine's ceiling for two cores is $(echo "2 / ${p[2]}" | bc -l | xargs printf "%.2f")×"
	p=($(pair "$one -o bench/out/real.csv $f" "$one -o bench/out/real.parquet $f"))
	row "flowmeter extract → CSV file, 1 core" "${p[0]}"
	row "flowmeter extract → Parquet file, 1 core" "${p[1]}"
	echo "  Parquet / CSV file time: $(printf "%.2f" "${p[2]}")× ($(du -h bench/out/real.parquet | cut -f1) vs $(du -h bench/out/real.csv | cut -f1))"
	rm -f bench/out/real.parquet bench/out/real.csv
	p=($(pair "$one -o /dev/null $f" "taskset -c 0 env GOMAXPROCS=1 bench/out/flowmeter classify -q --workers 1 -o /dev/null $f"))
	row "flowmeter classify, 1 core" "${p[1]}"
	echo "  classify / extract time: $(printf "%.2f" "${p[2]}")× (extract in these pairs: ${p[0]} s)"
	if command -v softflowd >/dev/null && command -v nfcapd >/dev/null; then
		local d nf
		d=$(mktemp -d)
		nfcapd -p 29996 -l "$d" >/dev/null 2>&1 &
		nf=$!
		p=($(pair "$one -o /dev/null $f" "taskset -c 0 softflowd -r $f -n 127.0.0.1:29996 -v 9"))
		kill $nf 2>/dev/null || true
		rm -rf "$d"
		row "softflowd -r (NetFlow v9 → nfcapd)" "${p[1]}"
		echo "  flowmeter 1 core / softflowd: $(printf "%.2f" "${p[2]}")× softflowd's packets/s (flowmeter in these pairs: ${p[0]} s)"
	else
		echo "softflowd: not installed (apt-get install softflowd nfdump)"
	fi
	if command -v argus >/dev/null; then
		p=($(pair "$one -o /dev/null $f" "taskset -c 0 argus -r $f -w /dev/null"))
		row "argus -r -w" "${p[1]}"
		echo "  flowmeter 1 core / argus: $(printf "%.2f" "${p[2]}")× argus's packets/s (flowmeter in these pairs: ${p[0]} s)"
	else
		echo "argus: not installed (apt-get install argus-server)"
	fi
}

if [ "${1:-}" = real ]; then
	real
	exit 0
fi
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
real
