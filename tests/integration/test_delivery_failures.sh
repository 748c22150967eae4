#!/bin/bash
# Upstream failures, each on a tenant of its own with its own real upstream:
# nothing is ever lost and nothing ever leaves by the default route.
#   wrong password -> deferred, held after auth_failures_before_hold, no AUTH
#     storm, the password in no log or event; corrected with `tenant set` ->
#     the queued mail is delivered
#   upstream down -> deferred; 451 then recovery -> delivered exactly once;
#   550 -> failed and kept with the reply; STARTTLS not offered, self-signed,
#   wrong-name and expired certificates, bytes after the 220 to STARTTLS ->
#   deferred with no AUTH sent; upstream dying mid-DATA -> retried, delivered;
#   a broken config refused by `reload`; a removed tenant's queued mail goes
#   by the default route.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
make_selfsigned_cert "$T/ca" selfsigned localhost "DNS:localhost,IP:127.0.0.1"
make_cert "$T/ca" wrongname "mail.elsewhere.test" "DNS:mail.elsewhere.test"
make_expired_cert "$T/ca" expired localhost "DNS:localhost,IP:127.0.0.1"

p_default=$(free_port)
start_upstream default "$p_default" implicit
declare -A port
for t in badpw down t451 t550 nostarttls selfsigned wrongname expired inject drop; do
    port[$t]=$(free_port)
done
start_upstream badpw "${port[badpw]}" implicit --auth badpw-user:the-right-one
start_upstream t451 "${port[t451]}" implicit --auth u:p1 --tempfail-data 1
start_upstream t550 "${port[t550]}" implicit --auth u:p1 --reject-data "550 5.7.1 Relaying denied for this sender"
start_upstream nostarttls "${port[nostarttls]}" starttls --auth u:p1 --fault no-starttls
start_upstream selfsigned "${port[selfsigned]}" implicit --auth u:p1 --cert "$T/ca/selfsigned.pem" --key "$T/ca/selfsigned.key"
start_upstream wrongname "${port[wrongname]}" implicit --auth u:p1 --cert "$T/ca/wrongname.pem" --key "$T/ca/wrongname.key"
start_upstream expired "${port[expired]}" implicit --auth u:p1 --cert "$T/ca/expired.pem" --key "$T/ca/expired.key"
start_upstream inject "${port[inject]}" starttls --auth u:p1 --fault starttls-inject
start_upstream drop "${port[drop]}" starttls --auth u:p1 --fault drop-data
drop_pid=${TR_PIDS[-1]}

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT
TR_UPSTREAM_PORT=$p_default write_conf "$TR_CONF" \
    'retry = { schedule = [ 1 ]; max_age = 3600; auth_failures_before_hold = 2; };' \
    'delivery = { connect_timeout = 5; command_timeout = 10; data_timeout = 10; };'
tr_ctl key init > /dev/null 2>&1
add_tenant() {  # add_tenant ID PASSWORD [tenant set flags...]
    local id=$1 pw=$2
    shift 2
    printf '%s' "$pw" | tr_ctl tenant set "$id" --host 127.0.0.1 --port "${port[$id]}" --username u \
        --password-stdin --sender "sender@$id.test" --ca-file "$T/ca/ca.pem" --no-test "$@" \
        >> "$T/tenants.out" 2>&1
}
add_tenant badpw wrong-password-123 --tls implicit --username badpw-user
add_tenant down p1 --tls implicit
add_tenant t451 p1 --tls implicit
add_tenant t550 p1 --tls implicit
add_tenant nostarttls p1 --tls starttls
add_tenant selfsigned p1 --tls implicit
add_tenant wrongname p1 --tls implicit
add_tenant expired p1 --tls implicit
add_tenant inject p1 --tls starttls
add_tenant drop p1 --tls starttls
ok "ten tenants saved" test "$("$TR_BIN_CTL" -c "$TR_CONF" tenant list | grep -c -E '^(badpw|down|t451|t550|nostarttls|selfsigned|wrongname|expired|inject|drop)\b')" = 10

start_daemon "$TR_CONF"
printf 'Subject: failure test\r\nFrom: App <app@platform.test>\r\n\r\nbody\r\n' > "$T/msg"
for t in badpw down t451 t550 nostarttls selfsigned wrongname expired inject drop; do
    { printf 'X-Tenant-ID: %s\r\n' "$t"; cat "$T/msg"; } > "$T/msg.$t"
    ok "$t: message accepted" relay_send_file "app@platform.test" "rcpt-$t@example.test" "$T/msg.$t"
done

