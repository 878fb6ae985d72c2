#!/usr/bin/env python3
"""Peer-to-peer traffic for the lab: a file-sharing client looking for peers.

A P2P client (Gnutella, BitTorrent) contacts many peers it learned of, most
of which are gone: connections refused, SYNs never answered, a few peers that
answer the handshake and trade some data, and DHT queries over UDP. At the
level of flows that looks like a scan of one port across many hosts, yet it
is ordinary benign traffic (one public Gnutella capture of the datasets is
exactly this), so the lab has it too.

  python3 p2p.py peers --addrs A,B,...            # on the server: live peers
  python3 p2p.py client --bind ADDR --peers A,B,... --seed N --count N \\
      [--parallel K] [--timeout S] [--udp-share P]

Live peers listen on TCP 6346 (Gnutella: "GNUTELLA CONNECT/0.6", answered
200 OK with a few pongs or 503 Busy), TCP 6881 (the BitTorrent handshake,
answered with a handshake, a bitfield and some piece data) and UDP 6881 (a
bencoded DHT ping, answered). The lab makes other peer addresses exist with
nothing listening (refused) and others unreachable (blackholed replies).
Standard library only.
"""
import argparse
import random
import socket
import threading
import time

GNUTELLA_PORT = 6346
BT_PORT = 6881
PORTS = [GNUTELLA_PORT] * 5 + [BT_PORT] * 4 + list(range(6882, 6890))


def serve_tcp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=answer, args=(c, port), daemon=True).start()


def answer(c, port):
    rng = random.Random()
    try:
        c.settimeout(5)
        hello = c.recv(4096)
        if port == GNUTELLA_PORT:
            if not hello.startswith(b"GNUTELLA CONNECT"):
                return
            if rng.random() < 0.6:
                c.sendall(b"GNUTELLA/0.6 503 Busy\r\nX-Try-Ultrapeers: 10.77.0.97:6346\r\n\r\n")
                return
            c.sendall(b"GNUTELLA/0.6 200 OK\r\nUser-Agent: LabShare/1.0\r\nX-Ultrapeer: True\r\n\r\n")
            c.recv(4096)  # the client's 200 OK
            for _ in range(rng.randint(1, 6)):  # pongs: a 23-byte header, a 14-byte body
                c.sendall(rng.randbytes(16) + b"\x01\x07\x00\x0e\x00\x00\x00" + rng.randbytes(14))
                time.sleep(rng.uniform(0.05, 0.5))
        else:
            if len(hello) < 68 or hello[0] != 19:
                return
            c.sendall(hello[:48] + rng.randbytes(20))  # the same info-hash, our peer id
            c.sendall(b"\x00\x00\x00\x05\x05" + rng.randbytes(4))  # bitfield
            for _ in range(rng.randint(0, 8)):  # piece messages
                n = rng.choice([1024, 4096, 16384])
                c.sendall((n + 9).to_bytes(4, "big") + b"\x07" + rng.randbytes(8 + n))
                time.sleep(rng.uniform(0.01, 0.2))
    except OSError:
        pass
    finally:
        c.close()


def serve_udp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, BT_PORT))
    while True:
        data, peer = s.recvfrom(2048)
        if data.startswith(b"d1:a"):
            s.sendto(b"d1:rd2:id20:" + random.randbytes(20) + b"e1:t2:aa1:y1:re", peer)


def peers(args):
    for a in args.addrs.split(","):
        for port in (GNUTELLA_PORT, BT_PORT):
            threading.Thread(target=serve_tcp, args=(a, port), daemon=True).start()
        threading.Thread(target=serve_udp, args=(a,), daemon=True).start()
    while True:
        time.sleep(3600)


def attempt(bind, peer, port, udp, timeout, rng):
    try:
        if udp:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((bind, 0))
            s.settimeout(timeout)
            s.sendto(b"d1:ad2:id20:" + rng.randbytes(20) + b"e1:q4:ping1:t2:aa1:y1:qe", (peer, BT_PORT))
            try:
                s.recvfrom(2048)
            except OSError:
                pass
            s.close()
            return
        s = socket.create_connection((peer, port), timeout=timeout, source_address=(bind, 0))
        s.settimeout(5)
        if port == GNUTELLA_PORT:
            s.sendall(b"GNUTELLA CONNECT/0.6\r\nUser-Agent: LabShare/1.0\r\nX-Ultrapeer: False\r\n\r\n")
            r = s.recv(4096)
            if b" 200 " in r:
                s.sendall(b"GNUTELLA/0.6 200 OK\r\n\r\n")
                while s.recv(4096):
                    pass
        else:
            s.sendall(b"\x13BitTorrent protocol" + bytes(8) + rng.randbytes(40))
            while s.recv(65536):
                pass
        s.close()
    except OSError:
        pass


def client(args):
    rng = random.Random(args.seed)
    addrs = args.peers.split(",")
    jobs = []
    for _ in range(args.count):
        udp = rng.random() < args.udp_share
        jobs.append((rng.choice(addrs), rng.choice(PORTS), udp, random.Random(rng.random())))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not jobs:
                    return
                peer, port, udp, r = jobs.pop()
            attempt(args.bind, peer, port, udp, args.timeout, r)
            time.sleep(r.uniform(0, 0.3))

    ts = [threading.Thread(target=work) for _ in range(args.parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("peers")
    a.add_argument("--addrs", required=True)
    b = sub.add_parser("client")
    b.add_argument("--bind", required=True)
    b.add_argument("--peers", required=True)
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--count", type=int, default=300)
    b.add_argument("--parallel", type=int, default=6)
    b.add_argument("--timeout", type=float, default=3)
    b.add_argument("--udp-share", type=float, default=0.3)
    args = p.parse_args()
    peers(args) if args.cmd == "peers" else client(args)


if __name__ == "__main__":
    main()
