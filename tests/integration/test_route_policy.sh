#!/bin/bash
# Tenant route policy (SPEC §3) with the real tenantrelayctl and daemon:
# tenant set and test refuse loopback, private, link-local, mapped and
# named-loopback destinations and a non-mail port with exit 65 naming the
# rule, and nothing is saved or connected; the same settings pass once
# extra_networks and ports allow them; delivery to a tenant whose host
# resolves to a refused address defers with route_policy and sends
# nothing, while the default route (exempt) delivers; a far end that is
# not SMTP is reported as not_smtp without echoing what it sent.
. "$(dirname "$0")/lib.sh"
tr_require swaks swaks
CTL="$TR_BIN_CTL"
make_ca "$T/ca" || exit 1
p_up=$(free_port); start_upstream up "$p_up" implicit --auth u:Up-s3cret-pw --log-sessions
p_def=$(free_port); start_upstream def "$p_def" implicit

# A far end that is not SMTP (a Redis-like error line, then internal data).
p_fake=$(free_port)
"$PYTHON3" - "$p_fake" "$T/fake.ready" > "$T/fake.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(60)
open(sys.argv[2], "w").write("ready\n")
for _ in range(8):
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.sendall(b"-ERR wrong number of arguments internal-secret-ZQX\r\n\x00\x01\x02binary")
    time.sleep(0.2); c.close()
PY
tr_track $!
wait_for 10 test -s "$T/fake.ready"

TR_PORT=$(free_port); export TR_PORT
STRICT="$T/strict.conf"; OPEN="$T/open.conf"
# Public unicast only (the default); the upstream's port is allowed so that
# delivery is refused for its address alone.
write_conf "$STRICT" "tenant_route_policy = { extra_networks = [ ]; ports = [ 25, 465, 587, 2525, $p_up ]; };
retry = { schedule = [ 1 ]; };"
set_default_route "$STRICT" "host = \"127.0.0.1\"; port = $p_def; tls = \"implicit\";
  sender = \"notifications@platform.test\"; ca_file = \"$T/ca/ca.pem\";"
write_conf "$OPEN" "tenant_route_policy = { extra_networks = [ \"127.0.0.0/8\", \"::1/128\", \"10.0.0.0/8\", \"169.254.0.0/16\" ];
  ports = [ 25, 465, 587, 2525, 6379, $p_up, $p_def, $p_fake ]; };"
TR_CONF="$STRICT" tr_ctl key init > /dev/null 2>&1
up_conns=$(grep -c ' connect ' "$T/up.log")   # start_upstream's own readiness check

# --- refused: tenant set (with and without --no-test) and test --------------
check_refused() {  # check_refused HOST PORT RULE-TEXT
    local h=$1 port=$2 rule=$3 rc
    "$CTL" -c "$STRICT" tenant set bad --host "$h" --port "$port" --sender n@bad.test --no-test \
        > "$T/set.out" 2> "$T/set.err" < /dev/null
    rc=$?
    ok "tenant set --host $h --port $port --no-test: exit 65 naming the rule ($rule)" \
        bash -c '[ "$0" = 65 ] && grep -qF -- "$1" "$2" && grep -q "route_policy" "$2"' "$rc" "$rule" "$T/set.err"
    "$CTL" -c "$STRICT" tenant set bad --host "$h" --port "$port" --sender n@bad.test \
        > "$T/set2.out" 2> "$T/set2.err" < /dev/null
    ok "tenant set --host $h --port $port (probe): exit 65" test "$?" = 65
    "$CTL" -c "$STRICT" --json test --host "$h" --port "$port" --sender s@bad.test --timeout 3 \
        > "$T/test.json" 2> "$T/test.err" < /dev/null
    rc=$?
    ok "test --host $h --port $port: exit 65, code route_policy, rule in the connect step" \
        "$PYTHON3" -c 'import json,sys
d = json.load(open(sys.argv[1]))
st = [s for s in d["steps"] if s["step"] == "connect"][0]
assert sys.argv[3] == "65", sys.argv[3]
assert d["code"] == "route_policy", d["code"]
assert not st["ok"] and sys.argv[2] in st["detail"]["error"], st' "$T/test.json" "$rule" "$rc"
}
check_refused 127.0.0.1 587 "127.0.0.1 is loopback (127.0.0.0/8)"
check_refused 10.1.2.3 587 "10.1.2.3 is private (10.0.0.0/8)"
check_refused 169.254.169.254 587 "169.254.169.254 is link-local (169.254.0.0/16)"
check_refused '[::1]' 587 "::1 is loopback (::1/128)"
check_refused '[::ffff:10.0.0.1]' 587 "::ffff:10.0.0.1 is private (10.0.0.0/8)"
check_refused localhost 587 "is loopback"
check_refused 1.1.1.1 6379 "port 6379 is not in tenant_route_policy.ports (25, 465, 587, 2525, $p_up)"
check_refused 10.0.0.5 6379 "port 6379 is not in tenant_route_policy.ports"
check_refused no-such-host.invalid 6379 "port 6379 is not in tenant_route_policy.ports"
ok "nothing was saved" bash -c '! "$0" -c "$1" tenant show bad > /dev/null 2>&1' "$CTL" "$STRICT"
chown 1 "$T/etc/master.key"
"$CTL" -c "$STRICT" --json audit > "$T/owner.json" 2>/dev/null
ok "audit: a keyring owned by another user is a finding (key_file_owner)" "$PYTHON3" -c 'import json,sys
assert any(f["code"] == "key_file_owner" for f in json.load(open(sys.argv[1]))["findings"])' "$T/owner.json"
chown 0 "$T/etc/master.key"
ok "the policy refused before any connection: the upstream saw none" \
    test "$(grep -c ' connect ' "$T/up.log")" = "$up_conns"

