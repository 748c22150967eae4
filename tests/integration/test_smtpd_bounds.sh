#!/bin/bash
# The listener's bounds: a slow client is cut off (command and data
# phases, minimum data rate), the session caps answer 421 while the other
# clients are still served, an oversized body gets 552 after the dot with
# bounded memory, and long body lines up to max_line_length pass.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
TR_PORT=$(free_port)
export TR_PORT
write_conf "$T/relay.conf" 'limits = { max_sessions = 2; command_timeout = 2; data_timeout = 60;
  min_data_rate = 1000; max_message_size = 1048576; };'
start_daemon "$T/relay.conf"

# One byte every 10 s: cut off by the command timeout, with a 421 first.
"$PYTHON3" - "$TR_PORT" > "$T/slow1" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
print(f.readline().decode().strip())
out = b""
for ch in b"EHLO slow.test\r\n":
    try:
        s.sendall(bytes([ch]))
    except OSError:
        break
    s.settimeout(10)
    try:
        b = s.recv(4096)
    except socket.timeout:
        continue
    except OSError:
        break
    out += b
    if not b or b"421" in out:
        break
print(out.decode().strip())
PY
ok "one byte per 10 s in a command: 421 4.4.2 timeout" grep -q '^421 4.4.2 relay.test Error: timeout exceeded' "$T/slow1"
ok "the cut is logged" wait_for 5 grep -q 'command timeout from \[127.0.0.1\]' "$T/daemon.log"

# The same in DATA: no byte within command_timeout ends the session.
"$PYTHON3" - "$TR_PORT" > "$T/slow2" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"EHLO slow.test\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: slow\r\n")
out = b""
s.settimeout(15)
while b"421" not in out:
    try:
        b = s.recv(4096)
    except (socket.timeout, OSError):
        break
    if not b:
        break
    out += b
print(out.decode().strip())
PY
ok "a stalled DATA phase: 421 4.4.2" grep -q '^421 4.4.2' "$T/slow2"
ok "nothing queued from the stalled DATA" test "$(queue_count)" = 0
ok "its temp file is removed" wait_for 5 test -z "$(ls -A "$T/spool/tmp")"

# A trickle in DATA (2 bytes/s, under min_data_rate) is cut after the grace
# (a command timeout longer than the grace, or the stalled-chunk rule, which
# test_smtpd_fair.sh checks, would cut it first).
sed -i 's/command_timeout = 2;/command_timeout = 20;/' "$T/relay.conf"
n=$(grep -c "reloaded configuration" "$T/daemon.log")
kill -HUP "$TR_DAEMON_PID"
wait_for 10 bash -c '[ "$(grep -c "reloaded configuration" "$0")" -gt "$1" ]' "$T/daemon.log" "$n"
"$PYTHON3" - "$TR_PORT" > "$T/slow3" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"EHLO slow.test\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
s.settimeout(0.5)
out = b""
t0 = time.time()
while time.time() - t0 < 25 and b"421" not in out:
    try:
        s.sendall(b"x")
        out += s.recv(4096)
    except socket.timeout:
        pass
    except OSError:
        break
print(out.decode().strip())
PY
ok "DATA below min_data_rate: 421 data rate too low" grep -q '^421 4.4.2 relay.test Error: data rate too low' "$T/slow3"

# Session cap (max_sessions = 2): a third client gets 421 while the two
# others are still served.
"$PYTHON3" - "$TR_PORT" > "$T/cap" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s, s.makefile("rb")
a, fa = conn(); print("a", fa.readline().decode().strip())
b, fb = conn(); print("b", fb.readline().decode().strip())
c, fc = conn(); print("c", fc.readline().decode().strip())
a.sendall(b"NOOP\r\n"); print("a", fa.readline().decode().strip())
b.sendall(b"NOOP\r\n"); print("b", fb.readline().decode().strip())
a.sendall(b"QUIT\r\n"); fa.readline(); a.close()
for i in range(50):
    d, fd = conn(); line = fd.readline().decode().strip()
    if line.startswith("220"):
        break
    d.close(); time.sleep(0.1)
