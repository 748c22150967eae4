#!/usr/bin/python3
"""Generate a tenant store of N tenants for bench_store.sh.
   gen_store.py LAYOUT N PATH [OAUTH_EVERY]   (LAYOUT: single | pertenant | sharded)
   OAUTH_EVERY: every so many tenants is an OAuth2 (xoauth2, Microsoft) route
   instead of a password route (0, the default: none)."""
import os, sys

layout, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
oauth_every = int(sys.argv[4]) if len(sys.argv) > 4 else 0
TOKEN = "trv1:be42ee6cc598:" + "A" * 64

def login(i):
    if oauth_every and i % oauth_every == 0:
        return (f'    username = "user{i}@example.com";\n    auth = "xoauth2";\n    oauth = {{\n'
                f'      provider = "microsoft";\n      directory = "t{i:06d}.onmicrosoft.com";\n'
                f'      client_id = "11111111-2222-3333-4444-{i:012d}";\n'
                f'      client_secret = "{TOKEN}";\n    }};\n')
    return f'    username = "user{i}@example.com";\n    password = "{TOKEN}";\n'

def rec(i):
    return (f'  {{\n    id = "t{i:06d}";\n    enabled = true;\n    host = "smtp{i}.example.com";\n'
            f'    port = 587;\n    tls = "starttls";\n{login(i)}'
            f'    sender = "noreply@t{i:06d}.example.com";\n'
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
