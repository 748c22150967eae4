#!/bin/bash
# Reused spool files never mix messages.  Delivered messages' files are
# reused for new ones (spool_recycle.c); this checks the property that
# makes that safe, under load and across kill -9: every message that
# reaches the upstream carries its own content.  Each message has its own
# recipient (rN@example.test) and says "index N" in its Subject and body;
# 4 clients send 500 of them, of different sizes (so a reused file is
# sometimes longer than the new message), while delivery runs; tenantrelayd
# is killed with -9 while new messages are taking delivered ones' files,
# and restarted.  At the upstream every
# stored message's recipient, Subject and body agree and its size is
# exact, and every message that got its 250 arrived.
. "$(dirname "$0")/lib.sh"

p_up=$(free_port)
TR_UPSTREAM_PORT=$p_up relay_conf 'retry = { schedule = [ 1 ]; };' \
    'delivery = { connect_timeout = 5; command_timeout = 10; };'
start_upstream up "$p_up" implicit --pipelining
start_daemon "$TR_CONF"

# send FIRST LAST [PAUSE]: messages FIRST..LAST from 4 threads, each
# pausing PAUSE seconds between messages; prints "N" per 250.
send() {
    "$PYTHON3" - "$TR_PORT" "$1" "$2" "${3:-0}" <<'PY'
import smtplib, sys, threading, time
port, first, last, pause = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
lock = threading.Lock()
def body(n):
    # 200 B to ~70 KB: a reused file is often longer than its next message.
    filler = ("index %d " % n) * (1 + (n * 7919) % 7000)
    lines = [filler[i:i + 70] for i in range(0, len(filler), 70)]
    return ("Subject: index %d\r\nFrom: <app@platform.test>\r\nTo: <r%d@example.test>\r\n\r\n"
            % (n, n) + "\r\n".join(lines) + "\r\nend of index %d\r\n" % n).encode()
def worker(k):
    s = None
    for n in range(first + k, last + 1, 4):
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", port, timeout=20)
            s.sendmail("app@platform.test", ["r%d@example.test" % n], body(n))
            with lock:
                print(n, flush=True)
        except Exception:
            s = None        # the relay was killed: this one was not acknowledged
        time.sleep(pause)
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass
threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
PY
}

# Fill the pool: 100 messages accepted and delivered.
send 1 100 > "$T/acked1"
ok "the first 100 delivered" wait_eml "$T/up.mail" 100 60
# Now new messages reuse delivered files while delivery runs; kill -9 then.
send 101 400 0.01 > "$T/acked2" &
sender=$!
wait_for 60 bash -c '[ "$(ls "$0" | grep -c "\.eml$")" -ge 160 ]' "$T/up.mail"
kill -KILL "$TR_DAEMON_PID"
wait_exit "$TR_DAEMON_PID" 10
wait "$sender"
echo "# killed with $(count_eml "$T/up.mail") stored; $(wc -l < "$T/acked2") of 300 acknowledged in the second batch"
start_daemon "$TR_CONF"
send 401 500 > "$T/acked3"
cat "$T/acked1" "$T/acked2" "$T/acked3" | sort -n > "$T/acked"
ok "messages were acknowledged on both sides of the kill" \
    bash -c '[ "$(wc -l < "$0")" -ge 1 ] && [ "$(wc -l < "$1")" = 100 ]' "$T/acked2" "$T/acked3"
ok "the queue empties" wait_true 90 '[ "$(queue_count)" = 0 ]'
# Every stored message: recipient, Subject, body lines and end marker agree.
"$PYTHON3" - "$T/up.mail" "$T/acked" > "$T/integrity" <<'PY'
import glob, json, os, re, sys
bad = checked = 0
seen = set()
for meta in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    m = json.load(open(meta))
    n = int(re.match(r"r(\d+)@", m["rcpt_tos"][0]).group(1))
    seen.add(n)
    raw = open(meta[:-5] + ".eml", "rb").read().decode()
    head, _, body = raw.partition("\r\n\r\n")
    ok = ("Subject: index %d\r\n" % n) in head + "\r\n" and body.endswith("end of index %d\r\n" % n)
    filler = body[: -len("end of index %d\r\n" % n)].replace("\r\n", "")
    ok = ok and filler == ("index %d " % n) * (1 + (n * 7919) % 7000)
    checked += 1
    if not ok:
        bad += 1
        print("mismatch in", meta)
acked = {int(x) for x in open(sys.argv[2]).read().split()}
missing = sorted(acked - seen)
for n in missing[:10]:
    print("acknowledged but not delivered:", n)
print("checked", checked, "missing", len(missing), "bad", bad)
PY
echo "# $(tail -1 "$T/integrity")"
ok "every acknowledged message arrived" grep -q ' missing 0 ' "$T/integrity"
ok "every stored message carries its own content (none mixed, none cut)" \
    grep -q ' bad 0$' "$T/integrity"
finish
