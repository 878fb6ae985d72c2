#!/usr/bin/env python3
"""The lab's command-and-control server: HTTPS on the c2 host.

GET  /task     a small JSON "task" (polled by the beacon scenario)
POST /upload   reads and discards the body (the exfiltration scenario)
anything else  404

Standard library only: python3 c2.py --port 443 --cert C --key K
"""
import argparse
import json
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/task"):
            self.reply(200, json.dumps({"task": "sleep", "next": 3}).encode())
        else:
            self.reply(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        while n > 0:
            chunk = self.rfile.read(min(n, 65536))
            if not chunk:
                break
            n -= len(chunk)
        self.reply(200 if self.path.startswith("/upload") else 404, b'{"ok":true}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv = ThreadingHTTPServer(("", a.port), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
