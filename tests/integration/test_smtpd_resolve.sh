#!/bin/bash
# Tenant resolution at acceptance, through the real daemon and a real
# tenant store: header, sender address, sender domain, conflicting headers,
# unknown and disabled tenants under each unknown_tenant; the tenant is
# recorded in the spool and every tenant header removed from the message.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
TR_PORT=$(free_port)
export TR_PORT
mkdir -p "$T/etc"
cat > "$T/etc/tenants" <<'STORE'
tenants = (
  { id = "acme"; host = "smtp.acme.example"; sender = "n@acme.example";
    domains = [ "acme.example" ]; addresses = [ "billing@other.example" ]; },
  { id = "beta"; host = "smtp.beta.example"; sender = "n@beta.example"; enabled = false;
    domains = [ "beta.example" ]; },
  { id = "zed"; host = "smtp.zed.example"; sender = "n@zed.example"; }
);
STORE
write_conf "$T/relay.conf"
start_daemon "$T/relay.conf"
ok "the daemon loads the tenant store" grep -q 'tenant store loaded path=.* tenants=3' "$T/daemon.log"

send() {  # send FROM [header lines...]: prints the final reply (code and text)
    local from=$1
    shift
    local args=()
    for h in "$@"; do args+=(--add-header "$h"); done
    swaks --server "127.0.0.1:$TR_PORT" --from "$from" --to user@example.test "${args[@]}" \
        --body "resolution test" --timeout 10 2>&1 | grep -E '^<(-|~|\*\*) +[2-5][0-9][0-9] ' | tail -n 2 | head -n 1 \
        | sed -E 's/^<[-~*]* +//'
}
env_of() { grep -Eo 'queued as [0-9A-Z]{16}' <<< "$1" | awk '{print "'"$T"'/spool/queue/" $3 ".env"}'; }

r=$(send app@platform.test "X-Tenant-ID: acme")
e=$(env_of "$r")
ok "header: queued" test -s "$e"
ok "header: tenant acme recorded, source header" bash -c 'grep -q "^tenant acme$" "$0" && grep -q "^tenant_source header$" "$0"' "$e"
ok "header: every tenant header removed from the stored message" bash -c '! grep -qi "^x-tenant-id" "${0%.env}.msg"' "$e"

r=$(send billing@other.example)
e=$(env_of "$r")
ok "sender address: tenant acme, source sender" bash -c 'grep -q "^tenant acme$" "$0" && grep -q "^tenant_source sender$" "$0"' "$e"
r=$(send news@acme.example)
e=$(env_of "$r")
ok "sender domain: tenant acme, source sender" bash -c 'grep -q "^tenant acme$" "$0" && grep -q "^tenant_source sender$" "$0"' "$e"
r=$(send news@Acme.Example "x-tenant-id: ACME" "X-TENANT-ID: acme")
e=$(env_of "$r")
ok "the same id in several headers, any case: acme" grep -q '^tenant acme$' "$e"
ok "...and all of those headers removed" bash -c '! grep -qi "tenant-id" "${0%.env}.msg"' "$e"

r=$(send app@platform.test "X-Tenant-ID: acme" "X-Tenant-ID: zed")
ok "two different tenant ids -> 550 5.7.1 ($r)" grep -q '^550 5.7.1' <<< "$r"
r=$(send app@platform.test "From: a@platform.test" "From: b@platform.test")
ok "two From: headers -> 550 5.6.0 ($r)" grep -q '^550 5.6.0' <<< "$r"

r=$(send app@platform.test)
e=$(env_of "$r")
ok "no tenant: default route (no tenant line)" bash -c '! grep -q "^tenant " "$0" && grep -q "^tenant_source none$" "$0"' "$e"
r=$(send app@platform.test "X-Tenant-ID: nope")
e=$(env_of "$r")
ok "unknown tenant, unknown_tenant = default: queued for the default route" bash -c '[ -s "$0" ] && ! grep -q "^tenant " "$0"' "$e"
r=$(send app@platform.test "X-Tenant-ID: beta")
e=$(env_of "$r")
ok "disabled tenant, unknown_tenant = default: default route" bash -c '[ -s "$0" ] && ! grep -q "^tenant " "$0"' "$e"

echo 'unknown_tenant = "reject";' >> "$T/relay.conf"
kill -HUP "$TR_DAEMON_PID"
wait_for 10 grep -q "reloaded configuration" "$T/daemon.log"
r=$(send app@platform.test "X-Tenant-ID: nope")
ok "unknown tenant, unknown_tenant = reject -> 550 5.7.1 ($r)" grep -q "^550 5.7.1 Error: tenant 'nope' is unknown" <<< "$r"
r=$(send x@beta.example)
ok "disabled tenant (by sender), reject -> 550 5.7.1 ($r)" grep -q "^550 5.7.1 Error: tenant 'beta' is disabled" <<< "$r"
r=$(send app@platform.test "X-Tenant-ID: zed")
ok "a known tenant still passes under reject" grep -q '^250 2.0.0 Ok: queued' <<< "$r"

sed -i 's/unknown_tenant = "reject";/unknown_tenant = "tempfail";/' "$T/relay.conf"
n=$(grep -c "reloaded configuration" "$T/daemon.log")
kill -HUP "$TR_DAEMON_PID"
wait_for 10 bash -c '[ "$(grep -c "reloaded configuration" "$0")" -gt "$1" ]' "$T/daemon.log" "$n"
r=$(send app@platform.test "X-Tenant-ID: nope")
ok "unknown tenant, unknown_tenant = tempfail -> 451 4.7.1 ($r)" grep -q "^451 4.7.1" <<< "$r"

# A new tenant in the store is picked up on reload.
sed -i 's/^);$/  , { id = "newco"; host = "smtp.newco.example"; sender = "n@newco.example"; }\n);/' "$T/etc/tenants"
n=$(grep -c "reloaded configuration" "$T/daemon.log")
kill -HUP "$TR_DAEMON_PID"
wait_for 10 bash -c '[ "$(grep -c "reloaded configuration" "$0")" -gt "$1" ]' "$T/daemon.log" "$n"
r=$(send app@platform.test "X-Tenant-ID: newco")
e=$(env_of "$r")
ok "a tenant added to the store is known after a reload" grep -q '^tenant newco$' "$e"

"$TR_BIN_CTL" -c "$T/relay.conf" queue list --tenant acme --json > "$T/acme.json"
ok "queue list --tenant acme lists only acme's 4 messages" "$PYTHON3" -c '
import json, sys
m = json.load(open(sys.argv[1]))["messages"]
assert len(m) == 4 and all(x["tenant"] == "acme" for x in m), m
' "$T/acme.json"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
