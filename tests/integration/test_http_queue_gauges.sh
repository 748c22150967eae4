#!/bin/bash
# /metrics' queue gauges and `status` follow the queue as it changes,
# without a walk of the queue (issue #12 item 11): a spool written before
# start (indexed at recovery in directory order, not by arrival) shows its
# counts by state and its oldest message's age; deleting the oldest message
# moves the age to the next oldest; holding one moves it from deferred to
# held, in the gauges and in the tenant's status entry alike (no stale
# figures).
. "$(dirname "$0")/lib.sh"
tr_require curl curl
make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); HP=$(free_port); p_dead=$(free_port)
TR_CONF="$T/tr.conf"
export TR_PORT TR_CONF
write_conf "$TR_CONF" "http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; };"
tr_ctl tenant set down --host 127.0.0.1 --port "$p_dead" --tls implicit --sender x@down.test \
    --no-test > /dev/null 2>&1
ok "tenant down saved (no test)" test $? = 0
mkdir -p "$T/spool/queue" "$T/spool/tmp"
# qid state age(s): the oldest is neither first nor last in the directory.
"$PYTHON3" - "$T/spool/queue" <<'PY'
import sys, time
q = sys.argv[1]
now = int(time.time())
msgs = [("G000000000000000", "deferred", 3000), ("G000000000000001", "deferred", 5000),
        ("G000000000000002", "held", 1000), ("G000000000000003", "failed", 2000),
        ("G000000000000004", "deferred", 4000)]
body = b"Subject: gauges\r\n\r\nhello\r\n"
for qid, state, age in msgs:
    with open(f"{q}/{qid}.msg", "wb") as f:
        f.write(body)
    with open(f"{q}/{qid}.state", "w") as f:
        f.write(f"tenantrelay-state 1\nstate {state}\nattempts 1\nnext_attempt {now + 86400}\n"
                f"last_attempt {now}\nlast_reply 421 4.4.0 down\n")
    with open(f"{q}/{qid}.env", "w") as f:
        f.write(f"tenantrelay-envelope 1\nid {qid}\ntenant down\ntenant_source header\n"
                f"sender app@platform.test\narrival {now - age}\nflags 0\nsize {len(body)}\n"
                f"recipient someone@example.test\n")
PY
[ "$(id -u)" = 0 ] && chown -R nobody "$T/spool"
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
wait_port "$HP" 10 || { cat "$T/daemon.log"; exit 1; }

m() { grep "^$1 " "$T/metrics.txt" | awk '{print $2}'; }
scrape() { curl -s --max-time 30 -o "$T/metrics.txt" "http://127.0.0.1:$HP/metrics"; }
gauges() {  # queued deferred held failed oldest-age
    scrape
    echo "$(m 'tenantrelay_queue_messages{state="queued"}') $(m 'tenantrelay_queue_messages{state="deferred"}')" \
         "$(m 'tenantrelay_queue_messages{state="held"}') $(m 'tenantrelay_queue_messages{state="failed"}')" \
         "$(m tenantrelay_queue_oldest_message_age_seconds)"
}
down_status() {  # deferred held failed of tenant down, from tenantrelayctl status
    tr_ctl --json status 2>/dev/null | "$PYTHON3" -c '
import json, sys
t = [t for t in json.load(sys.stdin)["tenants"] if t["id"] == "down"][0]
print(t["deferred"], t["held"], t["failed"])'
}
age_in() { [ "$1" -ge "$2" ] && [ "$1" -lt $(( $2 + 600 )) ]; }

read -r q d h f age <<< "$(gauges)"
ok "after recovery: 0 queued, 3 deferred, 1 held, 1 failed" test "$q $d $h $f" = "0 3 1 1"
ok "  the oldest message's age is the oldest arrival's (5000 s), not the first indexed" age_in "${age:-0}" 5000
ok "  status of tenant down agrees" test "$(down_status)" = "3 1 1"
tr_ctl queue delete G000000000000001 > /dev/null 2>&1
read -r q d h f age <<< "$(gauges)"
ok "the oldest deleted: 2 deferred" test "$q $d $h $f" = "0 2 1 1"
ok "  the age is now the next oldest's (4000 s)" age_in "${age:-0}" 4000
ok "  status of tenant down agrees" test "$(down_status)" = "2 1 1"
tr_ctl queue hold G000000000000000 > /dev/null 2>&1
read -r q d h f age <<< "$(gauges)"
ok "one held: 1 deferred, 2 held" test "$q $d $h $f" = "0 1 2 1"
ok "  status of tenant down agrees" test "$(down_status)" = "1 2 1"
tr_ctl queue delete --tenant down > /dev/null 2>&1
read -r q d h f age <<< "$(gauges)"
ok "all deleted: every gauge 0" test "$q $d $h $f $age" = "0 0 0 0 0"
ok "  status of tenant down agrees" test "$(down_status)" = "0 0 0"
finish
