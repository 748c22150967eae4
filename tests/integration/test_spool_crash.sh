#!/bin/bash
# Durability: kill -9 right after a 250 keeps the message (it is in the
# queue after a restart, byte for byte); kill -9 in the middle of DATA
# leaves nothing half-written in queue/, and the restart empties tmp/.
. "$(dirname "$0")/lib.sh"

relay_conf
start_daemon "$T/relay.conf"

# The client kills the daemon the moment it reads the 250.
"$PYTHON3" - "$TR_PORT" "$TR_DAEMON_PID" > "$T/kill1" 2>&1 <<'PY'
import os, signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO crash.test\r\nMAIL FROM:<app@platform.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n")
for _ in range(9):
    f.readline()
s.sendall(b"Subject: durable\r\n\r\n" + b"line of the durable message\r\n" * 1000 + b".\r\n")
line = f.readline().decode().strip()
os.kill(int(sys.argv[2]), signal.SIGKILL)
print(line)
PY
wait_exit "$TR_DAEMON_PID" 10
ok "the client got 250 before the kill" grep -Eq '^250 2.0.0 Ok: queued as [0-9A-Z]{16}$' "$T/kill1"
qid=$(awk '{print $NF}' "$T/kill1")
start_daemon "$T/relay.conf"
ok "restart recovers the queue (1 queued)" wait_for 10 grep -q 'spool recovered .* queued=1' "$T/daemon.log"
ok "after kill -9 and restart the message is listed" \
    bash -c '"$0" -c "$1" queue list | grep -q "^$2 "' "$TR_BIN_CTL" "$T/relay.conf" "$qid"
ok "its content is complete" test "$(grep -c '^line of the durable message' "$T/spool/queue/$qid.msg")" = 1000

# kill -9 in the middle of DATA: the temp file exists, queue/ gets nothing.
before=$(queue_count)
"$PYTHON3" - "$TR_PORT" > "$T/kill2" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"EHLO crash.test\r\nMAIL FROM:<app@platform.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n")
s.sendall(b"Subject: half\r\n\r\n" + b"half a message\r\n" * 20000)
time.sleep(30)
PY
client=$!
tr_track "$client"
ok "mid-DATA: a temp file is being written" wait_for 10 bash -c '[ -n "$(ls -A "$0")" ]' "$T/spool/tmp"
kill -KILL "$TR_DAEMON_PID"
wait_exit "$TR_DAEMON_PID" 10
kill "$client" 2>/dev/null
ok "mid-DATA kill: nothing new in queue/" test "$(queue_count)" = "$before"
ok "mid-DATA kill: no .msg without .env in queue/" \
    test "$(find "$T/spool/queue" -name '*.msg' | wc -l)" = "$before"
start_daemon "$T/relay.conf"
ok "restart empties tmp/" wait_for 10 bash -c '[ -z "$(ls -A "$0")" ]' "$T/spool/tmp"
ok "restart logs the removed temp file" grep -q 'removed 1 unacknowledged temp file' "$T/daemon.log"
ok "the earlier message is still queued" test -s "$T/spool/queue/$qid.env"
r=$(swaks --server "127.0.0.1:$TR_PORT" --from app@platform.test --to user@example.test --timeout 10 2>&1)
ok "and the restarted daemon accepts mail" grep -q '250 2.0.0 Ok: queued as' <<< "$r"
finish
