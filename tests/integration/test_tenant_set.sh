#!/bin/bash
# tenantrelayctl tenant: set creates and updates (fields not given keep
# their values), says plainly that no connectivity test ran, refuses bad
# ids, claimed domains/addresses and passwords on argv; show/list/--json;
# enable/disable/remove; the change log names fields, never values; no
# plaintext password in the store, any output, the log or the process list.
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
write_conf "$T/tr.conf"
C=(-c "$T/tr.conf")
PW='S3cret-Pa55word-zx81'
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
run() { "$CTL" "${C[@]}" "$@" >> "$T/all.out" 2>> "$T/all.err"; }
"$CTL" "${C[@]}" key init > /dev/null 2>&1

ok "the store is empty before the first set" test -z "$(ls -A "$T/etc/tenants" 2>/dev/null)"
printf '%s\n' "$PW" | "$CTL" "${C[@]}" tenant set acme --host smtp.acme.example --username u@acme.example \
    --password-stdin --sender no-reply@acme.example --domain acme.example --domain Acme2.Example \
    --address billing@other.example --no-test > "$T/set1.out" 2> "$T/set1.err"
ok "set new tenant -> 0" test $? = 0
cat "$T/set1.out" >> "$T/all.out"; cat "$T/set1.err" >> "$T/all.err"
ok "set says plainly no connectivity test ran" grep -q "NO connectivity test ran" "$T/set1.err"
ok "store created" test -d "$T/etc/tenants"
run --json tenant show acme > /dev/null
"$CTL" "${C[@]}" --json tenant show acme > "$T/acme.json"
ok "port default 25" test "$(json "$T/acme.json" 'd["port"]')" = 25
ok "tls by port: starttls" test "$(json "$T/acme.json" 'd["tls"]')" = starttls
ok "stored unverified" test "$(json "$T/acme.json" 'd["verified"]')" = None
ok "domains lower-cased" test "$(json "$T/acme.json" 'd["domains"]')" = "['acme.example', 'acme2.example']"
ok "show gives the password as sealed, not its value" test "$(json "$T/acme.json" 'd["password"][:6]')" = "sealed"
ok "created set" test "$(json "$T/acme.json" 'd["created"][-1]')" = Z

# Update: only the given fields change.
run tenant set acme --port 465 --no-test
"$CTL" "${C[@]}" --json tenant show acme > "$T/acme2.json"
ok "update: port changed" test "$(json "$T/acme2.json" 'd["port"]')" = 465
ok "update: tls follows the port (465 implicit)" test "$(json "$T/acme2.json" 'd["tls"]')" = implicit
ok "update: host kept" test "$(json "$T/acme2.json" 'd["host"]')" = smtp.acme.example
ok "update: username kept" test "$(json "$T/acme2.json" 'd["username"]')" = u@acme.example
ok "update: password kept" test "$(json "$T/acme2.json" 'd["password"]')" = "$(json "$T/acme.json" 'd["password"]')"
ok "update: domains kept" test "$(json "$T/acme2.json" 'len(d["domains"])')" = 2
ok "update: created kept" test "$(json "$T/acme2.json" 'd["created"]')" = "$(json "$T/acme.json" 'd["created"]')"
run tenant set acme --tls starttls --port 587 --no-tls-verify --max-connections 2 --rate-limit 30 --ca-file /etc/ssl/certs/ca-certificates.crt --no-test
"$CTL" "${C[@]}" --json tenant show acme > "$T/acme3.json"
ok "update: explicit tls, verify off, limits, ca_file" test "$(json "$T/acme3.json" '[d["tls"], d["port"], d["tls_verify"], d["max_connections"], d["rate_limit"], d["ca_file"]]')" = "['starttls', 587, False, 2, 30, '/etc/ssl/certs/ca-certificates.crt']"
printf 'new-%s\n' "$PW" > "$T/pwfile"
grep -rh 'password = ' "$T/etc/tenants" > "$T/tok.before"
run tenant set acme --password-file "$T/pwfile" --no-test
"$CTL" "${C[@]}" --json tenant show acme > "$T/acme4.json"
grep -rh 'password = ' "$T/etc/tenants" > "$T/tok.after"
ok "password from a file re-sealed (token changed)" bash -c '! cmp -s "$0" "$1"' "$T/tok.before" "$T/tok.after"
rm -f "$T/pwfile"

