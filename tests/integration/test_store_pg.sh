#!/bin/bash
# A PostgreSQL tenant store shared by two nodes (SPEC §5, issue #16), against
# a real PostgreSQL 15 this test starts itself (initdb into $T as nobody,
# loopback port, stopped and started by PID; never the system cluster):
#  - store init creates the schema and is idempotent; store status shows it;
#  - a tenant set through node A's configuration reaches node B's deliveries
#    without a reload (the delay is measured and printed, not asserted);
#  - no plaintext secret reaches the database, the snapshots or the logs;
#  - database stopped: both nodes keep delivering the known tenant through
#    its own upstream, an unknown tenant gets 451, status and logs show the
#    staleness; node B restarted during the outage starts from its snapshot;
#  - database back: both reconcile, and a change through B reaches A;
#  - two concurrent tenant sets from the two nodes on one tenant: one saves,
#    the other exits 75, and run again it saves too (no update lost);
#  - the milter serves the same store.
. "$(dirname "$0")/lib.sh"
tr_require swaks swaks
CTL="$TR_BIN_CTL"
PW='Acme-Pg-s3cret-77'
PW2='Beta-Pg-s3cret-88'

make_ca "$T/ca" || exit 1
PGP=$(free_port)
pg_start "$T/pg" "$PGP" || exit 1
URI=$(pg_uri "$T/pg" "$PGP")
p_defa=$(free_port); p_defb=$(free_port); p_acme=$(free_port); p_beta=$(free_port)
start_upstream defa "$p_defa" implicit
start_upstream defb "$p_defb" implicit
start_upstream acme "$p_acme" starttls --auth "acme-user:$PW"
start_upstream beta "$p_beta" starttls --auth "beta-user:$PW2"
mkdir -p "$T/etc"

. "$(dirname "$0")/pg_nodes.sh"
PA=$(free_port); PB=$(free_port); MA=$(free_port); MB=$(free_port)
node_conf a "$PA" "$p_defa" "$MA"
node_conf b "$PB" "$p_defb" "$MB"
# Node B's URI carries a password (the server trusts loopback and ignores
# it): it must never be logged.
URIPW='Uri-s3cret-pw-5'
sed -i "s|^tenant_store = \"postgresql://trelay@|tenant_store = \"postgresql://trelay:$URIPW@|" "$T/b.conf"
A=(-c "$T/a.conf"); B=(-c "$T/b.conf")
. "$(dirname "$0")/race_lib.sh"

# --- schema ----------------------------------------------------------------------------------
ok "store init creates the schema: 0" bash -c '"$0" -c "$1" store init > "$2" 2>&1' "$CTL" "$T/a.conf" "$T/init1.out"
ok "  schema 0 -> 2" grep -q 'schema version 0 -> 2' "$T/init1.out"
"$CTL" "${B[@]}" store init > "$T/init2.out" 2>&1
ok "store init again (other node): 0, nothing changed" test "$?:$(grep -c "up to date" "$T/init2.out")" = "0:1"
ok "store status: schema 2, version 0" \
    test "$("$CTL" "${B[@]}" --json store status | jget '(d["schema_version"], d["version"], d["tenants"])')" = "(2, 0, 0)"
"$CTL" "${A[@]}" key init > /dev/null 2>&1
[ "$(id -u)" = 0 ] && chown -R nobody "$T/etc"

start_node a && start_node b
ok "both nodes started on the empty store" bash -c 'grep -q "loaded from PostgreSQL version=0" "$0" && grep -q "loaded from PostgreSQL version=0" "$1"' \
    "$T/a/daemon.log" "$T/b/daemon.log"

# --- live propagation: a set through A reaches B's deliveries without a reload --------------
printf '%s\n' "$PW" | "$CTL" "${A[@]}" tenant set acme --host 127.0.0.1 --port "$p_acme" --tls starttls \
    --username acme-user --password-stdin --sender mailer@acme.test --domain acme.test \
    --ca-file "$T/ca/ca.pem" > "$T/set_acme.out" 2>&1
