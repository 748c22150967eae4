#!/bin/bash
# The layering check (issue #15): every #include "tenantrelay/X.h" in src/
# and include/ must name a header of the including file's own module or of a
# module below it in tests/layering/modules.txt; so no two modules can
# include each other.  Known exceptions, each a debt with its reason, are in
# tests/layering/exceptions.txt; an exception that no longer occurs fails
# too, so the list only shrinks.  Exit 0 clean, 1 with each violation named.
set -uo pipefail
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
dir="$src/tests/layering"
exec "${PYTHON3:-/usr/bin/python3}" - "$src" "$dir/modules.txt" "$dir/exceptions.txt" <<'PY'
import os, re, sys
top, modfile, excfile = sys.argv[1:4]
rank, owner, filemod = {}, {}, {}
for line in open(modfile):
    f = line.split('#', 1)[0].split()
    if not f:
        continue
    if f[0] == 'file':
        filemod[f[1]] = f[2]
        continue
    rank[f[0]] = len(rank)
    for h in f[1:]:
        owner[h] = f[0]
exceptions = set()
if os.path.exists(excfile):
    for line in open(excfile):
        f = line.split('#', 1)[0].split()
        if f:
            exceptions.add((f[0], f[1]))
def module_of(rel):
    if rel in filemod:
        return filemod[rel]
    parts = rel.split('/')
    if parts[0] == 'include':
        return owner.get(os.path.splitext(parts[-1])[0])
    return parts[1] if len(parts) > 2 else None
problems, seen = [], set()
inc = re.compile(r'^\s*#\s*include\s+"tenantrelay/([a-z0-9_]+)\.h"', re.M)
for base in ('src', 'include'):
    for root, _, files in os.walk(os.path.join(top, base)):
        for name in sorted(files):
            if not name.endswith(('.c', '.h')):
                continue
            rel = os.path.relpath(os.path.join(root, name), top)
            mod = module_of(rel)
            if mod is None or mod not in rank:
                problems.append(f"{rel}: module '{mod}' is not listed in tests/layering/modules.txt")
                continue
            for h in inc.findall(open(os.path.join(root, name), errors='replace').read()):
                hm = owner.get(h)
                if hm is None:
                    problems.append(f"{rel}: header tenantrelay/{h}.h belongs to no module in modules.txt")
                elif rank[hm] > rank[mod]:
                    if (rel, h) in exceptions:
                        seen.add((rel, h))
                    else:
                        problems.append(f"{rel} ({mod}) includes tenantrelay/{h}.h of {hm}, a module above it")
for rel, h in sorted(exceptions - seen):
    problems.append(f"exceptions.txt lists {rel} -> {h}.h, which no longer occurs: remove the line")
for p in problems:
    print("layering: " + p)
print(f"layering: {len(rank)} modules, {len(exceptions)} known exceptions, {len(problems)} problems")
sys.exit(1 if problems else 0)
PY
