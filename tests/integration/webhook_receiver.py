#!/usr/bin/python3
"""A test receiver of tenantrelay's event webhooks: HTTPS (a certificate of
the tests' CA), checks X-Tenantrelay-Signature (HMAC-SHA256 of the body
under the shared secret) on every POST, and appends one JSON line per
received event to --out: {"event_id", "sig_ok", "post"}.  Bad signatures are
answered 401 (and recorded).  --delay slows every answer (a slow
receiver); --status answers every POST with that code instead of 200.
"""
import argparse
import hashlib
import hmac
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--status", type=int, default=200)
    a = p.parse_args()
    secret = open(a.secret_file, "rb").read().rstrip(b"\n")
    lock = threading.Lock()
    posts = [0]

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"      # keep-alive, as real receivers do

        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            got = self.headers.get("X-Tenantrelay-Signature", "")
            ok = hmac.compare_digest(want, got)
            with lock:
                posts[0] += 1
                post = posts[0]
                with open(a.out, "a") as f:
                    try:
                        events = json.loads(body)["events"]
                    except Exception:
                        events = [{"event_id": None}]
                    for e in events:
                        f.write(json.dumps({"event_id": e.get("event_id"), "sig_ok": ok, "post": post,
                                            "status": e.get("status")}) + "\n")
            if a.delay:
                time.sleep(a.delay)
            code = a.status if ok else 401
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    open(a.ready_file, "w").write("ready\n")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
