#!/usr/bin/env python3
"""A Zabbix monitoring server for the lab: passive checks, active checks, trapper.

An enterprise LAN's background is dominated by monitoring: a Zabbix server
opens a short TCP connection to every agent (port 10050) for each item it
polls, every few seconds, hour after hour, and the agents open connections
back to the server (port 10051) for their active checks. Flow by flow that is
one host making dozens of tiny connections a minute to one service of another
host, which is what a brute force looks like too; the public enterprise LAN
capture of the datasets is mostly this. The lab runs the real agent
(zabbix_agentd, Debian's zabbix-agent) and this server:

  python3 zabbix.py poll --bind ADDR --agents A,B,... --seed N --duration S \\
      [--items K] [--min-interval S] [--pollers P]
  python3 zabbix.py server --listen ADDR --duration S   # also a syslog collector (UDP 514)

`poll` asks each agent for K items, each at its own interval (from
--min-interval up to 60 s, from the seed), with P pollers at once as the
server's poller processes do: one connection per value, the Zabbix protocol
(a "ZBXD\\x01" header, an 8-byte length, the item key; the agent answers the
same way and closes). `server` answers the agents' active-check requests
with a list of items and acknowledges the values they send, and the values
zabbix_sender sends. Standard library only.
"""
import argparse
import json
import random
import socket
import struct
import threading
import time

KEYS = [
    "agent.ping", "agent.version", "agent.hostname", "system.uptime", "system.localtime",
    "system.cpu.load[all,avg1]", "system.cpu.load[all,avg5]", "system.cpu.num",
    "system.cpu.switches", "system.cpu.intr", "vm.memory.size[available]", "vm.memory.size[total]",
    "vm.memory.size[pavailable]", "system.swap.size[,free]", "vfs.fs.size[/,pfree]",
    "vfs.fs.size[/,used]", "vfs.fs.inode[/,pfree]", "net.if.in[eth0]", "net.if.out[eth0]",
    "net.if.in[eth0,packets]", "net.if.out[eth0,errors]", "proc.num[]", "proc.num[,,run]",
    "kernel.maxfiles", "kernel.maxproc", "system.users.num", "net.tcp.listen[22]",
    "net.tcp.listen[80]", "net.udp.listen[53]", "system.hostname", "system.uname",
    "vfs.file.exists[/etc/passwd]", "vfs.file.cksum[/etc/hostname]", "proc.mem[,,,,rss]",
    "system.boottime", "net.if.discovery", "vfs.fs.discovery", "zabbix.nonexistent.key",
]


def frame(data):
    return b"ZBXD\x01" + struct.pack("<II", len(data), 0) + data


def read_frame(c):
    buf = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) >= 13 and len(buf) >= 13 + struct.unpack("<I", buf[5:9])[0]:
            break
    return buf[13:] if buf.startswith(b"ZBXD") else buf


def poll_once(bind, agent, key, timeout):
    try:
        with socket.create_connection((agent, 10050), timeout=timeout, source_address=(bind, 0)) as c:
            c.sendall(frame(key.encode()))
            read_frame(c)
    except OSError:
        pass  # an agent that is down or slow: the server logs it and goes on


def poll(args):
    rng = random.Random(args.seed)
    agents = args.agents.split(",")
    end = time.monotonic() + args.duration
    # (next due time, agent, key, interval) for every item of every agent
    items = []
    for a in agents:
        for key in rng.sample(KEYS, min(args.items, len(KEYS))):
            iv = rng.choice([args.min_interval, args.min_interval, 2 * args.min_interval, 5, 10, 30, 60])
            items.append([time.monotonic() + rng.uniform(0, iv), a, key, iv])
    lock = threading.Lock()

    def poller():
        while time.monotonic() < end:
            with lock:
                it = min(items, key=lambda x: x[0])
                due = it[0]
                it[0] = due + it[3]
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, max(0.0, end - time.monotonic())))
            if time.monotonic() < end:
                poll_once(args.bind, it[1], it[2], 3)

    ts = [threading.Thread(target=poller, daemon=True) for _ in range(args.pollers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def answer(c):
    with c:
        try:
            c.settimeout(5)
            req = json.loads(read_frame(c) or b"{}")
            kind = req.get("request", "")
            if kind == "active checks":
                data = [{"key": k, "delay": random.choice([10, 30, 60]), "lastlogsize": 0, "mtime": 0}
                        for k in random.sample(KEYS[:30], 6)]
                reply = {"response": "success", "data": data}
            else:  # "agent data", "sender data"
                n = len(req.get("data", []))
                reply = {"response": "success",
                         "info": "processed: %d; failed: 0; total: %d; seconds spent: 0.000071" % (n, n)}
            c.sendall(frame(json.dumps(reply).encode()))
        except (OSError, ValueError):
            pass


def syslog(addr):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, 514))
    while True:
        u.recvfrom(65536)  # a collector stores them; the lab has no use for them


def server(args):
    threading.Thread(target=syslog, args=(args.listen,), daemon=True).start()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.listen, 10051))
    s.listen(128)
    s.settimeout(1)
    end = time.monotonic() + args.duration
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=answer, args=(c,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("poll")
    p.add_argument("--bind", required=True)
    p.add_argument("--agents", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--items", type=int, default=12)
    p.add_argument("--min-interval", type=float, default=1.0)
    p.add_argument("--pollers", type=int, default=5)
    s = sub.add_parser("server")
    s.add_argument("--listen", required=True)
    s.add_argument("--duration", type=float, required=True)
    a = ap.parse_args()
    poll(a) if a.cmd == "poll" else server(a)


if __name__ == "__main__":
    main()
