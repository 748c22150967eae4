#!/bin/bash
# Issue #12 items 1 and 7: a tenant store that cannot be read whole is never
# an empty store, and a reload applies to the listener and delivery
# together or to neither.
#  - a missing store stops start-up (logged with the path);
#  - a store moved away, a malformed shard (FILE:LINE), an unreadable
#    shard and a deleted shard (listed in the store's manifest) are each
#    refused at reload: tenantrelayctl reload fails, the
#    running snapshot stays, and acme's mail still leaves only by acme's
#    server, never by the default route;
#  - a reload whose delivery side cannot be prepared (the keyring became
#    unreadable) is refused as a whole: the listener keeps the old store too
#    (a tenant added meanwhile is still unknown to it).
. "$(dirname "$0")/lib.sh"
tr_require swaks swaks

make_ca "$T/ca"
p_default=$(free_port); p_acme=$(free_port); p_beta=$(free_port)
start_upstream default "$p_default" implicit
start_upstream beta "$p_beta" implicit
start_upstream acme "$p_acme" implicit --auth acme-user:acme-s3cret-pw

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF

# A missing store stops start-up.
TR_NO_STORE=1 TR_UPSTREAM_PORT=$p_default write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };' \
    'unknown_tenant = "reject";'
"$TR_BIN_DAEMON" -f -c "$TR_CONF" > "$T/nostore.log" 2>&1 &
pid=$!
tr_track $pid
ok "a missing store stops start-up" wait_exit $pid 20
ok "  with a non-zero exit" test "${TR_EXIT:-0}" -ne 0
ok "  naming the store and why" grep -q "$T/etc/tenants: the tenant store does not exist" "$T/nostore.log"

# tenantrelayctl creates the store (key init), then acme.
tr_ctl key init > "$T/key.out" 2>&1
ok "key init creates the empty store" test -d "$T/etc/tenants"
printf 'acme-s3cret-pw' | tr_ctl tenant set acme --host 127.0.0.1 --port "$p_acme" --tls implicit \
    --username acme-user --password-stdin --sender mailer@acme.test \
    --ca-file "$T/ca/ca.pem" --no-test > "$T/set.out" 2>&1
ok "acme saved" bash -c '"$0" -c "$1" tenant show acme > /dev/null' "$TR_BIN_CTL" "$TR_CONF"
start_daemon "$TR_CONF"

n=0
send_acme() {  # one message of acme (by header); true when accepted
    n=$((n + 1))
    printf 'X-Tenant-ID: acme\r\nFrom: app@platform.test\r\nTo: u@example.test\r\nSubject: acme %s\r\n\r\nbody %s\r\n' "$n" "$n" > "$T/m$n"
    relay_send_file app@platform.test u@example.test "$T/m$n"
}
reload_refused() {  # reload_refused WHAT: the reload fails and is logged
    ! "$TR_BIN_CTL" -c "$TR_CONF" reload > "$T/reload.out" 2>&1
}
ok "acme message accepted" send_acme
ok "delivered by acme's server" wait_eml "$T/acme.mail" 1 20

# 1. The store moved away, then reload.
mv "$T/etc/tenants" "$T/etc/tenants.moved"
ok "reload with the store moved away is refused" reload_refused
ok "  the refusal names the store" grep -q "tenants: the tenant store does not exist" "$T/reload.out"
ok "  and is logged" grep -q "reload refused.*tenant store.*does not exist" "$T/daemon.log"
ok "acme message accepted after the refused reload" send_acme
ok "  still delivered by acme's server" wait_eml "$T/acme.mail" 2 20
mv "$T/etc/tenants.moved" "$T/etc/tenants"

# A malformed shard: refused with FILE:LINE.
printf 'tenants = ( { id = "broken"; host = ; } );\n' > "$T/etc/tenants/zz-broken.conf"
ok "reload with a malformed shard is refused" reload_refused
ok "  with FILE:LINE" grep -q "zz-broken.conf:1: " "$T/daemon.log"
ok "acme message accepted" send_acme
ok "  delivered by acme's server" wait_eml "$T/acme.mail" 3 20
rm -f "$T/etc/tenants/zz-broken.conf"

# An unreadable shard (the daemon runs as an unprivileged user).
if [ "$(id -u)" = 0 ]; then
    chmod 000 "$T"/etc/tenants/shard-*.conf
    chown root "$T"/etc/tenants/shard-*.conf
    ok "reload with an unreadable shard is refused" reload_refused
    ok "  naming the shard" grep -q "shard-.*\.conf: cannot read" "$T/daemon.log"
    ok "acme message accepted" send_acme
    ok "  delivered by acme's server" wait_eml "$T/acme.mail" 4 20
    chmod 600 "$T"/etc/tenants/shard-*.conf
    chown -R "${TR_USER:-nobody}" "$T/etc"
fi
# A shard deleted (the store's manifest, written by tenantrelayctl, lists it).
ok "tenantrelayctl wrote the store's shard manifest" test -s "$T/etc/tenants/.manifest"
acme_shard=$(grep -l '"acme"' "$T"/etc/tenants/shard-*.conf)
mv "$acme_shard" "$T/etc/acme-shard.away"
ok "reload with acme's shard missing is refused" reload_refused
ok "  naming the manifest line and the shard" grep -q "\.manifest:[0-9]*: shard .*$(basename "$acme_shard") is missing" "$T/daemon.log"
ok "acme message accepted" send_acme
ok "  delivered by acme's server, not the default route" wait_eml "$T/acme.mail" "$n" 20
mv "$T/etc/acme-shard.away" "$acme_shard"
ok "nothing ever left by the default route" test "$(count_eml "$T/default.mail")" = 0

# 7. Delivery's side fails to prepare: the listener must not switch either.
tr_ctl tenant set beta --host 127.0.0.1 --port "$p_beta" --tls implicit \
    --sender mailer@beta.test --ca-file "$T/ca/ca.pem" --no-test > "$T/set2.out" 2>&1
ok "beta saved (not yet loaded)" bash -c '"$0" -c "$1" tenant show beta > /dev/null' "$TR_BIN_CTL" "$TR_CONF"
mv "$T/etc/master.key" "$T/etc/master.key.away"
ok "reload with the keyring gone is refused" reload_refused
ok "  by delivery, naming the keyring" grep -q "reload refused by delivery.*keyring" "$T/daemon.log"
printf 'X-Tenant-ID: beta\r\nFrom: app@platform.test\r\nTo: u@example.test\r\nSubject: beta\r\n\r\nbody\r\n' > "$T/beta.msg"
smtp_try app@platform.test u@example.test "$T/beta.msg" > "$T/beta.out"
ok "  beta's message refused by the listener (old store kept)" grep -q "refused 550" "$T/beta.out"
mv "$T/etc/master.key.away" "$T/etc/master.key"
ok "the same reload succeeds once the keyring is back" "$TR_BIN_CTL" -c "$TR_CONF" reload
smtp_try app@platform.test u@example.test "$T/beta.msg" > "$T/beta2.out"
ok "  then beta is known to the listener" grep -q "accepted" "$T/beta2.out"
ok "  and delivered by beta's route" wait_eml "$T/beta.mail" 1 20
ok "nothing ever left by the default route" test "$(count_eml "$T/default.mail")" = 0
finish
