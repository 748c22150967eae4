#!/bin/bash
# An OAuth2 tenant in the PostgreSQL tenant store (issues #16 and #14
# together), against a real PostgreSQL 15 this test starts itself (initdb
# into $T as nobody, loopback port, stopped by PID; never the system
# cluster) and a local Microsoft-style provider (oauth_upstream.py: an HTTPS
# token endpoint with its certificate from the test CA, and an SMTP server
# offering only XOAUTH2):
#  - tenant set through node A's configuration, with a client secret: the
#    probe's token step passes and the record goes into the database;
#  - node B, already running, applies it without a reload and delivers the
#    tenant's mail via AUTH XOAUTH2 with a token from the endpoint;
#  - the database holds the client secret sealed only (SELECT and pg_dump);
#    audit through the database finds it opening;
#  - database stopped, node B restarted: it starts from its snapshot (which
#    holds the OAuth2 record) and still delivers via XOAUTH2;
#  - the client secret and every issued access token are absent from the
#    database, its log, both nodes' spools (snapshots included), logs,
#    events, ps and the outputs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
CTL="$TR_BIN_CTL"

make_ca "$T/ca" || exit 1
PGP=$(free_port)
pg_start "$T/pg" "$PGP" || exit 1
URI=$(pg_uri "$T/pg" "$PGP")
start_ms_provider --mailbox box@acme.test || exit 1
p_defa=$(free_port); p_defb=$(free_port)
start_upstream defa "$p_defa" implicit
start_upstream defb "$p_defb" implicit
mkdir -p "$T/etc"

. "$(dirname "$0")/pg_nodes.sh"
PA=$(free_port); PB=$(free_port)
node_conf a "$PA" "$p_defa"
node_conf b "$PB" "$p_defb"
A=(-c "$T/a.conf"); B=(-c "$T/b.conf")

ok "store init: 0" bash -c '"$0" -c "$1" store init > "$2" 2>&1' "$CTL" "$T/a.conf" "$T/init.out"
"$CTL" "${A[@]}" key init > /dev/null 2>&1
[ "$(id -u)" = 0 ] && chown -R nobody "$T/etc"
ok "node B started on the empty store" start_node b

# --- tenant set through node A's configuration: probe with the token step -------------------
printf '%s\n' "$SECRET" | "$CTL" "${A[@]}" tenant set acme --host localhost --port "$sp" --tls implicit \
    --ca-file "$T/ca/ca.pem" --username box@acme.test --sender box@acme.test --domain acme.test \
    --auth xoauth2 --oauth-provider microsoft --oauth-token-url "$URL" --oauth-client-id "$CID" \
    --oauth-secret-stdin > "$T/set.out" 2> "$T/set.err"
ok "tenant set acme (xoauth2, client secret) into PostgreSQL passes its probe" test $? = 0
ok "  the probe shows the token step and AUTH XOAUTH2" \
    bash -c 'grep -q "^token *ok" "$0" && grep -q "mechanism=XOAUTH2" "$0"' "$T/set.out"
ok "  the row: auth xoauth2, provider, client id, the secret sealed, no password" \
    test "$(pg_sql "$T/pg" "$PGP" "SELECT auth, oauth_provider, oauth_client_id, oauth_client_secret LIKE 'trv1:%', password IS NULL FROM tr_tenants WHERE id = 'acme'")" = "xoauth2|microsoft|$CID|t|t"
"$CTL" "${A[@]}" --json tenant show acme > "$T/show.json" 2>&1
ok "  tenant show (read from the database): the client secret opens" \
    test "$(jget 'd["oauth"]["provider"], d["oauth"]["client_secret"]["opens"]' < "$T/show.json")" = "microsoft True"
"$CTL" "${A[@]}" --json audit > "$T/audit.json" 2>&1
ok "  audit through the database: no finding about acme" \
    test "$(jget '[f["code"] for f in d["findings"] if f.get("tenant") == "acme"]' < "$T/audit.json")" = "[]"

# --- node B delivers acme's mail via XOAUTH2 -------------------------------------------------
ok "node B applied the change (no reload)" wait_for 10 grep -q "tenant store version=1 " "$T/b/daemon.log"
before=$(provider_stat "$hp" 'd["token_requests"]')
n0=$(count_eml "$T/ms.mail")            # the probe's test message
ok "a message for acme through node B: accepted" test "$(send "$PB" acme)" = 250
ok "  delivered to the XOAUTH2 server" wait_eml "$T/ms.mail" $((n0 + 1)) 30
ok "  authenticated as the mailbox with a token from the endpoint (one request by node B)" \
    test "$(grep -l '"auth_user": "box@acme.test"' "$T"/ms.mail/*.json | wc -l):$(provider_stat "$hp" "d['token_requests'] - $before")" = "$((n0 + 1)):1"
ok "  no AUTH failed, nothing at the default route" \
    test "$(provider_stat "$hp" 'd["auth_failed"]'):$(count_eml "$T/defb.mail")" = "0:0"
ok "node B's snapshot holds the OAuth2 record, its secret sealed" \
    wait_for 10 bash -c 'grep -rq "client_secret = \"trv1:" "$0"/b/spool/store/v1' "$T"

# --- secrets in the database: sealed only ----------------------------------------------------
"$TR_PG_BIN/pg_dump" -h 127.0.0.1 -p "$PGP" -U trelay -d postgres > "$T/dump.sql" 2> "$T/dump.err"
ok "pg_dump of the database holds acme's sealed client secret" grep -q "trv1:" "$T/dump.sql"
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants SET oauth_client_secret = 'plain' WHERE id = 'acme'" > /dev/null 2>&1
ok "a plaintext client secret is refused by the database itself" test $? != 0

# --- database stopped: node B restarts from its snapshot and still delivers -----------------
pg_stop
ok "database stopped" test -n "$TR_EXIT"
stop_node b
ok "node B restarts during the outage" start_node b
ok "  from its snapshot, with the OAuth2 tenant" grep -q "started from the snapshot version=1 tenants=1" "$T/b/daemon.log"
n0=$(count_eml "$T/ms.mail")
before=$(provider_stat "$hp" 'd["token_requests"]')
ok "  and accepts acme's mail" test "$(send "$PB" acme)" = 250
ok "  (arrived)" wait_eml "$T/ms.mail" $((n0 + 1)) 30
ok "  via XOAUTH2 as the mailbox, with a new token (tokens live in memory only)" \
    test "$(grep -l '"auth_user": "box@acme.test"' "$T"/ms.mail/*.json | wc -l):$(provider_stat "$hp" "d['token_requests'] - $before")" = "$((n0 + 1)):1"

# --- the client secret and every token: absent everywhere ------------------------------------
provider_stat "$hp" '"\n".join(d["issued"])' > "$T/needles"
printf '%s\n' "$SECRET" >> "$T/needles"
ok "the needles list holds the secret and the tokens issued (probe, node B twice)" test "$(wc -l < "$T/needles")" -ge 4
ps -eo args > "$T/ps.txt"
ok "no secret or token in the database (pg_dump), its log, the nodes' spools and snapshots, logs, events, ps, outputs" \
    absent_everywhere "$T/needles" "$T/dump.sql" "$T/pg/server.log" "$T/a" "$T/b" "$T/etc" "$T/ps.txt" \
    "$T/set.out" "$T/set.err" "$T/show.json" "$T/audit.json"
stop_node b
finish
