#!/bin/bash
# The HTTP API over a PostgreSQL tenant store (the same store interface as
# the file store), against a real PostgreSQL 15 this test starts itself:
# a PUT with a wrong password is 422 and leaves the tables as they were; the
# right one is 200, one transaction whose change-log row names the token;
# the daemon's live snapshot picks it up and the tenant's mail goes out
# through its server; DELETE removes it; no plaintext secret in the database.
. "$(dirname "$0")/lib.sh"
tr_require curl curl
tr_require swaks swaks
PW='Http-Pg-s3cret-63'
make_ca "$T/ca" || exit 1
PGP=$(free_port)
pg_start "$T/pg" "$PGP" || exit 1
URI=$(pg_uri "$T/pg" "$PGP")
TR_PORT=$(free_port); TR_UPSTREAM_PORT=$(free_port); HP=$(free_port)
TR_CONF="$T/tr.conf"
write_conf "$TR_CONF" "http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; };
tenant_store_poll = 2;"
sed -i "s|^tenant_store = .*|tenant_store = \"$URI\";|" "$TR_CONF"
start_upstream def "$TR_UPSTREAM_PORT" implicit || exit 1
pa=$(free_port); start_upstream acme "$pa" starttls --auth "u@acme.test:$PW" || exit 1
tr_ctl store init > "$T/init.out" 2>&1
ok "store init" test $? = 0
tr_ctl key init > /dev/null 2>&1
TOKEN=$(tr_ctl api-token add ops 2>/dev/null)
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
wait_port "$HP" 10
U="http://127.0.0.1:$HP"
sql() { pg_sql "$T/pg" "$PGP" "$1"; }
put() { curl -s -o "$T/put.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" --data-binary "$1" "$U/v1/tenants/acme"; }
body() { printf '{"host": "localhost", "port": %d, "username": "u@acme.test", "password": "%s", "sender": "no-reply@acme.test", "ca_file": "%s", "domains": ["acme.test"]}' "$pa" "$1" "$T/ca/ca.pem"; }
tables() { sql "SELECT (SELECT count(*) FROM tr_tenants) || '/' || (SELECT count(*) FROM tr_changes) || '/' || (SELECT max(version) FROM tr_meta)"; }

before=$(tables)
ok "PUT with a wrong password: 422" test "$(put "$(body Not-the-password-1)")" = 422
ok "  the tables are as they were (tenants/changes/version)" test "$(tables)" = "$before"
ok "PUT with the right password: 200" test "$(put "$(body "$PW")")" = 200
ok "  one change-log row, naming the token" test "$(sql "SELECT usr || ' ' || action || ' ' || tenant FROM tr_changes ORDER BY version DESC LIMIT 1")" = "ops set acme"
ok "  the live snapshot serves it: GET 200" wait_true 20 '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN" "$U/v1/tenants/acme")" = 200 ]'
relay_send app@platform.test user@example.test --header 'X-Tenant-ID: acme'
ok "acme's mail goes out through acme's server" wait_eml "$T/acme.mail" 2 30
ok "/metrics shows the store's version" bash -c 'curl -s "$0/metrics" | grep -q "^tenantrelay_tenant_store_version [1-9]"' "$U"
ok "DELETE: 200" test "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$U/v1/tenants/acme")" = 200
ok "  its change-log row names the token" test "$(sql "SELECT usr || ' ' || action FROM tr_changes ORDER BY version DESC LIMIT 1")" = "ops remove"
ok "no plaintext password or token in the database" bash -c 'out=$("$0/pg_dump" -h 127.0.0.1 -p "$1" -U trelay postgres) && grep -q tr_tenants <<< "$out" && ! grep -q -F -e "$2" -e "$3" <<< "$out"' "$TR_PG_BIN" "$PGP" "$PW" "$TOKEN"
ok "no password or token in the daemon's log" bash -c '! grep -q -F -e "$0" -e "$1" "$2/daemon.log"' "$PW" "$TOKEN" "$T"
finish