rc=$?
t1=$(date +%s%N)
ok "tenant set acme through node A (probe passed): 0" test "$rc" = 0
n0=$(count_eml "$T/acme.mail")        # the probe's test message
# Poll B's log at 10 ms steps (bounded: 10 s) for the version the set made.
for i in $(seq 1 1000); do grep -q "tenant store version=1 " "$T/b/daemon.log" && break; sleep 0.01; done
t2=$(date +%s%N)
ok "node B applied version 1 (no reload)" bash -c 'grep -q "tenant store version=1 " "$0" && ! grep -q reloaded "$0"' "$T/b/daemon.log"
echo "# propagation: node B applied the change $(( (t2 - t1) / 1000000 )) ms after tenant set returned (upper bound; 10 ms polling)"
ok "a message for acme through node B: accepted" test "$(send "$PB" acme)" = 250
ok "  and delivered through acme's upstream, logged in as acme" wait_eml "$T/acme.mail" $((n0 + 1)) 20
ok "  with acme's sender and login" \
    bash -c 'grep -q "\"mail_from\": \"mailer@acme.test\"" "$0" && grep -q "\"auth_user\": \"acme-user\"" "$0"' "$T/acme.mail/00000$((n0 + 1)).json"
ok "a message for acme through node A: accepted too" test "$(send "$PA" acme)" = 250
wait_eml "$T/acme.mail" $((n0 + 2)) 20
ok "  both at acme's upstream, none at the default routes" \
    test "$(count_eml "$T/acme.mail"):$(count_eml "$T/defa.mail"):$(count_eml "$T/defb.mail")" = "$((n0 + 2)):0:0"
wait_for 10 bash -c '"$0" -c "$1" --json store status | grep -q node-b' "$CTL" "$T/a.conf"
"$CTL" "${A[@]}" --json store status > "$T/status1.json"
ok "store status lists both nodes at version 1" \
    test "$(jget '[(n["node"], n["version"]) for n in d["nodes"]]' < "$T/status1.json")" = "[('node-a.test/tenantrelayd', 1), ('node-b.test/tenantrelayd', 1)]"
ok "each node wrote its snapshot to its spool" wait_for 10 test -d "$T/a/spool/store/v1" -a -d "$T/b/spool/store/v1"

# --- no plaintext secret in the database, the snapshots, the logs ---------------------------
pg_sql "$T/pg" "$PGP" "SELECT string_agg(t::text, ' ') FROM tr_tenants t" > "$T/db_dump.txt"
pg_sql "$T/pg" "$PGP" "SELECT string_agg(c::text, ' ') FROM tr_changes c" >> "$T/db_dump.txt"
ok "the database holds acme's sealed token (trv1:...)" grep -q 'trv1:' "$T/db_dump.txt"
ok "the password is nowhere in the database, snapshots, logs or outputs" \
    bash -c '! grep -rqF "$0" "$1/db_dump.txt" "$1/a" "$1/b" "$1"/*.out "$1/pg/server.log"' "$PW" "$T"
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants SET password = 'plain'" > /dev/null 2>&1
ok "a plaintext password is refused by the database itself" test $? != 0

# --- the database stops -----------------------------------------------------------------------
pg_stop
ok "database stopped" test -n "$TR_EXIT"
ok "both nodes notice and log the staleness" \
    wait_for 20 bash -c 'grep -q "tenant store stale" "$0" && grep -q "tenant store stale" "$1"' "$T/a/daemon.log" "$T/b/daemon.log"
ok "status shows it (node A)" bash -c '"$0" -c "$1" status | grep -q STALE' "$CTL" "$T/a.conf"
ok "status --json: stale true (node B)" \
    test "$("$CTL" "${B[@]}" --json status | jget 'd["store"]["stale"]')" = True
n0=$(count_eml "$T/acme.mail")
ok "outage: acme through node A: accepted" test "$(send "$PA" acme)" = 250
ok "outage: acme through node B: accepted" test "$(send "$PB" acme)" = 250
ok "  both delivered through acme's own upstream" wait_eml "$T/acme.mail" $((n0 + 2)) 20
ok "outage: an unknown tenant through node A: 451" test "$(send "$PA" ghost)" = 451
ok "outage: an unknown tenant through node B: 451" test "$(send "$PB" ghost)" = 451
ok "  nothing went to a default route" test "$(count_eml "$T/defa.mail"):$(count_eml "$T/defb.mail")" = "0:0"