# --- the same settings pass once the policy allows them ----------------------
for h in 127.0.0.1 10.1.2.3 169.254.169.254 '[::1]' '[::ffff:10.0.0.1]' localhost; do
    "$CTL" -c "$OPEN" tenant set bad --host "$h" --port 587 --sender n@bad.test --no-test > /dev/null 2> "$T/ok.err"
    ok "allowed by extra_networks: tenant set --host $h saved" test "$?" = 0
done
"$CTL" -c "$OPEN" tenant set bad --host 10.0.0.5 --port 6379 --no-test > /dev/null 2> "$T/ok.err"
ok "allowed by ports: tenant set --port 6379 saved" test "$?" = 0
"$CTL" -c "$OPEN" tenant remove bad > /dev/null 2>&1
"$CTL" -c "$OPEN" --json test --host localhost --port "$p_def" --tls implicit --ca-file "$T/ca/ca.pem" \
    --sender s@acme.test --no-send --timeout 5 > "$T/open.json" 2>&1
ok "allowed: test --host localhost passes" test "$?" = 0
printf 'Up-s3cret-pw' | TR_CONF="$OPEN" tr_ctl tenant set acme --host localhost --port "$p_up" --tls implicit \
    --username u --password-stdin --sender n@acme.test --domain acme.test --ca-file "$T/ca/ca.pem" \
    > "$T/acme.out" 2>&1
ok "allowed: tenant set acme --host localhost with its probe saved" test "$?" = 0
probe_mails=$(count_eml "$T/up.mail")
probe_conns=$(grep -c ' connect ' "$T/up.log")
"$CTL" -c "$STRICT" --json test acme --no-send --timeout 3 > "$T/testid.json" 2>&1
ok "under the strict policy: test acme (stored route) -> 65 route_policy" \
    test "$?:$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$T/testid.json")" = "65:route_policy"
"$CTL" -c "$STRICT" --json audit > "$T/audit.json" 2>/dev/null
ok "under the strict policy: audit flags acme's route (finding route_policy)" "$PYTHON3" -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert any(f["code"] == "route_policy" and f["tenant"] == "acme" and "is loopback" in f["detail"] for f in d["findings"]), d["findings"]' "$T/audit.json"

# --- not SMTP: a short printable excerpt, never the far end's bytes ----------
"$CTL" -c "$OPEN" --json test --host 127.0.0.1 --port "$p_fake" --tls starttls --sender s@acme.test \
    --timeout 3 > "$T/fake.json" 2>&1
rc=$?
"$CTL" -c "$OPEN" test --host 127.0.0.1 --port "$p_fake" --tls starttls --sender s@acme.test \
    --timeout 3 > "$T/fake.txt" 2>&1
code=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$T/fake.json")
ok "not SMTP: exit 1 with code not_smtp" test "$rc:$code" = "1:not_smtp"
ok "not SMTP: nothing past a short excerpt is repeated (json and text)" \
    bash -c '! grep -q "internal-secret" "$0" "$1" && ! grep -q "arguments" "$0" "$1"' "$T/fake.json" "$T/fake.txt"
ok "not SMTP: the excerpt is printable" bash -c '! grep -qP "[\x00-\x08]" "$0"' "$T/fake.txt"

# --- delivery: the strict policy refuses acme's localhost at connect time ----
start_daemon "$STRICT"
ok "acme's message accepted by the listener" relay_send app@acme.test rcpt@example.test
ok "delivery deferred with route_policy naming the rule" \
    wait_for 20 grep -q 'tenant=acme .*status=deferred (route_policy: .*is loopback' "$T/daemon.log"
ok "a platform message accepted by the listener" relay_send app@platform.test rcpt@example.test
ok "the default route (exempt) still delivers to loopback" wait_eml "$T/def.mail" 1 20
sleep 2
ok "acme's upstream got nothing from delivery (no message)" test "$(count_eml "$T/up.mail")" = "$probe_mails"
ok "acme's upstream got nothing from delivery (no connection)" test "$(grep -c ' connect ' "$T/up.log")" = "$probe_conns"
ok "the deferral is in the events file too" grep -q '"status":"deferred".*route_policy' "$T/log/events.jsonl"
finish
