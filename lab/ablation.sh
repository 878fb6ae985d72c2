#!/usr/bin/env bash
# The input ablation of issue #10 (docs/model.md): trains one model per
# input set on the same data, then scores a held-out lab run (its own seed
# and link) with each, and prints one row per input set: the inputs, the
# out-of-fold recall at the threshold, and on the held-out run the benign
# false-positive rate and the share of each attack family caught.
#
#   lab/ablation.sh [-b FLOWMETER] -e EVALDIR -o OUTDIR -- DATA...
#
# DATA is what `flowmeter train` reads, e.g.
#   --labels ../shared/datasets/labels.csv ../shared/datasets lab/flows/*.csv.gz
set -euo pipefail
cd "$(dirname "$0")/.."
bin= eval= out=
while getopts b:e:o: o; do
	case $o in
	b) bin=$OPTARG ;;
	e) eval=$OPTARG ;;
	o) out=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$eval" ] && [ -n "$out" ] && [ $# -gt 0 ] || { echo "usage: lab/ablation.sh [-b FLOWMETER] -e EVALDIR -o OUTDIR -- DATA..." >&2; exit 2; }
mkdir -p "$out"
if [ -z "$bin" ]; then
	bin=$out/flowmeter
	go build -o "$bin" ./cmd/flowmeter
fi
# name|train flags (beside the data)
VARIANTS=${VARIANTS:-'
all inputs (link measures too)|--link-features
default: no link measures; times in RTTs, context with bursts|
no bursts (ctx_*_flows_1s)|--exclude ctx_*_1s
no RTT times (*_rtts)|--exclude *_rtts
no context counts (only failure shares)|--exclude ctx_*_flows,ctx_*_hosts,ctx_*_ports,ctx_*_1s,ctx_*_per_s
no context at all|--exclude ctx_*
'}
echo "| inputs | n | out-of-fold recall | threshold | held-out benign FPR | flagged: scan | dos | brute force | web | tunnel |"
echo "|---|---|---|---|---|---|---|---|---|---|"
i=0
while IFS='|' read -r name flags; do
	[ -n "$name" ] || continue
	i=$((i + 1))
	# shellcheck disable=SC2086 # flags are words
	"$bin" train -q -o "$out/$i.json" $flags "$@" >"$out/$i.train.txt"
	"$bin" evaluate -q --model "$out/$i.json" --labels "$eval/labels.csv" "$eval" >"$out/$i.eval.txt"
	n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["inputs"]))' "$out/$i.json")
	awk -v name="$name" -v n="$n" -v tf="$out/$i.train.txt" '
		BEGIN { while ((getline l < tf) > 0) if (l ~ /^precision/) { split(l, a, " "); rec = a[4] }
			while ((getline l < tf) > 0) {} }
		/^threshold/ { thr = $2 }
		/^  benign +[0-9]+ +[0-9]+$/ { fp = $3; tn = $2 }
		/^  malicious +[0-9.]+% of/ {
			pct = $2; sub("%", "", pct); cnt = $4; cat = $5
			for (k = 6; k <= NF; k++) cat = cat " " $k
			fam = cat; sub(/:.*/, "", fam)
			caught[fam] += pct / 100 * cnt; total[fam] += cnt
		}
		function r(f) { return total[f] ? sprintf("%.3f", caught[f] / total[f]) : "–" }
		END { printf "| %s | %d | %s | %s | %.4f | %s | %s | %s | %s | %s |\n", name, n, rec, thr, fp / (fp + tn),
			r("scan"), r("dos"), r("brute force"), r("web"), r("tunnel") }' "$out/$i.eval.txt"
done <<<"$VARIANTS"
