#!/usr/bin/env bash
# The loopback check of issue #10: `flowmeter live -i lo` while one client
# makes N sequential curl requests to a local `python3 -m http.server`
# (a small page and a 20 KB file alternately). Prints how many of the
# HTTP flows the model flags. Needs root (CAP_NET_RAW), curl and python3.
#
#   sudo lab/lo-http.sh [-n 100] [-m MODEL] [-b FLOWMETER]
set -euo pipefail
cd "$(dirname "$0")/.."
n=100 mdl= bin=
while getopts n:m:b: o; do
	case $o in
	n) n=$OPTARG ;;
	m) mdl=$OPTARG ;;
	b) bin=$OPTARG ;;
	*) exit 2 ;;
	esac
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
if [ -z "$bin" ]; then
	go build -o "$work/flowmeter" ./cmd/flowmeter
	bin=$work/flowmeter
fi
mkdir "$work/www"
printf '<html><head><title>lab</title></head><body><p>hello</p></body></html>\n' >"$work/www/index.html"
head -c 20480 /dev/urandom >"$work/www/file.bin"
port=$((20000 + RANDOM % 20000))
(cd "$work/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break || sleep 0.1; done
args=(live -i lo --workers 1 --filter "tcp port $port" -o "$work/flows.csv")
[ -z "$mdl" ] || args+=(--model "$mdl")
"$bin" "${args[@]}" 2>"$work/live.log" &
fm=$!
pids+=($fm)
sleep 1 # the capture ring is up
for i in $(seq "$n"); do
	if ((i % 2)); then f=index.html; else f=file.bin; fi
	curl -s -o /dev/null "http://127.0.0.1:$port/$f"
done
sleep 1
kill -INT "$fm"
wait "$fm" || true
[ -z "${KEEP:-}" ] || cp "$work/flows.csv" "$KEEP"
# the flows of the requests: every TCP flow to the server's port
awk -F, -v port="$port" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	$h["dst_port"] == port && $h["end_reason"] != "early" { flows++; if ($h["verdict"] == "malicious") flagged++ }
	END { printf "%d requests: %d flows to port %d, %d flagged malicious\n", '"$n"', flows, port, flagged + 0 }' "$work/flows.csv"
