#!/usr/bin/env python3
"""The lab's small web application: a target for web attacks.

GET  /            home page with a login form and a search box
POST /login       checks user and password against the SQLite users table
GET  /search?q=   searches the products table. The query is built by string
                  concatenation ON PURPOSE (SQL injection for sqlmap): this
                  program only ever runs inside the lab's network namespace,
                  which has no route out.
GET  /status      a small JSON document (polled by the monitoring scenario)

Standard library only: python3 webapp.py --port 8080 --db /tmp/app.db
"""
import argparse
import html
import json
import sqlite3
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!doctype html><html><head><title>Lab shop</title></head><body>
<h1>Lab shop</h1>
<form method="post" action="/login"><input name="user"><input name="password" type="password">
<button>Log in</button></form>
<form action="/search"><input name="q"><button>Search</button></form>
{body}
</body></html>"""


def setup(db):
    c = sqlite3.connect(db)
    c.executescript("""
        DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS products;
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, password TEXT);
        CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL);
    """)
    c.executemany("INSERT INTO users (name, password) VALUES (?, ?)",
                  [("alice", "correct horse"), ("bob", "hunter2"), ("admin", "s3cr3t-admin")])
    c.executemany("INSERT INTO products (name, price) VALUES (?, ?)",
                  [("apple", 0.5), ("banana", 0.25), ("cherry", 3.0), ("damson", 2.5), ("elderberry", 4.0)])
    c.commit()
    c.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    db = ""

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/":
            return self.reply(200, PAGE.format(body=""))
        if u.path == "/status":
            return self.reply(200, json.dumps({"ok": True, "users": 3}), "application/json")
        if u.path == "/search":
            q = urllib.parse.parse_qs(u.query).get("q", [""])[0]
            c = sqlite3.connect(self.db)
            try:
                rows = c.execute("SELECT name, price FROM products WHERE name LIKE '%" + q + "%'").fetchall()
                body = "<ul>" + "".join("<li>%s %s</li>" % (html.escape(str(n)), html.escape(str(p))) for n, p in rows) + "</ul>"
                return self.reply(200, PAGE.format(body=body))
            except sqlite3.Error as e:
                return self.reply(500, PAGE.format(body="<p>database error: %s</p>" % html.escape(str(e))))
            finally:
                c.close()
        return self.reply(404, PAGE.format(body="<p>not found</p>"))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        if self.path != "/login":
            return self.reply(404, PAGE.format(body="<p>not found</p>"))
        user, pw = form.get("user", [""])[0], form.get("password", [""])[0]
        c = sqlite3.connect(self.db)
        ok = c.execute("SELECT 1 FROM users WHERE name = ? AND password = ?", (user, pw)).fetchone()
        c.close()
        if ok:
            return self.reply(200, PAGE.format(body="<p>Welcome, %s</p>" % html.escape(user)))
        return self.reply(200, PAGE.format(body="<p>Login failed</p>"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--db", required=True)
    a = ap.parse_args()
    setup(a.db)
    Handler.db = a.db
    ThreadingHTTPServer(("0.0.0.0", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
