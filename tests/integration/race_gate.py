#!/usr/bin/python3
"""The gate of the race tests: a TCP relay on 127.0.0.1 in front of a real
upstream that holds each new connection until a file (the gate) exists,
then relays it (bounded: 60 s per connection).  It writes "held N" to its
log when connection N arrives and "open N" when it relays it, and its PID
to the ready file once it listens: the tests order by these events, not by
timing.

Usage: race_gate.py PORT TARGET-PORT GATE-FILE LOG READY-FILE
"""
import os
import socket
import sys
import threading
import time

port, target, gate, log, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
lock = threading.Lock()


def note(s):
    with lock, open(log, "a") as f:
        f.write(s + "\n")


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def session(c, n):
    note("held %d" % n)
    deadline = time.time() + 60
    while not os.path.exists(gate) and time.time() < deadline:
        time.sleep(0.05)
    try:
        u = socket.create_connection(("127.0.0.1", target), timeout=10)
    except OSError:
        c.close()
        return
    u.settimeout(60)
    c.settimeout(60)
    note("open %d" % n)
    t = threading.Thread(target=pipe, args=(u, c), daemon=True)
    t.start()
    pipe(c, u)
    t.join(60)
    c.close()
    u.close()


with open(ready, "w") as f:
    f.write(str(os.getpid()))
n = 0
while True:
    c, _ = srv.accept()
    n += 1
    threading.Thread(target=session, args=(c, n), daemon=True).start()