state_of() {  # state_of TENANT: the queue state(s) of the tenant's messages
    "$TR_BIN_CTL" -c "$TR_CONF" queue list --tenant "$1" --json 2>/dev/null | \
        "$PYTHON3" -c 'import json,sys; print(" ".join(m["state"] for m in json.load(sys.stdin)["messages"]))'
}
reply_of() {
    "$TR_BIN_CTL" -c "$TR_CONF" queue list --tenant "$1" --json 2>/dev/null | \
        "$PYTHON3" -c 'import json,sys; print(" ".join((m["last_reply"] or "") for m in json.load(sys.stdin)["messages"]))'
}
auth_count() { grep -c "cmd AUTH" "$T/$1.log"; }
export -f state_of reply_of
export TR_CONF TR_BIN_CTL PYTHON3

# 451 once, then delivered exactly once; 550 failed and kept.
ok "t451: delivered after the temporary failure" wait_eml "$T/t451.mail" 1 20
ok "t451: exactly once" bash -c 'sleep 2; [ "$(ls "$0" | grep -c "\.eml$")" = 1 ]' "$T/t451.mail"
ok "t550: failed" wait_for 20 bash -c '[ "$(state_of t550)" = failed ]'
ok "t550: kept with the upstream's reply" bash -c 'reply_of t550 | grep -q "550 5.7.1 Relaying denied"'

# The wrong password: deferred, then held by the breaker; no AUTH storm.
ok "badpw: held after 2 AUTH failures" wait_for 30 bash -c '[ "$(state_of badpw)" = held ]'
sleep 3
ok "badpw: no AUTH storm (2 attempts, then none)" test "$(auth_count badpw)" = 2
ok "badpw: the hold reason names the breaker" bash -c 'reply_of badpw | grep -q "circuit breaker"'

# Failures that must defer, with no AUTH ever sent.
for t in nostarttls selfsigned wrongname expired inject; do
    ok "$t: deferred" wait_for 60 bash -c '[ "$(state_of "$0")" = deferred ]' "$t"
    ok "$t: no AUTH sent" test "$(auth_count "$t")" = 0
    echo "# $t: state '$(state_of "$t")' reply '$(reply_of "$t")'"
done
ok "selfsigned: the reason is an untrusted certificate" bash -c 'reply_of selfsigned | grep -q cert_untrusted'
ok "wrongname: the reason is a name mismatch" bash -c 'reply_of wrongname | grep -q cert_name_mismatch'
ok "expired: the reason is an expired certificate" bash -c 'reply_of expired | grep -q cert_expired'
ok "nostarttls: the reason is STARTTLS not offered" bash -c 'reply_of nostarttls | grep -q starttls_not_offered'
ok "down: deferred" wait_for 20 bash -c '[ "$(state_of down)" = deferred ]'
ok "down: the reason is a refused connection" bash -c 'reply_of down | grep -q connect_refused'

# The upstream dies mid-DATA; a working one comes back on the same port.
ok "drop: the upstream dropped the connection mid-DATA" wait_for 20 grep -q "dropping the connection mid-DATA" "$T/drop.log"
kill -TERM "$drop_pid"; wait_exit "$drop_pid" 10
start_upstream drop2 "${port[drop]}" starttls --auth u:p1
ok "drop: retried and delivered" wait_eml "$T/drop2.mail" 1 20

ok "nothing ever left by the default route" test "$(count_eml "$T/default.mail")" = 0

# Correct the password: the breaker releases, the queued mail goes out.
printf 'the-right-one' | tr_ctl tenant set badpw --password-stdin --no-test >> "$T/tenants.out" 2>&1
ok "reload" tr_ctl reload
ok "badpw: delivered once the password is corrected" wait_eml "$T/badpw.mail" 1 20
ok "badpw: logged in as its user" grep -q '"auth_user": "badpw-user"' "$T/badpw.mail/000001.json"

# A broken configuration is refused by reload; the old one keeps running.
cp "$TR_CONF" "$T/relay.conf.good"
echo 'limits = { max_recipients = "many"; };' >> "$TR_CONF"
ok "reload of a broken config -> 78" bash -c '"$0" -c "$1" reload 2>"$2"; [ $? = 78 ]' "$TR_BIN_CTL" "$TR_CONF" "$T/reload.err"
ok "the refusal names FILE:LINE" grep -q "relay.conf:[0-9]*: key 'max_recipients'" "$T/reload.err"
cp "$T/relay.conf.good" "$TR_CONF"

# A removed tenant's queued mail goes by the default route again.
ok "tenant 'down' removed" tr_ctl tenant remove down
ok "reload" tr_ctl reload
ok "its deferred message left by the default route" wait_eml "$T/default.mail" 1 20
ok "as the platform's sender" grep -q '"mail_from": "notifications@platform.test"' "$T/default.mail/000001.json"

for secret in wrong-password-123 the-right-one; do
    ok "password $secret absent from logs, events and spool" \
        bash -c '! grep -rq -- "$0" "$1/daemon.log" "$1/log" "$1/spool"' "$secret" "$T"
done
ok "events report deferred attempts" grep -q '"status":"deferred"' "$T/log/events.jsonl"
ok "events report the failure" grep -q '"tenant":"t550".*"status":"failed"' "$T/log/events.jsonl"
finish
