#!/usr/bin/env bash
# The held-out lab check of issue #10: a lab run that no model was trained
# on (its own seed and link), scored by a model (the embedded default
# unless -m): the benign false-positive rate per scenario (busy hosts
# included) and the recall per attack scenario, at the model's threshold.
#
#   sudo lab/run.sh -o /tmp/labeval -s 301 --gzip --link delay=150ms,jitter=20ms,loss=0.02,rate=5mbit
#   lab/check.sh [-m MODEL] [-b FLOWMETER] /tmp/labeval
set -euo pipefail
cd "$(dirname "$0")/.."
mdl= bin=
while getopts m:b: o; do
	case $o in
	m) mdl=$OPTARG ;;
	b) bin=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || { echo "usage: lab/check.sh [-m MODEL] [-b FLOWMETER] LABDIR" >&2; exit 2; }
dir=$1
if [ -z "$bin" ]; then
	bin=$(mktemp -d)/flowmeter
	go build -o "$bin" ./cmd/flowmeter
fi
args=(evaluate -q --by-group --labels "$dir/labels.csv")
[ -z "$mdl" ] || args+=(--model "$mdl")
grep -m1 -o 'flowmeter lab ([^)]*)' "$dir/labels.csv" || true
"$bin" "${args[@]}" "$dir"
