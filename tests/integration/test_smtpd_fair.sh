#!/bin/bash
# Fair sessions (SPEC §4) with the real daemon: with the default limits one
# client holding 300 connections gets all but an eighth of max_sessions and
# 421 beyond, while another allowed client is still served at once; the
# nearly full listener shortens idle timeouts (stress mode) and says so; a
# client trickling one byte every 5 s is dropped within command_timeout, in
# a command and in DATA; every refusal is logged as reject=... reason=...
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); export TR_PORT
# Defaults but command_timeout: max_sessions 256, max_sessions_per_client
# unset (224), stress_command_timeout 10.
write_conf "$T/relay.conf" 'limits = { command_timeout = 30; };'
start_daemon "$T/relay.conf"

"$PYTHON3" - "$TR_PORT" > "$T/hog.out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held, codes = [], {}
for i in range(300):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.1", 0))
    line = s.makefile("rb").readline().decode().strip()
    codes[line[:3]] = codes.get(line[:3], 0) + 1
    if line.startswith("220"):
        held.append(s)
    else:
        last = line
        s.close()
print("hog 220", codes.get("220", 0))
print("hog 421", codes.get("421", 0))
print("hog last", last)
# Another allowed client while the first holds all it may: its greeting
# must come at once (1 s), and it is served.
b = socket.create_connection(("127.0.0.1", port), timeout=1, source_address=("127.0.0.2", 0))
fb = b.makefile("rb")
try:
    print("other", fb.readline().decode().strip())
    b.sendall(b"EHLO other.test\r\n")
    while True:
        l = fb.readline().decode().strip()
        if l[:4] != "250-":
            break
    print("other ehlo", l)
except socket.timeout:
    print("other TIMEOUT")
b.close()
sys.stdout.flush()
# Stress mode: the held idle sessions are cut after stress_command_timeout.
for s in held:
    s.settimeout(25)
t0 = time.time()
cut = 0
for s in held:
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    if data.startswith(b"421") or not data:
        cut += 1
print("hog cut", cut)
PY
ok "one client: 224 sessions (all but an eighth of 256)" grep -q '^hog 220 224$' "$T/hog.out"
ok "one client: 76 refused" grep -q '^hog 421 76$' "$T/hog.out"
ok "... with 421 too many sessions from your address" grep -q '^hog last 421 4.7.0 relay.test Error: too many sessions from your address' "$T/hog.out"
ok "another client's greeting within 1 s: 220" grep -q '^other 220 ' "$T/hog.out"
ok "another client is served (EHLO 250)" grep -q '^other ehlo 250 ' "$T/hog.out"
ok "refusals logged: reject=connect ... reason=max_sessions_per_client" \
    grep -q 'reject=connect client=\[127.0.0.1\] reason=max_sessions_per_client sessions=224 client_sessions=224 limit=224' "$T/daemon.log"
ok "stress mode logged when nearly full" grep -q 'stress=on sessions=205 max_sessions=256' "$T/daemon.log"
ok "stress mode: the held idle sessions cut (all 224)" grep -q '^hog cut 224$' "$T/hog.out"
ok "... logged as reject=session reason=command_timeout timeout=10s stress=on" \
    grep -q 'reject=session client=\[127.0.0.1\] reason=command_timeout timeout=10s stress=on' "$T/daemon.log"
ok "stress mode ends when sessions go" wait_for 10 grep -q 'stress=off' "$T/daemon.log"

# A trickle: one byte every 5 s, with command_timeout = 6 (each read comes
# within it; the whole line and the DATA chunk do not).
sed -i 's/command_timeout = 30;/command_timeout = 6;/' "$T/relay.conf"
n=$(grep -c "reloaded configuration" "$T/daemon.log")
kill -HUP "$TR_DAEMON_PID"
wait_for 10 bash -c '[ "$(grep -c "reloaded configuration" "$0")" -gt "$1" ]' "$T/daemon.log" "$n"
trickle() {  # trickle PREFIX-TO-SEND-AT-ONCE: then "x" every 5 s; prints what came back
    "$PYTHON3" - "$TR_PORT" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
f.readline()
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode())
t0 = time.time(); out = b""
while time.time() - t0 < 40 and b"421" not in out:
    try:
        s.sendall(b"x")
    except OSError:
        break
    s.settimeout(5)
    try:
        b = s.recv(4096)
        if not b:
            break
        out += b
    except socket.timeout:
        pass
    except OSError:
        break
print("sent for %d s" % int(time.time() - t0))
print(out.decode(errors="replace").strip().splitlines()[-1] if out else "nothing")
PY
}
trickle '' > "$T/trickle1"
ok "trickle in a command: 421 timeout" grep -q '421 4.4.2 relay.test Error: timeout exceeded' "$T/trickle1"
ok "... logged: reason=command_timeout timeout=6s" grep -q 'reject=session client=\[127.0.0.1\] reason=command_timeout timeout=6s stress=off' "$T/daemon.log"
trickle 'EHLO t.test\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n' > "$T/trickle2"
ok "trickle in DATA: 421 timeout" grep -q '421 4.4.2 relay.test Error: timeout exceeded' "$T/trickle2"
ok "... logged: reason=data_stalled timeout=6s" grep -q 'reject=session client=\[127.0.0.1\] reason=data_stalled timeout=6s' "$T/daemon.log"
ok "nothing queued from the trickles" test "$(queue_count)" = 0
finish
