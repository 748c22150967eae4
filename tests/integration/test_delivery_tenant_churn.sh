#!/bin/bash
# Routes follow the tenant store through removal and re-creation, and stay
# right among many tenants (the scheduler finds a tenant's route by a hash
# of its id, not by walking every route): acme's mail goes to acme's server,
# to the default route once acme is removed, and to acme's new server once
# acme is registered again; then 300 tenants on one upstream, one message
# each from 60 of them, each leaves with its own validated sender.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
p_def=$(free_port); p_a=$(free_port); p_b=$(free_port); p_many=$(free_port)
start_upstream def "$p_def" implicit --auth platform:pp
start_upstream old "$p_a" implicit --auth acme:old-pw
start_upstream new "$p_b" implicit --auth acme:new-pw
start_upstream many "$p_many" implicit --auth shared:shared-pw

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
write_conf "$TR_CONF"
tr_ctl key init > "$T/key.out" 2>&1
token=$(printf 'pp' | tr_ctl seal --tenant default --field password)
set_default_route "$TR_CONF" "host = \"127.0.0.1\"; port = $p_def; tls = \"implicit\";
  username = \"platform\"; password = \"$token\"; sender = \"notifications@platform.test\";
  ca_file = \"$T/ca/ca.pem\";"
set_acme() {  # set_acme PORT PASSWORD
    printf '%s' "$2" | tr_ctl tenant set acme --host 127.0.0.1 --port "$1" --tls implicit \
        --username acme --password-stdin --sender mailer@acme.test --domain acme.test \
        --ca-file "$T/ca/ca.pem" --no-test >> "$T/set.out" 2>&1
}
ok "acme registered (old server)" set_acme "$p_a" old-pw
start_daemon "$TR_CONF"

ok "acme's first message accepted" relay_send app@acme.test one@example.test
ok "...delivered by acme's old server" wait_eml "$T/old.mail" 1 20
ok "acme removed" tr_ctl tenant remove acme
ok "reload" tr_ctl reload
ok "acme's second message accepted" relay_send app@acme.test two@example.test
ok "...delivered by the default route" wait_eml "$T/def.mail" 1 20
ok "acme registered again (new server)" set_acme "$p_b" new-pw
ok "reload" tr_ctl reload
ok "acme's third message accepted" relay_send app@acme.test three@example.test
ok "...delivered by acme's new server" wait_eml "$T/new.mail" 1 20
ok "...and nothing more went to the old one" test "$(count_eml "$T/old.mail")" = 1
ok "...nor to the default route" test "$(count_eml "$T/def.mail")" = 1

# 300 tenants; 60 of them send one message each.
for i in $(seq 1 300); do
    printf 'shared-pw' | tr_ctl tenant set "t$i" --host 127.0.0.1 --port "$p_many" --tls implicit \
        --username shared --password-stdin --sender "mailer@t$i.test" --domain "t$i.test" \
        --ca-file "$T/ca/ca.pem" --no-test >> "$T/set.out" 2>&1 || echo "# t$i not saved"
done
ok "reload with 300 tenants" tr_ctl reload
for i in $(seq 5 5 300); do
    relay_send "app@t$i.test" "r$i@example.test" > /dev/null 2>&1 || echo "# t$i not accepted"
done
ok "60 messages delivered" wait_eml "$T/many.mail" 60 60
ok "each left with its own tenant's sender" "$PYTHON3" - "$T/many.mail" <<'PY'
import glob, json, os, re, sys
bad = 0
for meta in glob.glob(os.path.join(sys.argv[1], "*.json")):
    m = json.load(open(meta))
    n = re.match(r"r(\d+)@", m["rcpt_tos"][0]).group(1)
    if m["mail_from"] != "mailer@t%s.test" % n:
        bad += 1
        print("message for r%s left as %s" % (n, m["mail_from"]))
sys.exit(1 if bad else 0)
PY
finish
