#!/bin/bash
# One table of tenant-store cases run twice: against the file store and
# against a PostgreSQL store (a real PostgreSQL 15 this test starts itself as
# nobody, never the system cluster).  Each case is a tenantrelayctl command,
# its expected exit status and a check of what the store then shows; both
# backends must give the same answers.  Then, per backend, the audit finds a
# token tampered with and two tokens swapped between tenants (the AEAD's
# associated data binds tenant and field), and `store import` copies a file
# store into an empty PostgreSQL store in one transaction (and refuses a
# store that is not empty, changing nothing).
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
PW='Backend-s3cret-42'

PGP=$(free_port)
pg_start "$T/pg" "$PGP" || exit 1
URI=$(pg_uri "$T/pg" "$PGP")
mkdir -p "$T/etc" "$T/log"

conf_for() {  # conf_for NAME STORE: a configuration using that tenant store
    cat > "$T/$1.conf" <<CONF
hostname = "relay.test";
user = "nobody";
spool_directory = "$T/spool-$1";
control_socket = "$T/run-$1.sock";
tenant_store = "$2";
change_log = "$T/log/$1-changes.log";
key_file = "$T/etc/master.key";
default_route = { host = "127.0.0.1"; port = 2465; tls = "implicit"; sender = "n@platform.test"; };
CONF
}
conf_for file "$T/etc/tenants"
conf_for pg "$URI"
"$CTL" -c "$T/file.conf" key init > /dev/null 2>&1
"$CTL" -c "$T/pg.conf" store init > /dev/null
jget() { "$PYTHON3" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# The cases: "exit status | tenantrelayctl arguments | python expression over
# the JSON of `tenant list` (d) that must print True".  '-' skips the check.
read -r -d '' CASES <<'EOF'
0|tenant set t1 --host mx.t1.test --sender s@t1.test --domain t1.test --no-test|[t["id"] for t in d["tenants"]] == ["t1"]
0|tenant set t2 --host mx.t2.test --port 465 --sender s@t2.test --address a@t9.test --no-test|[(t["id"], t["tls"]) for t in d["tenants"]] == [("t1", "starttls"), ("t2", "implicit")]
65|tenant set t3 --host mx.t3.test --sender s@t3.test --domain t1.test --no-test|len(d["tenants"]) == 2
65|tenant set t3 --host mx.t3.test --sender s@t3.test --address a@t9.test --no-test|len(d["tenants"]) == 2
65|tenant set default --host mx.test --sender s@x.test --no-test|len(d["tenants"]) == 2
64|tenant set t3 --sender s@t3.test --no-test|len(d["tenants"]) == 2
0|tenant set t1 --username u1 --password-stdin --no-test|d["tenants"][0]["password"].startswith("sealed (key ")
0|tenant set t1 --port 2525 --no-test|(d["tenants"][0]["port"], d["tenants"][0]["username"]) == (2525, "u1")
0|tenant set t1 --port 2525 --no-test|d["tenants"][0]["port"] == 2525
0|tenant disable t1|d["tenants"][0]["enabled"] is False
0|tenant disable t1|d["tenants"][0]["enabled"] is False
0|tenant enable t1|d["tenants"][0]["enabled"] is True
65|tenant remove nosuch|len(d["tenants"]) == 2
65|tenant show nosuch|-
0|tenant show t2|-
0|key rotate|d["tenants"][0]["password"].startswith("sealed (key ")
0|tenant set t2 --domain t2.test --domain t2b.test --no-test|d["tenants"][1]["domains"] == ["t2.test", "t2b.test"]
0|tenant set t3 --host mx.t3.test --sender s@t3.test --domain t1b.test --no-test|len(d["tenants"]) == 3
0|tenant remove t3|[t["id"] for t in d["tenants"]] == ["t1", "t2"]
0|tenant set t4 --host mx.t4.test --sender s@t4.test --domain t1b.test --no-test|[t["id"] for t in d["tenants"]] == ["t1", "t2", "t4"]
0|tenant set t4 --username u4 --password-stdin --no-test|d["tenants"][2]["username"] == "u4"
EOF

run_cases() {  # run_cases NAME: every case against that backend
    local name=$1 n=0 status args check rc got
    while IFS='|' read -r status args check; do
        n=$((n + 1))
        # shellcheck disable=SC2086
        printf '%s\n' "$PW" | "$CTL" -c "$T/$name.conf" $args > "$T/$name.case$n.out" 2>&1
        rc=$?
        got=True
        if [ "$check" != - ]; then
            got=$("$CTL" -c "$T/$name.conf" --json tenant list | jget "$check" 2>&1)
        fi
        ok "$name: case $n: $args -> $rc (want $status), check $got" test "$rc:$got" = "$status:True"
        echo "$rc" >> "$T/$name.results"
    done <<< "$CASES"
}
run_cases file
run_cases pg
ok "both backends gave the same exit statuses" cmp -s "$T/file.results" "$T/pg.results"
strip() { jget 'json.dumps([{k: v for k, v in t.items() if k not in ("created", "updated", "verified", "password")} for t in d["tenants"]], sort_keys=True)'; }
ok "both backends hold the same records" \
    test "$("$CTL" -c "$T/file.conf" --json tenant list | strip)" = "$("$CTL" -c "$T/pg.conf" --json tenant list | strip)"
ok "the PostgreSQL change log has one row per version" \
    test "$(pg_sql "$T/pg" "$PGP" "SELECT count(*) = max(version) FROM tr_changes")" = t
pg_sql "$T/pg" "$PGP" "SELECT string_agg(c::text, ' ') FROM tr_changes c" > "$T/changes.txt"
ok "  its rows name fields, never values" bash -c '! grep -q -e trv1 -e "$0" "$1"' "$PW" "$T/changes.txt"
pg_sql "$T/pg" "$PGP" "SELECT string_agg(t::text, ' ') FROM tr_tenants t" > "$T/tenants.txt"
ok "the database holds sealed tokens only" bash -c 'grep -q trv1: "$1" && ! grep -qF "$0" "$1"' "$PW" "$T/tenants.txt"
ok "the password is nowhere in clear (file store, change logs, outputs)" \
    bash -c '! grep -rqF "$0" "$1/etc" "$1/log" "$1"/*.out' "$PW" "$T"

# --- the audit finds tampered and swapped tokens, in either backend --------------------------
audit_codes() {  # audit_codes NAME: "tenant:code" of each finding about a secret
    "$CTL" -c "$T/$1.conf" --json audit | jget '" ".join(sorted(f["tenant"] + ":" + f["code"] for f in d["findings"] if f["code"] == "secret_unopenable"))'
}
ok "file: the audit finds every secret opening" test -z "$(audit_codes file)"
ok "pg: the audit finds every secret opening" test -z "$(audit_codes pg)"
# Swap t1's and t4's tokens: each is a valid token, sealed for the other tenant.
"$PYTHON3" - "$T/etc/tenants" <<'PY'
import glob, re, sys
files = glob.glob(sys.argv[1] + "/*.conf")
text = {f: open(f).read() for f in files}
tok = {}
for f, s in text.items():
    for m in re.finditer(r'id = "(t1|t4)";.*?password = "(trv1:[^"]+)"', s, re.S):
        tok[m.group(1)] = m.group(2)
for f, s in text.items():
    s = s.replace(tok["t1"], "@T1@").replace(tok["t4"], tok["t1"]).replace("@T1@", tok["t4"])
    open(f, "w").write(s)
PY
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants a SET password = b.password FROM tr_tenants b WHERE a.id IN ('t1', 't4') AND b.id IN ('t1', 't4') AND a.id <> b.id" > /dev/null
ok "file: tokens swapped between two tenants: both found" test "$(audit_codes file)" = "t1:secret_unopenable t4:secret_unopenable"
ok "pg: tokens swapped between two rows: both found" test "$(audit_codes pg)" = "t1:secret_unopenable t4:secret_unopenable"
"$CTL" -c "$T/file.conf" audit > /dev/null 2>&1
ok "file: the audit exits 1 on them" test $? = 1
"$CTL" -c "$T/pg.conf" audit > /dev/null 2>&1
ok "pg: the audit exits 1 on them" test $? = 1
# One character of a ciphertext changed (t4), and that token copied to t1.
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants SET password = overlay(password placing (CASE WHEN substr(password, 30, 1) = 'A' THEN 'B' ELSE 'A' END) from 30 for 1) WHERE id = 't4'" > /dev/null
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants a SET password = b.password FROM tr_tenants b WHERE a.id = 't1' AND b.id = 't4'" > /dev/null
ok "pg: a tampered token is found" test "$(audit_codes pg)" = "t1:secret_unopenable t4:secret_unopenable"

# --- store import: a file store into an empty PostgreSQL store, one transaction --------------
PGP2=$(free_port)
TR_PG_FIRST=$TR_PG_PID
pg_start "$T/pg2" "$PGP2" || exit 1
conf_for pg2 "$(pg_uri "$T/pg2" "$PGP2")"
"$CTL" -c "$T/pg2.conf" store init > /dev/null
"$CTL" -c "$T/file.conf" tenant set t1 --password-stdin --no-test <<< "$PW" > /dev/null 2>&1
"$CTL" -c "$T/file.conf" tenant set t4 --password-stdin --no-test <<< "$PW" > /dev/null 2>&1
mkdir -p "$T/plainstore"
printf 'tenants = ( { id = "plain"; host = "mx.p.test"; sender = "s@p.test"; username = "u";\n  password = "Plain-pw-99"; } );\n' \
    > "$T/plainstore/shard-00.conf"
"$CTL" -c "$T/pg2.conf" store import "$T/plainstore" > "$T/import0.out" 2>&1
ok "store import of a store with a plaintext password: refused (65), naming the tenant" \
    test "$?:$(grep -c "tenant plain: its password is not a sealed token" "$T/import0.out")" = "65:1"
ok "  nothing imported" test "$(pg_sql "$T/pg2" "$PGP2" "SELECT count(*) FROM tr_tenants")" = 0
ok "  the password reached neither the output nor the database's log" \
    bash -c '! grep -q Plain-pw-99 "$0" "$1"' "$T/import0.out" "$T/pg2/server.log"
"$CTL" -c "$T/pg2.conf" store import "$T/etc/tenants" > "$T/import.out" 2>&1
ok "store import: 0, 3 tenants" test "$?:$(cat "$T/import.out")" = "0:imported 3 tenants from $T/etc/tenants"
ok "  the same records as the file store" \
    test "$("$CTL" -c "$T/file.conf" --json tenant list | strip)" = "$("$CTL" -c "$T/pg2.conf" --json tenant list | strip)"
ok "  the same sealed tokens (they open: no finding)" test -z "$(audit_codes pg2)"
ok "  one version, one change-log row" \
    test "$(pg_sql "$T/pg2" "$PGP2" "SELECT version || ':' || (SELECT count(*) FROM tr_changes) FROM tr_meta")" = "1:1"
"$CTL" -c "$T/pg2.conf" store import "$T/etc/tenants" > "$T/import2.out" 2>&1
ok "store import into a store that is not empty: refused (65), nothing changed" \
    test "$?:$(pg_sql "$T/pg2" "$PGP2" "SELECT version FROM tr_meta")" = "65:1"
echo 'tenants = ( { id = "broken"; ' > "$T/broken.conf"
"$CTL" -c "$T/pg.conf" store import "$T/broken.conf" > "$T/import3.out" 2>&1
ok "store import of a malformed file store: refused (65) with FILE:LINE" \
    test "$?:$(grep -c "broken.conf:[0-9]" "$T/import3.out")" = "65:1"
pg_stop
TR_PG_PID=$TR_PG_FIRST
pg_stop
finish