stop_node b
ok "node B stopped during the outage" test "$TR_EXIT" = 0
ok "node B restarts during the outage" start_node b
ok "  from its snapshot (logged, with its age)" grep -q "started from the snapshot version=1 tenants=1" "$T/b/daemon.log"
n0=$(count_eml "$T/acme.mail")
ok "  and delivers acme through acme's upstream" test "$(send "$PB" acme)" = 250
ok "  (arrived)" wait_eml "$T/acme.mail" $((n0 + 1)) 20
ok "  an unknown tenant still gets 451" test "$(send "$PB" ghost)" = 451
PC=$(free_port)
node_conf c "$PC" "$p_defa" "$(free_port)"
"$TR_BIN_DAEMON" -f -c "$T/c.conf" > "$T/c/daemon.log" 2>&1 &
CP=$!; tr_track $CP
wait_exit $CP 30
ok "a new node without a snapshot refuses to start during the outage (78), never with an empty store" \
    test "$TR_EXIT:$(grep -c "no snapshot of the tenant store" "$T/c/daemon.log")" = "78:1"
ok "a write during the outage fails cleanly (69, nothing saved)" \
    bash -c '"$0" -c "$1" tenant disable acme > /dev/null 2>&1; [ $? = 69 ]' "$CTL" "$T/a.conf"

# --- the database returns: both reconcile ----------------------------------------------------
pg_start "$T/pg" "$PGP"
ok "database back: node A reconciles" wait_for 30 grep -q "tenant store reachable again" "$T/a/daemon.log"
ok "database back: node B reconciles" wait_for 30 grep -q "tenant store reachable again" "$T/b/daemon.log"
ok "status: not stale any more (node B)" \
    wait_for 10 bash -c '[ "$("$0" -c "$1" --json status | "$2" -c "import json,sys; print(json.load(sys.stdin)[\"store\"][\"stale\"])")" = False ]' "$CTL" "$T/b.conf" "$PYTHON3"
printf '%s\n' "$PW2" | "$CTL" "${B[@]}" tenant set beta --host 127.0.0.1 --port "$p_beta" --tls starttls \
    --username beta-user --password-stdin --sender mailer@beta.test --ca-file "$T/ca/ca.pem" > "$T/set_beta.out" 2>&1
ok "tenant set beta through node B: 0" test $? = 0
ok "  node A applies it" wait_for 10 grep -q "tenant store version=2 " "$T/a/daemon.log"
ok "  and delivers beta's mail through beta's upstream" test "$(send "$PA" beta)" = 250
ok "  (arrived)" wait_eml "$T/beta.mail" 1 20
ok "an unknown tenant now takes the default route again (store read whole)" test "$(send "$PA" ghost)" = 250

# --- two concurrent sets from the two nodes on one tenant ------------------------------------
# A gate in front of acme's upstream holds both probes until both are in
# flight (ordering by events, not timing).
gp=$(free_port)
gate_start "$gp" "$p_acme"
"$CTL" "${A[@]}" tenant set acme --port "$gp" > "$T/via_gate.out" 2>&1
ok "acme now behind the gate (tested): 0" test $? = 0
gate_shut
h0=$GATE_HELD0
"$CTL" "${A[@]}" tenant set acme --sender mailer2@acme.test > "$T/race_a.out" 2>&1 < /dev/null &
RA=$!; tr_track $RA
"$CTL" "${B[@]}" tenant set acme --host localhost > "$T/race_b.out" 2>&1 < /dev/null &
RB=$!; tr_track $RB
ok "both sets are probing at once" wait_for 30 bash -c '[ "$(grep -c held "$0")" -ge $(( $1 + 2 )) ]' "$T/gate.log" "$h0"
gate_release $RA; ea=$TR_EXIT
wait_exit $RB 60; eb=$TR_EXIT
ok "one set saved, the other exited 75 (got A=$ea B=$eb)" test "$(printf '%s\n' "$ea" "$eb" | sort | tr '\n' ' ')" = "0 75 "
"$CTL" "${A[@]}" --json tenant show acme > "$T/acme_race.json"
ok "  exactly one of the two changes is in the store" \
    test "$(jget '(d["sender"] == "mailer2@acme.test") != (d["host"] == "localhost")' < "$T/acme_race.json")" = True
ok "  the loser says nothing was saved" grep -q 'nothing saved' "$T/race_a.out" "$T/race_b.out"
if [ "$ea" = 75 ]; then again=(-c "$T/a.conf" tenant set acme --sender mailer2@acme.test); else again=(-c "$T/b.conf" tenant set acme --host localhost); fi
ok "  the loser run again saves: 0" bash -c '"$0" "${@}" > /dev/null 2>&1' "$CTL" "${again[@]}"
"$CTL" "${A[@]}" --json tenant show acme > "$T/acme_race.json"
ok "  no update lost: both changes in the store" \
    test "$(jget '(d["sender"], d["host"])' < "$T/acme_race.json")" = "('mailer2@acme.test', 'localhost')"
