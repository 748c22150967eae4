#!/bin/bash
# A route's rate_limit (messages per minute) over a run: with rate_limit = 3
# and 5 messages, 3 go at once, the 4th waits in the queue (no attempt, so
# no 4xx storm at the provider) and goes once the first start is a minute
# old; no 60-second window at the upstream holds more than 3 deliveries.
# Another route is not held back meanwhile.  (About 65 s: the minute is
# the behaviour under test.)
. "$(dirname "$0")/lib.sh"
tr_require smtp-source postfix

make_ca "$T/ca"
p_up=$(free_port)
start_upstream up "$p_up" implicit --auth capped-user:capped-pw --log-sessions
p_other=$(free_port)
start_upstream other "$p_other" implicit

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
TR_UPSTREAM_PORT=$p_other write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };'
tr_ctl key init > "$T/key.out" 2>&1
printf 'capped-pw' | tr_ctl tenant set capped --host 127.0.0.1 --port "$p_up" --tls implicit \
    --username capped-user --password-stdin --sender mailer@capped.test --domain capped.test \
    --ca-file "$T/ca/ca.pem" --rate-limit 3 --no-test > "$T/set.out" 2>&1
ok "tenant with rate_limit = 3 saved" grep -q 'rate_limit = 3;' "$T/etc/tenants"/* 2>/dev/null
start_daemon "$TR_CONF"

ok "5 messages accepted" timeout 60 smtp-source -s 1 -m 5 -l 1000 -f app@capped.test \
    -t one@example.test "127.0.0.1:$TR_PORT"
ok "3 delivered at once" wait_eml "$T/up.mail" 3 20
sleep 5
ok "the 4th waits: still 3 delivered" test "$(count_eml "$T/up.mail")" = 3
ok "the waiting messages stay queued" test "$(queue_count)" = 2
ok "no attempt was made for them (3 MAIL commands at the upstream)" \
    test "$(grep -c ' cmd MAIL$' "$T/up.log")" = 3
ok "no deferral logged (excess waits in the queue)" bash -c '! grep -q "status=deferred" "$0"' "$T/daemon.log"
ok "another route's mail is not held back" \
    bash -c 'swaks --server 127.0.0.1 --port "$0" --from app@platform.test --to x@example.test --timeout 20 > /dev/null 2>&1' "$TR_PORT"
ok "... and delivered while capped's wait" wait_eml "$T/other.mail" 1 20
ok "the rest delivered after the minute" wait_eml "$T/up.mail" 5 75
ok "the queue is empty" wait_true 10 '[ "$(queue_count)" = 0 ]'
ok "no 60-second window held more than 3 deliveries" "$PYTHON3" - "$T/up.mail" <<'PY'
import glob, json, sys
t = sorted(json.load(open(j))["time"] for j in glob.glob(sys.argv[1] + "/*.json"))
print("# delivery times (s after the first):", ["%.2f" % (x - t[0]) for x in t])
sys.exit(0 if len(t) == 5 and all(t[i + 3] - t[i] >= 60 for i in range(len(t) - 3)) else 1)
PY
finish
