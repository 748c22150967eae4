#!/usr/bin/python3
"""Generate a tenant store of N tenants for bench_store.sh.
   gen_store.py LAYOUT N PATH   (LAYOUT: single | pertenant | sharded)"""
import os, sys

layout, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TOKEN = "trv1:be42ee6cc598:" + "A" * 64

def rec(i):
    return (f'  {{\n    id = "t{i:06d}";\n    enabled = true;\n    host = "smtp{i}.example.com";\n'
            f'    port = 587;\n    tls = "starttls";\n    username = "user{i}@example.com";\n'
            f'    password = "{TOKEN}";\n    sender = "noreply@t{i:06d}.example.com";\n'
            f'    domains = [ "t{i:06d}.example.com" ];\n    addresses = [ "a{i}@x.example.org" ];\n'
            f'    max_connections = 4;\n    rate_limit = 0;\n'
            f'    created = "2026-11-25T03:00:00Z";\n    updated = "2026-11-25T03:00:00Z";\n  }}')

def write(file, ids):
    with open(file, "w") as f:
        f.write("tenants = (\n" + ",\n".join(rec(i) for i in ids) + "\n);\n")

def fnv(s):
    h = 2166136261
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h

if layout == "single":
    write(path, range(n))
else:
    os.makedirs(path, exist_ok=True)
    if layout == "pertenant":
        for i in range(n):
            write(f"{path}/t{i:06d}.conf", [i])
    else:
        shards = {}
        for i in range(n):
            shards.setdefault(fnv(f"t{i:06d}") % 256, []).append(i)
        for k, ids in shards.items():
            write(f"{path}/shard-{k:02x}.conf", ids)