ok "the change log has one row per write" \
    test "$(pg_sql "$T/pg" "$PGP" "SELECT count(*) = max(version) FROM tr_changes")" = t

# --- key rotate re-seals every token in one transaction; the nodes follow ------------------
"$CTL" "${A[@]}" key rotate > "$T/rotate.out" 2>&1
ok "key rotate through node A: 0" test $? = 0
[ "$(id -u)" = 0 ] && chown -R nobody "$T/etc"     # the shared keyring, for the service user
"$CTL" "${A[@]}" tenant set acme --rate-limit 3 --no-test > /dev/null 2>&1
v=$(pg_sql "$T/pg" "$PGP" "SELECT version FROM tr_meta")
ok "  node B applies the re-sealed store (version $v) and reloads the changed keyring with it" \
    wait_for 10 bash -c 'grep -q "tenant store version=$1 " "$0" && grep -q "keyring reloaded with the tenant store" "$0"' "$T/b/daemon.log" "$v"
n0=$(count_eml "$T/acme.mail")
ok "  acme through node B: accepted" test "$(send "$PB" acme)" = 250
ok "  delivered, logged in with the token sealed under the new key" wait_eml "$T/acme.mail" $((n0 + 1)) 20

# --- the milter reads the same store ---------------------------------------------------------
"$TR_BIN_MILTER" -f -c "$T/a.conf" >> "$T/a/milter.log" 2>&1 &
MP=$!; tr_track $MP
ok "the milter starts on the PostgreSQL store" wait_for 20 grep -q "tenant store loaded from PostgreSQL version=" "$T/a/milter.log"
ok "  it reports as a node" wait_for 10 bash -c '"$0" -c "$1" --json store status | grep -q "node-a.test/tenantrelay-milter"' "$CTL" "$T/a.conf"
"$CTL" "${B[@]}" tenant disable beta > /dev/null 2>&1
v=$(pg_sql "$T/pg" "$PGP" "SELECT version FROM tr_meta")
ok "  and applies a change made through node B (version $v)" wait_for 10 grep -q "tenant store version=$v " "$T/a/milter.log"
tr_require miltertest miltertest
out=$(timeout 60 miltertest -D sock="inet:$MA@127.0.0.1" -D phase=acme -D label=pg -D dir="$T" \
    -s "$TR_TESTS/milter_cases.lua" 2>&1)
echo "$out" > "$T/miltertest.out"
ok "  miltertest: acme's mail (by its domain in the store) is stamped acme" grep -q '^PASS pg: acme stamped' "$T/miltertest.out"
kill -TERM $MP; wait_exit $MP 20

# --- a removal propagates too (the incremental reconcile drops the row) ----------------------
"$CTL" "${A[@]}" tenant remove beta > /dev/null 2>&1
v=$(pg_sql "$T/pg" "$PGP" "SELECT version FROM tr_meta")
ok "tenant remove beta through node A: node B applies it (version $v, 1 tenant)" \
    wait_for 10 grep -q "tenant store version=$v tenants=1" "$T/b/daemon.log"
nd=$(count_eml "$T/defb.mail")
ok "  beta's mail through node B now takes the default route" test "$(send "$PB" beta)" = 250
ok "  (arrived at B's default upstream)" wait_eml "$T/defb.mail" $((nd + 1)) 20

stop_node a; stop_node b
ok "no temp snapshot left behind" test -z "$(find "$T/a/spool/store" "$T/b/spool/store" -name '*.tmp*')"
ok "the milter wrote its snapshot too (no warning)" bash -c '! grep -q "snapshot not written" "$0"' "$T/a/milter.log"
ok "the passwords (and the one in B's URI) are in no log, snapshot or output" \
    bash -c '! grep -rqF -e "$0" -e "$1" -e "$3" "$2/a" "$2/b" "$2"/*.out "$2/pg/server.log"' "$PW" "$PW2" "$T" "$URIPW"
ok "  B's log names its store without the password" grep -q "path=postgresql://trelay:\*\*\*@127.0.0.1" "$T/b/daemon.log"
pg_stop
finish
