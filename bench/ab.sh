#!/usr/bin/env bash
# Two flowmeter binaries on the same capture, run in turn (A, B, A, B, …)
# so that this VM's drift hits both alike: the median wall and CPU time
# (user + system, which shows the kernel's part) of each, and the median of
# the per-pair ratios B/A. One core (taskset -c 1, GOMAXPROCS=1), CSV to
# /dev/null; the capture is read once first, so both find it cached.
# WORKERS=N runs --workers N on every core instead.
#
#   bench/ab.sh A_BINARY B_BINARY CAPTURE [PAIRS]   # PAIRS: default 9
#   WORKERS=2 bench/ab.sh A_BINARY B_BINARY CAPTURE
set -euo pipefail
a=${1:?usage: bench/ab.sh A_BINARY B_BINARY CAPTURE [PAIRS]} b=${2:?} cap=${3:?} n=${4:-9}
cat "$cap" >/dev/null
workers=${WORKERS:-1}
pin=(taskset -c 1 env GOMAXPROCS=1)
if [ "$workers" -gt 1 ]; then pin=(); fi
run() { # binary: "wall cpu" in seconds
	/usr/bin/time -f '%e %U %S' "${pin[@]}" "$1" extract -q --workers "$workers" -o /dev/null "$cap" 2>&1 >/dev/null |
		tail -n 1 | awk '{ printf "%s %.3f\n", $1, $2 + $3 }'
}
out=$(for _ in $(seq "$n"); do echo "$(run "$a") $(run "$b")"; done)
echo "$out" | awk -v n="$n" '
	function median(x, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		return (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
	{ aw[NR] = $1; ac[NR] = $2; bw[NR] = $3; bc[NR] = $4; rw[NR] = $3 / $1; rc[NR] = $4 / $2 }
	END {
		printf "A: wall %.3f s, cpu %.3f s (median of %d)\n", median(aw, NR), median(ac, NR), NR
		printf "B: wall %.3f s, cpu %.3f s\n", median(bw, NR), median(bc, NR)
		printf "B/A, median of the pairs: wall %.3f, cpu %.3f\n", median(rw, NR), median(rc, NR)
	}'
