#!/bin/bash
# The file-cycle check (issue #15): inside a module the files call one
# another one way only.  From the built objects of src/ (nm), file A uses
# file B when A has an undefined symbol that B defines; the check fails
# when files of one module use each other in a circle (a strongly
# connected component of that graph), printing each circle with the
# symbols that make its edges.  Known debts, one module a line with its
# reason, are in tests/layering/file_cycle_exceptions.txt; a listed module
# whose circle is gone fails too, so the list only shrinks.
#
# The objects are read from the build directory (make check runs the tests
# there, and exports top_builddir; a VPATH build such as distcheck's has no
# object in the source tree).  Ignored: objects of tests/ and of the fuzz
# harnesses (per-target objects named tests_*-NAME.o, also when their
# source is in src/), and the symbols of sanitizers and coverage, so that
# the ASan build gives the same graph: only edges between our own files
# count; an object whose source is gone (a stale build) is skipped.  No
# object at all is a failure, never a vacuous pass.
# Exit 0 clean, 1 with each circle (or problem) named.
set -uo pipefail
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-$PWD}
dir="$src/tests/layering"
exec "${PYTHON3:-/usr/bin/python3}" - "$src" "$build" "$dir/modules.txt" \
    "$dir/file_cycle_exceptions.txt" "${NM:-nm}" <<'PY'
import os, re, subprocess, sys
top, build, modfile, excfile, nm = sys.argv[1:6]

# A program's main file may belong to a module other than its directory's
# ("file" lines of modules.txt, e.g. src/daemon/tenantrelayd.c).
filemod = {}
for line in open(modfile):
    f = line.split('#', 1)[0].split()
    if len(f) == 3 and f[0] == 'file':
        filemod[f[1]] = f[2]

exceptions = {}
if os.path.exists(excfile):
    for line in open(excfile):
        f = line.split('#', 1)[0].split()
        if f:
            exceptions[f[0]] = line.strip()

# Symbols that instrumentation adds (ASan, UBSan, libFuzzer's coverage,
# gcov, LLVM profiling): never an edge between two of our files.
instrumented = re.compile(r'^_*(asan|ubsan|odr_asan|sanitizer|sancov|lsan|tsan|msan|'
                          r'gcov|llvm_|profc_|profd_|covrec_)')

# The objects of src/: src/MODULE/NAME.o.  Per-target objects are named
# TARGET-NAME.o by automake; those of a tests/ target (unit tests, fuzz
# harnesses compiling a file of src/ on their own) are not the programs'.
objs = {}                       # path -> (module, displayed name)
srcdir = os.path.join(build, 'src')
for root, _, files in os.walk(srcdir):
    for name in sorted(files):
        if not name.endswith('.o'):
            continue
        target, _, base = name.rpartition('-')
        if target.startswith('tests_'):
            continue
        rel = os.path.relpath(root, build)
        parts = rel.split(os.sep)
        if len(parts) != 2:
            continue
        source = f"{rel}/{base[:-2]}.c"
        if not os.path.exists(os.path.join(top, source)):
            continue            # left over from a file since removed or renamed
        objs[os.path.join(root, name)] = (filemod.get(source, parts[1]), name)
if not objs:
    print(f"file_cycles: no object file under {srcdir}: build first (make) "
          "or set top_builddir to the build directory")
    sys.exit(1)

# nm -P: "NAME TYPE [VALUE SIZE]"; upper-case types other than U are
# global definitions (text, data, bss, read-only, common, weak).
defs, undef = {}, {}
for o in objs:
    p = subprocess.run([nm, '-P', o], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"file_cycles: {nm} -P {o} failed: {p.stderr.strip()}")
        sys.exit(1)
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) < 2 or instrumented.match(f[0]):
            continue
        if f[1] == 'U':
            undef.setdefault(o, set()).add(f[0])
        elif f[1].isupper():
            defs.setdefault(f[0], []).append(o)

# Edges within a module, each with the symbols that make it.
edges = {o: {} for o in objs}
for o, syms in undef.items():
    for s in syms:
        for t in defs.get(s, []):
            if t != o and objs[t][0] == objs[o][0]:
                edges[o].setdefault(t, set()).add(s)

# Strongly connected components (Tarjan, iterative: no recursion limit).
index, low, stack, on, comps = {}, {}, [], set(), []
for v0 in sorted(objs):
    if v0 in index:
        continue
    work = [(v0, iter(sorted(edges[v0])))]
    index[v0] = low[v0] = len(index)
    stack.append(v0)
    on.add(v0)
    while work:
        v, it = work[-1]
        for w in it:
            if w not in index:
                index[w] = low[w] = len(index)
                stack.append(w)
                on.add(w)
                work.append((w, iter(sorted(edges[w]))))
                break
            if w in on:
                low[v] = min(low[v], index[w])
        else:
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))

def symbols(a, b):
    s = sorted(edges[a][b])
    return ', '.join(s[:4]) + (f", ... {len(s) - 4} more" if len(s) > 4 else '')

def circle(comp):
    """One circle through the component's first file, by breadth-first
    search back to it: a readable path with the symbols of each edge."""
    start, members = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                path.append(start)
                return path
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return [start]

problems, cyclic = [], set()
for comp in sorted(comps, key=lambda c: (objs[c[0]][0], c)):
    mod = objs[comp[0]][0]
    cyclic.add(mod)
    path = circle(comp)
    text = objs[path[0]][1] + ''.join(f" -> {objs[b][1]} ({symbols(a, b)})"
                                      for a, b in zip(path, path[1:]))
    known = mod in exceptions
    print(f"file_cycles: {mod}: {text}" + ("   [known: file_cycle_exceptions.txt]" if known else ''))
    others = [x for x in comp if x not in path]
    if others:
        print(f"file_cycles: {mod}:   also in the circle: " + ', '.join(objs[x][1] for x in others))
    if not known:
        # Every edge inside the circle, to see which calls to move.
        for a in comp:
            for b in sorted(edges[a]):
                if b in comp:
                    print(f"file_cycles: {mod}:   {objs[a][1]} -> {objs[b][1]} ({symbols(a, b)})")
        problems.append(f"{mod}: {len(comp)} files in a circle; move what they share into a "
                        "lower file so that calls run one way")
for mod in sorted(set(exceptions) - cyclic):
    problems.append(f"file_cycle_exceptions.txt lists {mod}, whose files have no circle "
                    "any more: remove the line")
for p in problems:
    print("file_cycles: " + p)
print(f"file_cycles: {len(objs)} objects, {len(comps)} circles, {len(exceptions)} known, "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)
PY