print("d", line)
PY
ok "two sessions get 220" test "$(grep -c '^[ab] 220 ' "$T/cap")" = 2
ok "the third gets 421 4.7.0 (max_sessions)" grep -q '^c 421 4.7.0 relay.test Error: too many sessions' "$T/cap"
ok "the first two are still served" test "$(grep -c '^[ab] 250 2.0.0 Ok' "$T/cap")" = 2
ok "a slot freed is usable again" grep -q '^d 220 ' "$T/cap"

# Per-client cap: one session per address; another address still gets in.
sed -i 's/max_sessions = 2;/max_sessions = 10; max_sessions_per_client = 1;/' "$T/relay.conf"
n=$(grep -c "reloaded configuration" "$T/daemon.log")
kill -HUP "$TR_DAEMON_PID"
wait_for 10 bash -c '[ "$(grep -c "reloaded configuration" "$0")" -gt "$1" ]' "$T/daemon.log" "$n"
"$PYTHON3" - "$TR_PORT" > "$T/percap" 2>&1 <<'PY'
import socket, sys
port = int(sys.argv[1])
def conn(src):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
    return s, s.makefile("rb")
a, fa = conn("127.0.0.1"); print("a", fa.readline().decode().strip())
b, fb = conn("127.0.0.1"); print("b", fb.readline().decode().strip())
c, fc = conn("127.0.0.5"); print("c", fc.readline().decode().strip())
a.sendall(b"NOOP\r\n"); print("a", fa.readline().decode().strip())
PY
ok "per-client cap: the second session of one address gets 421" grep -q '^b 421 4.7.0 relay.test Error: too many sessions from your address' "$T/percap"
ok "per-client cap: another address is served" grep -q '^c 220 ' "$T/percap"
ok "per-client cap: the first session goes on" grep -q '^a 250 2.0.0 Ok' "$T/percap"
# The rest runs sessions back to back: no per-client cap.
sed -i 's/max_sessions_per_client = 1;//' "$T/relay.conf"
n=$(grep -c "reloaded configuration" "$T/daemon.log")
kill -HUP "$TR_DAEMON_PID"
wait_for 10 bash -c '[ "$(grep -c "reloaded configuration" "$0")" -gt "$1" ]' "$T/daemon.log" "$n"

# An oversized body (30 MB against a 1 MB limit): read to the dot, 552, and
# the daemon's memory stays bounded.
"$PYTHON3" - "$TR_PORT" > "$T/big" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo()
del s.esmtp_features["size"]     # no SIZE=: the limit must hold after the dot
line = b"x" * 998 + b"\r\n"
body = b"Subject: big\r\n\r\n" + line * 30000
try:
    s.sendmail("a@platform.test", ["b@example.test"], body)
    print("accepted")
except smtplib.SMTPDataError as e:
    print("data-error %d %s" % (e.smtp_code, e.smtp_error.decode()))
s.quit()
PY
ok "oversized body: 552 5.3.4 after the dot" grep -q '^data-error 552 5.3.4' "$T/big"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$TR_DAEMON_PID/status")
ok "memory stayed bounded while reading 30 MB (VmHWM ${hwm} kB < 64 MB)" test "${hwm:-999999}" -lt 65536
ok "nothing queued from the oversized body" test "$(queue_count)" = 0

# Body lines: 60,000 bytes pass (max_line_length 65,536); 70,000 do not.
"$PYTHON3" - "$TR_PORT" > "$T/lines" 2>&1 <<'PY'
import smtplib, sys
for n in (60000, 70000):
    s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
    s.ehlo()
    del s.esmtp_features["size"]
    try:
        s.sendmail("a@platform.test", ["b@example.test"], b"Subject: l\r\n\r\n" + b"<p>" * (n // 3) + b"\r\n")
        print(n, "accepted")
    except smtplib.SMTPDataError as e:
        print(n, "refused", e.smtp_code)
    s.quit()
PY
ok "a 60,000-byte body line is accepted" grep -q '^60000 accepted' "$T/lines"
ok "a 70,000-byte body line is refused (552)" grep -q '^70000 refused 552' "$T/lines"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
