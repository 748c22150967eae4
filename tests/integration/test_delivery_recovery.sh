#!/bin/bash
# Durability of delivery: a backlog of 500 messages survives kill -9 of
# tenantrelayd in the middle of delivering it, and every message arrives
# after the restart (at-least-once: each queue id at the upstream, none
# missing); a message older than max_age fails with the last reply kept.
. "$(dirname "$0")/lib.sh"
tr_require smtp-source postfix

p_up=$(free_port)
TR_UPSTREAM_PORT=$p_up relay_conf 'retry = { schedule = [ 1 ]; max_age = 3600; };' \
    'delivery = { connect_timeout = 5; command_timeout = 10; };'
start_daemon "$TR_CONF"

# The upstream is down while the platform sends: everything queues.
ok "500 messages accepted by smtp-source" \
    smtp-source -s 10 -m 500 -l 2048 -f app@platform.test -t someone@example.test "127.0.0.1:$TR_PORT"
ok "500 messages in the queue" wait_true 20 '[ "$(queue_count)" = 500 ]'
ok "the route backs off while the upstream is down (no connection storm)" \
    bash -c 'sleep 3; [ "$(grep -c "status=deferred" "$0")" -lt 100 ]' "$T/daemon.log"

# The upstream comes back; kill -9 the relay in the middle of the backlog.
start_upstream up "$p_up" implicit
wait_for 30 bash -c '[ "$(ls "$0" | grep -c "\.eml$")" -ge 50 ]' "$T/up.mail"
kill -KILL "$TR_DAEMON_PID"
wait_exit "$TR_DAEMON_PID" 10
before=$(count_eml "$T/up.mail")
echo "# killed with $before of 500 delivered"
ok "the kill came mid-backlog" test "$before" -lt 500
start_daemon "$TR_CONF"

unique_ids() {  # queue ids (from our Received: header) the upstream has
    grep -ho 'with E*SMTP[SA]* id [0-9A-Z]*' "$T/up.mail"/*.eml 2>/dev/null | sort -u | wc -l
}
ok "every one of the 500 arrived after the restart" wait_for 90 bash -c '[ "$(grep -ho "with E*SMTP[SA]* id [0-9A-Z]*" "$0"/*.eml | sort -u | wc -l)" = 500 ]' "$T/up.mail"
echo "# unique ids: $(unique_ids), messages stored: $(count_eml "$T/up.mail") (duplicates are the at-least-once window)"
ok "the queue is empty" wait_true 20 '[ "$(queue_count)" = 0 ]'
# Delivered messages' files wait in tmp/ to be reused (deleted when unused
# for SPOOL_FREE_IDLE seconds: test_spool covers that); nothing else stays.
ok "no debris in the spool (queue/ empty, tmp/ holds only files for reuse)" \
    test -z "$(find "$T/spool/queue" -type f)$(find "$T/spool/tmp" -type f ! -name 'f*')"
kill -TERM "$TR_DAEMON_PID"; wait_exit "$TR_DAEMON_PID" 30

# max_age: a route that never answers fails after a few seconds, reply kept.
write_conf "$TR_CONF.maxage" 'retry = { schedule = [ 1 ]; max_age = 3; };' \
    'delivery = { connect_timeout = 2; command_timeout = 5; };'
dead=$(free_port)
set_default_route "$TR_CONF.maxage" "host = \"127.0.0.1\"; port = $dead; tls = \"implicit\";
  sender = \"notifications@platform.test\"; ca_file = \"$T/ca/ca.pem\";"
TR_CONF="$TR_CONF.maxage"
start_daemon "$TR_CONF"
printf 'Subject: too old\r\n\r\nbody\r\n' > "$T/old.msg"
ok "message accepted" relay_send_file app@platform.test someone@example.test "$T/old.msg"
ok "failed once max_age passed" wait_true 20 '[ "$(queue_state_count failed)" = 1 ]'
ok "kept with the last reply" bash -c '"$0" -c "$1" queue list --json | grep -q connect_refused' "$TR_BIN_CTL" "$TR_CONF"
ok "a failed event was written" grep -q '"status":"failed"' "$T/log/events.jsonl"
finish
