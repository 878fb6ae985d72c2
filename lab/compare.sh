#!/usr/bin/env bash
# Two models on the same labelled flows, category by category: the share
# flagged by each at its own threshold, as a markdown table, with the
# categories where the second model catches fewer attacks (or flags more
# benign flows) marked. How issue #10's "no loss on attacks the model
# catches today" is measured (docs/model.md).
#
#   lab/compare.sh OLD.json NEW.json EVALUATE-ARGS...
#
# OLD and NEW are model files ("" or "default": the model embedded in
# flowmeter); EVALUATE-ARGS are what `flowmeter evaluate` takes after its
# flags: labelled flow tables, or --labels RULES CAPTURES...
# FLOWMETER=path picks the binary (default: go run ./cmd/flowmeter).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
old=$1 new=$2
shift 2
fm=${FLOWMETER:-}
if [ -z "$fm" ]; then
	fm=$(mktemp -d)/flowmeter
	(cd "$(dirname "$0")/.." && go build -o "$fm" ./cmd/flowmeter)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ev() { # ev MODEL OUT ARGS...: the evaluation, per category
	local m=() out=$2
	[ -z "$1" ] || [ "$1" = default ] || m=(--model "$1")
	shift 2
	"$fm" evaluate -q "${m[@]}" "$@" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
}
ev "$old" "$tmp/old" "${@}"
ev "$new" "$tmp/new" "${@}"
for f in old new; do
	grep -m1 '^threshold' "$tmp/$f" | sed "s/^/$f: /"
	grep -m1 'flows (' "$tmp/$f" | sed "s/^/$f: /"
done
echo
echo "| category | flows | flagged, old | flagged, new | flows flagged, new − old | |"
echo "|---|---|---|---|---|---|"
# "  malicious   96.0% of   1415  brute force: FTP"
parse() { sed -n 's/^  \(benign\|malicious\) *\([0-9.]*\)% of *\([0-9]*\)  \(.*\)$/\4|\1|\2|\3/p' "$1" | sort; }
join -t'|' -a1 -a2 -e- -o 0,1.2,1.3,1.4,2.2,2.3,2.4 <(parse "$tmp/old") <(parse "$tmp/new") |
	awk -F'|' '{
		cls = ($2 != "-") ? $2 : $5; n = ($4 != "-") ? $4 : $7
		mark = ""; d = "–"
		if ($3 != "-" && $6 != "-") {
			d = sprintf("%+d", int(n * $6 / 100 + 0.5) - int(n * $3 / 100 + 0.5))
			if (cls == "malicious" && $6 + 0 < $3 + 0) mark = "lower"
			if (cls == "benign" && $6 + 0 > $3 + 0) mark = "more flagged"
		}
		printf "| %s: %s | %s | %s %% | %s %% | %s | %s |\n", cls, $1, n, $3, $6, d, mark
	}'