# Refusals.
st() { "$CTL" "${C[@]}" "$@" > /dev/null 2>> "$T/all.err" < /dev/null; echo $?; }
ok "new tenant without host -> 64" test "$(st tenant set beta --sender a@beta.example --no-test)" = 64
ok "new tenant without sender -> 64" test "$(st tenant set beta --host smtp.beta.example --no-test)" = 64
ok "reserved id default -> 65" test "$(st tenant set default --host h.example --sender a@b.example --no-test)" = 65
ok "path-like id -> 65" test "$(st tenant set ../etc --host h.example --sender a@b.example --no-test)" = 65
ok "upper-case id -> 65" test "$(st tenant set Beta --host h.example --sender a@b.example --no-test)" = 65
ok "claimed domain -> 65" test "$(st tenant set beta --host h.example --sender a@beta.example --domain ACME.example --no-test)" = 65
ok "claimed address -> 65" test "$(st tenant set beta --host h.example --sender a@beta.example --address billing@other.example --no-test)" = 65
ok "the refusal names the owner" grep -q "already belongs to tenant acme" "$T/all.err"
ok "password on argv -> 64" test "$(st tenant set acme --password "$PW" --no-test)" = 64
ok "bad sender -> 65" test "$(st tenant set beta --host h.example --sender not-an-address --no-test)" = 65
ok "bad port -> 64" test "$(st tenant set beta --host h.example --sender a@b.example --port 0 --no-test)" = 64
ok "tls none without --insecure-plaintext -> 65" test "$(st tenant set beta --host h.example --sender a@b.example --tls none --no-test)" = 65
ok "username without password -> 64" test "$(st tenant set beta --host h.example --sender a@b.example --username u --no-test)" = 64
ok "unknown option -> 64" test "$(st tenant set beta --frob --no-test)" = 64
ok "nothing was created by the refusals" test "$(st tenant show beta)" = 65

run tenant set beta --host smtp.beta.example --sender n@beta.example --domain beta.example --no-test
"$CTL" "${C[@]}" --json tenant list > "$T/list.json"
ok "list --json has both, in id order" test "$(json "$T/list.json" '[t["id"] for t in d["tenants"]]')" = "['acme', 'beta']"
"$CTL" "${C[@]}" tenant list > "$T/list.txt"
ok "list text" grep -q '^beta ' "$T/list.txt"
run tenant disable beta
ok "disable" test "$(json <("$CTL" "${C[@]}" --json tenant show beta) 'd["enabled"]')" = False
run tenant enable beta
ok "enable" test "$(json <("$CTL" "${C[@]}" --json tenant show beta) 'd["enabled"]')" = True
run tenant remove beta
ok "remove" test "$(st tenant show beta)" = 65
ok "remove of an unknown tenant -> 65" test "$(st tenant remove beta)" = 65
ok "domain free again after remove" test "$(st tenant set gamma --host h.example --sender a@g.example --domain beta.example --no-test)" = 0

# The change log: who, what, which fields; never a value.
ok "change log: one line per change" test "$(wc -l < "$T/log/changes.log")" = 9
ok "change log names the fields" grep -q 'action=set tenant=acme fields=.*password' "$T/log/changes.log"
ok "change log has RFC 3339 UTC and the user" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z user=[a-z]' "$T/log/changes.log"
ok "change log records remove" grep -q 'action=remove tenant=beta' "$T/log/changes.log"

# The password never appears in plaintext, anywhere.
ok "no plaintext password in the store" bash -c '! grep -rq -e "$0" "$1"' "$PW" "$T/etc/tenants"
ok "no plaintext password in the change log" bash -c '! grep -q -e "$0" "$1"' "$PW" "$T/log/changes.log"
ok "no plaintext password in any output" bash -c '! grep -q -e "$0" "$1" "$2"' "$PW" "$T/all.out" "$T/all.err"
# While set waits for its secret on stdin, the process list holds no secret.
( sleep 1; printf '%s\n' "$PW" ) | "$CTL" "${C[@]}" tenant set acme --password-stdin --no-test > /dev/null 2>&1 &
PID=$!
tr_track $PID
sleep 0.4
ps -eo args > "$T/ps.txt"
ok "set is running while we look" grep -q "tenant set acme --password-stdin" "$T/ps.txt"
ok "no plaintext password in the process list" bash -c '! grep -q -e "$0" "$1"' "$PW" "$T/ps.txt"
wait_exit $PID 10
ok "that set succeeded" test "$TR_EXIT" = 0
finish
