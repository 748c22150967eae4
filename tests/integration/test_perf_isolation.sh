#!/bin/bash
# No head-of-line blocking across routes: one tenant's upstream accepts
# connections and never greets (upstream.py --fault stall).  While that
# tenant's workers hang on it, another tenant's 50 messages are all
# delivered: before the stalled route even reaches its timeout.
. "$(dirname "$0")/lib.sh"
tr_require smtp-source postfix

make_ca "$T/ca"
p_stall=$(free_port); p_fast=$(free_port)
start_upstream stall "$p_stall" implicit --fault stall --auth slow-user:slow-pw
start_upstream fast "$p_fast" implicit --auth fast-user:fast-pw

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
# The stalled greeting costs a worker command_timeout (30 s) per try.
TR_UPSTREAM_PORT=$p_fast write_conf "$TR_CONF" 'retry = { schedule = [ 60 ]; };' \
    'delivery = { connect_timeout = 30; command_timeout = 30; };'
tr_ctl key init > "$T/key.out" 2>&1
printf 'slow-pw' | tr_ctl tenant set slow --host 127.0.0.1 --port "$p_stall" --tls implicit \
    --username slow-user --password-stdin --sender mailer@slow.test --domain slow.test \
    --ca-file "$T/ca/ca.pem" --no-test > "$T/set.out" 2>&1
printf 'fast-pw' | tr_ctl tenant set fast --host 127.0.0.1 --port "$p_fast" --tls implicit \
    --username fast-user --password-stdin --sender mailer@fast.test --domain fast.test \
    --ca-file "$T/ca/ca.pem" --no-test >> "$T/set.out" 2>&1
start_daemon "$TR_CONF"

# The stalled tenant's mail first, so it is ahead in every queue.
ok "20 messages for the stalled tenant accepted" timeout 60 smtp-source -s 2 -m 20 -l 1000 \
    -f app@slow.test -t one@example.test "127.0.0.1:$TR_PORT"
ok "the stalled upstream holds connections" wait_true 10 'grep -q "^connect" "$T/stall.log"'
ok "50 messages for the other tenant accepted" timeout 60 smtp-source -s 5 -m 50 -l 1000 \
    -f app@fast.test -t two@example.test "127.0.0.1:$TR_PORT"
ok "all 50 delivered" wait_eml "$T/fast.mail" 50 25
ok "... while the stalled route had not yet timed out (no attempt of it ended)" \
    bash -c '! grep -q "tenant=slow .*status=" "$0"' "$T/daemon.log"
ok "the stalled tenant's mail is still queued" test "$(queue_count)" = 20
ok "the other tenant's mail all went to its own upstream" \
    test "$(grep -l '"auth_user": "fast-user"' "$T/fast.mail"/*.json | wc -l)" = 50
finish
