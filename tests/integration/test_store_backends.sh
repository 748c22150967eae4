#!/bin/bash
# One table of tenant-store cases run twice: against the file store and
# against a PostgreSQL store (a real PostgreSQL 15 this test starts itself as
# nobody, never the system cluster).  Each case is a tenantrelayctl command,
# its expected exit status and a check of what the store then shows; both
# backends must give the same answers.  Then, per backend, the audit finds a
# token tampered with and two tokens swapped between tenants (the AEAD's
# associated data binds tenant and field), and `store import` copies a file
# store into an empty PostgreSQL store in one transaction (and refuses a
# store that is not empty, changing nothing).  OAuth2 tenants (Microsoft
# with a client secret or a certificate, Google, generic) are in the same
# table; their secrets are sealed in both backends, and `store init`
# upgrades a schema-1 store (before OAuth2) in place.
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
# OAuth2 secrets of the OAuth2 cases: a certificate credential's key and
# a Google service-account JSON key (each sealed by tenant set).
tr_require openssl openssl
tr_require_python cryptography python3-cryptography
make_app_cert 200 || exit 1
make_service_account "$T/sa.json" || exit 1
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
0|tenant set o1 --host smtp.o1.test --port 587 --username box@o1.test --sender box@o1.test --domain o1.test --auth xoauth2 --oauth-provider microsoft --oauth-directory contoso.onmicrosoft.com --oauth-client-id @CID@ --oauth-secret-stdin --no-test|[(t["auth"], t["password"], t["oauth"]["provider"], t["oauth"]["directory"], t["oauth"]["client_id"], t["oauth"]["client_secret"]["state"]) for t in d["tenants"] if t["id"] == "o1"] == [("xoauth2", None, "microsoft", "contoso.onmicrosoft.com", "@CID@", "sealed")]
64|tenant set o2 --host smtp.o2.test --username box@o2.test --sender box@o2.test --auth xoauth2 --oauth-provider microsoft --oauth-directory contoso.onmicrosoft.com --oauth-secret-stdin --no-test|"o2" not in [t["id"] for t in d["tenants"]]
64|tenant set o2 --host smtp.o2.test --sender box@o2.test --auth xoauth2 --oauth-provider generic --oauth-token-url https://token.o2.test/t --oauth-client-id c2 --oauth-secret-stdin --no-test|"o2" not in [t["id"] for t in d["tenants"]]
0|tenant set o1 --oauth-scope https://outlook.office365.com/.default --rate-limit 30 --no-test|[(t["oauth"]["scope"], t["rate_limit"], t["oauth"]["client_secret"]["state"], t["username"]) for t in d["tenants"] if t["id"] == "o1"] == [("https://outlook.office365.com/.default", 30, "sealed", "box@o1.test")]
0|tenant set g1 --host smtp.g1.test --port 465 --username box@g1.test --sender box@g1.test --domain g1.test --auth xoauth2 --oauth-provider google --oauth-key-file @T@/sa.json --no-test|[(t["oauth"]["provider"], t["oauth"]["token_url"], t["oauth"]["service_account"]["state"], t["tls"]) for t in d["tenants"] if t["id"] == "g1"] == [("google", "https://oauth2.googleapis.com/token", "sealed", "implicit")]
0|tenant set c1 --host smtp.c1.test --port 587 --username cert@c1.test --sender cert@c1.test --domain c1.test --auth xoauth2 --oauth-provider microsoft --oauth-token-url https://login.c1.test/dir/oauth2/v2.0/token --oauth-client-id @CID@ --oauth-key-file @T@/app.key --oauth-cert-file @T@/app.pem --oauth-assertion-alg RS256 --no-test|[(t["oauth"]["client_key"]["state"], t["oauth"]["client_cert_file"], t["oauth"]["assertion_alg"], t["oauth"]["token_url"]) for t in d["tenants"] if t["id"] == "c1"] == [("sealed", "@T@/app.pem", "RS256", "https://login.c1.test/dir/oauth2/v2.0/token")]
0|tenant set x1 --host smtp.x1.test --port 587 --username box@x1.test --sender box@x1.test --domain x1.test --auth xoauth2 --oauth-provider generic --oauth-token-url https://token.x1.test/token --oauth-client-id cx1 --oauth-secret-stdin --no-test|[(t["oauth"]["provider"], t["oauth"]["client_secret"]["state"]) for t in d["tenants"] if t["id"] == "x1"] == [("generic", "sealed")]
0|tenant set x1 --auth password --username u-x1 --password-stdin --no-test|[(t["auth"], "oauth" in t, t["username"], t["password"].startswith("sealed (key ")) for t in d["tenants"] if t["id"] == "x1"] == [("password", False, "u-x1", True)]
0|tenant disable o1|[(t["enabled"], t["auth"]) for t in d["tenants"] if t["id"] == "o1"] == [(False, "xoauth2")]
0|tenant enable o1|[(t["enabled"], t["oauth"]["client_id"]) for t in d["tenants"] if t["id"] == "o1"] == [(True, "@CID@")]
0|key rotate|all(s["state"] == "sealed" for t in d["tenants"] if "oauth" in t for k, s in t["oauth"].items() if k in ("client_secret", "client_key", "service_account"))
0|tenant set o1 --oauth-secret-stdin --no-test|[t["oauth"]["client_secret"]["state"] for t in d["tenants"] if t["id"] == "o1"] == ["sealed"]
EOF
CID=11111111-2222-3333-4444-555555555555
CASES=${CASES//@CID@/$CID}
CASES=${CASES//@T@/$T}

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
# Sealed tokens differ (nonces, and each backend's key rotate made its own
# key): compared by state, not key id.
strip() { jget 'json.dumps([{k: ({a: ({"state": b["state"]} if isinstance(b, dict) else b) for a, b in v.items()} if k == "oauth" else v) for k, v in t.items() if k not in ("created", "updated", "verified", "password")} for t in d["tenants"]], sort_keys=True)'; }
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
# The OAuth2 private keys (certificate credential, service account): the
# base64 lines of each PEM body.
grep -v -e '-----' "$T/app.key" > "$T/needles"
"$PYTHON3" -c 'import json,sys; print("\n".join(l for l in json.load(open(sys.argv[1]))["private_key"].splitlines() if "-----" not in l))' \
    "$T/sa.json" >> "$T/needles"
ok "the database holds the OAuth2 secrets sealed (client secret, client key, service account)" \
    test "$(pg_sql "$T/pg" "$PGP" "SELECT count(*) FROM tr_tenants WHERE oauth_client_secret LIKE 'trv1:%' OR oauth_client_key LIKE 'trv1:%' OR oauth_service_account LIKE 'trv1:%'")" = 3
"$TR_PG_BIN/pg_dump" -h 127.0.0.1 -p "$PGP" -U trelay -d postgres > "$T/dump.sql" 2> /dev/null
ok "  pg_dump of the database: no private-key line, no secret" \
    bash -c 'test -s "$0" && ! grep -qF -f "$1" "$0" "$2/pg/server.log" && ! grep -qF "$3" "$0" "$2/pg/server.log"' "$T/dump.sql" "$T/needles" "$T" "$PW"
ok "  nor the file store, the change logs or the outputs" bash -c '! grep -rqF -f "$0" "$1/etc" "$1/log" "$1"/*.out' "$T/needles" "$T"
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants SET oauth_client_secret = 'not-sealed-77' WHERE id = 'o1'" > "$T/plain.out" 2>&1
ok "  a plaintext client secret written by hand is refused by the table's CHECK" \
    test "$?:$(pg_sql "$T/pg" "$PGP" "SELECT count(*) FROM tr_tenants WHERE oauth_client_secret NOT LIKE 'trv1:%'")" = "1:0"
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants SET oauth_client_id = 'x' WHERE id = 't1'" > "$T/plain2.out" 2>&1
ok "  and so is an oauth column on a password route" test $? = 1

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
# The OAuth2 secrets: o1's client secret replaced by c1's client key (a
# valid token of another tenant and field), and one character of g1's
# service-account key changed; in the files and in the rows.
"$PYTHON3" - "$T/etc/tenants" <<'PY'
import glob, re, sys
files = glob.glob(sys.argv[1] + "/*.conf")
text = {f: open(f).read() for f in files}
def token(tid, key):
    for s in text.values():
        m = re.search(r'id = "%s";[^}]*?%s = "(trv1:[^"]+)"' % (tid, key), s, re.S)
        if m:
            return m.group(1)
old_o1, c1, g1 = token("o1", "client_secret"), token("c1", "client_key"), token("g1", "service_account")
bad_g1 = g1[:29] + ("B" if g1[29] == "A" else "A") + g1[30:]
for f, s in text.items():
    open(f, "w").write(s.replace(old_o1, c1).replace(g1, bad_g1))
PY
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants a SET oauth_client_secret = b.oauth_client_key FROM tr_tenants b WHERE a.id = 'o1' AND b.id = 'c1'" > /dev/null
pg_sql "$T/pg" "$PGP" "UPDATE tr_tenants SET oauth_service_account = overlay(oauth_service_account placing (CASE WHEN substr(oauth_service_account, 30, 1) = 'A' THEN 'B' ELSE 'A' END) from 30 for 1) WHERE id = 'g1'" > /dev/null
ok "file: an OAuth2 secret swapped in from another tenant's field, and a tampered one: found" \
    test "$(audit_codes file)" = "g1:secret_unopenable o1:secret_unopenable t1:secret_unopenable t4:secret_unopenable"
ok "pg: the same in the rows: found" \
    test "$(audit_codes pg)" = "g1:secret_unopenable o1:secret_unopenable t1:secret_unopenable t4:secret_unopenable"

# --- store import: a file store into an empty PostgreSQL store, one transaction --------------
PGP2=$(free_port)
TR_PG_FIRST=$TR_PG_PID
pg_start "$T/pg2" "$PGP2" || exit 1
conf_for pg2 "$(pg_uri "$T/pg2" "$PGP2")"
"$CTL" -c "$T/pg2.conf" store init > /dev/null
"$CTL" -c "$T/file.conf" tenant set t1 --password-stdin --no-test <<< "$PW" > /dev/null 2>&1
"$CTL" -c "$T/file.conf" tenant set t4 --password-stdin --no-test <<< "$PW" > /dev/null 2>&1
"$CTL" -c "$T/file.conf" tenant set o1 --oauth-secret-stdin --no-test <<< "$PW" > /dev/null 2>&1
"$CTL" -c "$T/file.conf" tenant set g1 --oauth-key-file "$T/sa.json" --no-test > /dev/null 2>&1
ok "the file store's secrets open again" test -z "$(audit_codes file)"
mkdir -p "$T/plainstore"
printf 'tenants = ( { id = "plain"; host = "mx.p.test"; sender = "s@p.test"; username = "u";\n  password = "Plain-pw-99"; } );\n' \
    > "$T/plainstore/shard-00.conf"
"$CTL" -c "$T/pg2.conf" store import "$T/plainstore" > "$T/import0.out" 2>&1
ok "store import of a store with a plaintext password: refused (65), naming the tenant" \
    test "$?:$(grep -c "tenant plain: its password is not a sealed token" "$T/import0.out")" = "65:1"
ok "  nothing imported" test "$(pg_sql "$T/pg2" "$PGP2" "SELECT count(*) FROM tr_tenants")" = 0
ok "  the password reached neither the output nor the database's log" \
    bash -c '! grep -q Plain-pw-99 "$0" "$1"' "$T/import0.out" "$T/pg2/server.log"
mkdir -p "$T/plainoauth"
printf 'tenants = ( { id = "plainoa"; host = "mx.p.test"; sender = "s@p.test"; username = "box@p.test";\n  auth = "xoauth2";\n  oauth = { provider = "generic"; token_url = "https://t.p.test/t"; client_id = "c"; client_secret = "Plain-oauth-55"; }; } );\n' \
    > "$T/plainoauth/shard-00.conf"
"$CTL" -c "$T/pg2.conf" store import "$T/plainoauth" > "$T/import0b.out" 2>&1
ok "store import of a store with a plaintext OAuth2 client secret: refused (65) with FILE:LINE" \
    test "$?:$(grep -c "shard-00.conf:[0-9]*:.*client_secret must be a sealed token" "$T/import0b.out")" = "65:1"
ok "  nothing imported, the secret in neither the output nor the database's log" \
    bash -c '[ "$(cat "$0")" = 0 ] && ! grep -q Plain-oauth-55 "$1" "$2"' \
    <(pg_sql "$T/pg2" "$PGP2" "SELECT count(*) FROM tr_tenants") "$T/import0b.out" "$T/pg2/server.log"
"$CTL" -c "$T/pg2.conf" store import "$T/etc/tenants" > "$T/import.out" 2>&1
ok "store import: 0, 7 tenants (4 of them OAuth2)" test "$?:$(cat "$T/import.out")" = "0:imported 7 tenants from $T/etc/tenants"
ok "  the same records as the file store" \
    test "$("$CTL" -c "$T/file.conf" --json tenant list | strip)" = "$("$CTL" -c "$T/pg2.conf" --json tenant list | strip)"
ok "  the same sealed tokens (they open: no finding)" test -z "$(audit_codes pg2)"
grep -rhoE '"trv1:[^"]+"' "$T/etc/tenants" | tr -d '"' | sort > "$T/tokens.file"
pg_sql "$T/pg2" "$PGP2" "SELECT t FROM tr_tenants, unnest(ARRAY[password, oauth_client_secret, oauth_client_key, oauth_service_account]) t WHERE t IS NOT NULL" | sort > "$T/tokens.pg"
ok "  every sealed token byte for byte (passwords and OAuth2 secrets: $(wc -l < "$T/tokens.pg"))" \
    bash -c 'diff "$0" "$1" && [ "$(wc -l < "$0")" = 6 ]' "$T/tokens.file" "$T/tokens.pg"
ok "  one version, one change-log row" \
    test "$(pg_sql "$T/pg2" "$PGP2" "SELECT version || ':' || (SELECT count(*) FROM tr_changes) FROM tr_meta")" = "1:1"
"$CTL" -c "$T/pg2.conf" store import "$T/etc/tenants" > "$T/import2.out" 2>&1
ok "store import into a store that is not empty: refused (65), nothing changed" \
    test "$?:$(pg_sql "$T/pg2" "$PGP2" "SELECT version FROM tr_meta")" = "65:1"
echo 'tenants = ( { id = "broken"; ' > "$T/broken.conf"
"$CTL" -c "$T/pg.conf" store import "$T/broken.conf" > "$T/import3.out" 2>&1
ok "store import of a malformed file store: refused (65) with FILE:LINE" \
    test "$?:$(grep -c "broken.conf:[0-9]" "$T/import3.out")" = "65:1"
# --- store init upgrades a schema-1 store (before OAuth2) in place, idempotently --------------
# Schema 1 is schema 2 without what migration 2 added: a store at version
# 1 holding a tenant, as a node built before OAuth2 left it.
pg_sql "$T/pg2" "$PGP2" "CREATE DATABASE v1" > /dev/null
conf_for v1 "postgresql://trelay@127.0.0.1:$PGP2/v1"
"$CTL" -c "$T/v1.conf" store init > /dev/null
"$CTL" -c "$T/v1.conf" tenant set p1 --host mx.p1.test --sender s@p1.test --username u1 --password-stdin --no-test <<< "$PW" > /dev/null 2>&1
"$TR_PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PGP2" -U trelay -d v1 -c "ALTER TABLE tr_tenants DROP CONSTRAINT tr_tenants_oauth, DROP COLUMN auth, DROP COLUMN oauth_provider, DROP COLUMN oauth_directory, DROP COLUMN oauth_token_url, DROP COLUMN oauth_client_id, DROP COLUMN oauth_client_secret, DROP COLUMN oauth_client_cert_file, DROP COLUMN oauth_client_key, DROP COLUMN oauth_service_account, DROP COLUMN oauth_scope, DROP COLUMN oauth_assertion_alg; UPDATE tr_meta SET schema_version = 1" > /dev/null
"$CTL" -c "$T/v1.conf" tenant list > "$T/v1list.out" 2>&1
ok "a schema-1 store is refused with the way out (store init)" \
    bash -c '[ "$0" != 0 ] && grep -q "schema version 1, this build reads 2 (run .tenantrelayctl store init.)" "$1"' $? "$T/v1list.out"
"$CTL" -c "$T/v1.conf" store init > "$T/v1init.out" 2>&1
ok "store init: schema 1 -> 2" test "$?:$(grep -c 'schema version 1 -> 2' "$T/v1init.out")" = "0:1"
"$CTL" -c "$T/v1.conf" store init > "$T/v1init2.out" 2>&1
ok "  again: up to date" test "$?:$(grep -c 'up to date' "$T/v1init2.out")" = "0:1"
ok "  the tenant kept, as a password route whose secret opens" \
    test "$("$CTL" -c "$T/v1.conf" --json tenant list | jget '[(t["id"], t["auth"], t["username"]) for t in d["tenants"]]'):$(audit_codes v1)" = "[('p1', 'password', 'u1')]:"
printf '%s\n' "$PW" | "$CTL" -c "$T/v1.conf" tenant set p1 --auth xoauth2 --oauth-provider microsoft \
    --oauth-directory contoso.onmicrosoft.com --oauth-client-id "$CID" --username box@p1.test --oauth-secret-stdin --no-test > /dev/null 2>&1
ok "  and it takes an OAuth2 route now" \
    test "$("$CTL" -c "$T/v1.conf" --json tenant list | jget '[(t["auth"], t["password"], t["oauth"]["client_secret"]["state"]) for t in d["tenants"]]')" = "[('xoauth2', None, 'sealed')]"
pg_stop
TR_PG_PID=$TR_PG_FIRST
pg_stop
finish
