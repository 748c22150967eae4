#!/bin/bash
# tenant set runs the connectivity test against the merged, unsaved record
# and saves only what passed (with the verified time); a failing set leaves
# the store and the change log byte-identical and prints the steps and the
# hint; --no-test saves unverified and says so; `test ID` probes a stored
# tenant; the password is in no output, log or process list.
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
PW='Tenant-Pr0be-pw-77'
make_ca "$T/ca" || exit 1
write_conf "$T/tr.conf"
C=(-c "$T/tr.conf")
"$CTL" "${C[@]}" key init > /dev/null 2>&1
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

pg=$(free_port); start_upstream good "$pg" starttls --auth "u@acme.test:$PW"
pb=$(free_port); start_upstream badsender "$pb" starttls --auth "u@acme.test:$PW" --reject-mail "553 5.7.1 Sender address rejected: not owned by user"

# --- a new tenant against a refusing server: nothing saved ----------------------
printf '%s\n' "$PW" | "$CTL" "${C[@]}" tenant set acme --host localhost --port "$pb" --username u@acme.test \
    --password-stdin --sender no-reply@acme.test --ca-file "$T/ca/ca.pem" > "$T/fail1.out" 2> "$T/fail1.err"
ok "refused sender: tenant set exits 1" test $? = 1
ok "  prints the steps with the server's reply" grep -q '^mail *FAILED .*553 5.7.1 Sender address rejected' "$T/fail1.out"
ok "  prints the code and the hint" grep -q 'hint: your provider did not accept this sender address: validate it there' "$T/fail1.out"
ok "  says nothing was saved" grep -q 'nothing saved' "$T/fail1.err"
"$CTL" "${C[@]}" tenant show acme > /dev/null 2>&1
ok "  the tenant does not exist" test $? = 65

# --- the same against a good server: saved, verified ------------------------------
printf '%s\n' "$PW" | "$CTL" "${C[@]}" tenant set acme --host localhost --port "$pg" --username u@acme.test \
    --password-stdin --sender no-reply@acme.test --ca-file "$T/ca/ca.pem" --domain acme.test > "$T/set.out" 2> "$T/set.err"
ok "good server: tenant set exits 0" test $? = 0
ok "  the steps were printed" grep -q '^result: ok' "$T/set.out"
"$CTL" "${C[@]}" --json tenant show acme > "$T/acme.json"
ok "  saved with a verified time (RFC 3339 UTC)" bash -c '[[ "$0" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T.*Z$ ]]' "$(jget "$T/acme.json" 'd["verified"]')"
ok "  the test message arrived at the sender" test "$(count_eml "$T/good.mail"):$(jget "$T/good.mail/000001.json" 'd["rcpt_tos"]')" = "1:['no-reply@acme.test']"
ok "  its subject names the tenant" grep -q '^Subject: tenantrelay connectivity test for tenant acme at ' "$T/good.mail/000001.eml"
ok "  sent as the tenant's login" test "$(jget "$T/good.mail/000001.json" 'd["auth_user"]')" = u@acme.test

# --- test ID probes the stored tenant ----------------------------------------------
"$CTL" "${C[@]}" --json test acme --to other@acme.test > "$T/test-id.json" 2>&1
ok "test ID: exit 0, ok" test "$?:$(jget "$T/test-id.json" 'd["ok"]')" = "0:True"
ok "test ID --to: the message went to --to" test "$(jget "$T/good.mail/000002.json" 'd["rcpt_tos"]')" = "['other@acme.test']"
"$CTL" "${C[@]}" test nosuch > /dev/null 2>&1
ok "test of an unknown tenant: 65" test $? = 65

# --- failing updates leave the store byte-identical ----------------------------------
before=$(store_sum)
n_before=$(count_eml "$T/good.mail")
printf 'wrong-password\n' | "$CTL" "${C[@]}" tenant set acme --password-stdin > "$T/fail2.out" 2> "$T/fail2.err"
ok "wrong new password: exit 1" test $? = 1
ok "  auth_failed with the server's text" grep -q 'FAILED (auth_failed)' "$T/fail2.out"
ok "  store and change log byte-identical" test "$(store_sum)" = "$before"
"$CTL" "${C[@]}" tenant set acme --port "$pb" > "$T/fail3.out" 2> "$T/fail3.err"
ok "moving to a refusing server: exit 1, sender_rejected" test "$?:$(grep -c 'FAILED (sender_rejected)' "$T/fail3.out")" = "1:1"
ok "  store and change log byte-identical" test "$(store_sum)" = "$before"
"$CTL" "${C[@]}" tenant set acme --port "$(free_port)" > "$T/fail4.out" 2> "$T/fail4.err"
ok "moving to a closed port: exit 1, connect_refused" test "$?:$(grep -c 'FAILED (connect_refused)' "$T/fail4.out")" = "1:1"
ok "  store and change log byte-identical" test "$(store_sum)" = "$before"
"$CTL" "${C[@]}" tenant set acme --tls implicit > "$T/fail5.out" 2> "$T/fail5.err"
ok "wrong TLS mode: exit 1, tls_mode_mismatch" test "$?:$(grep -c 'FAILED (tls_mode_mismatch)' "$T/fail5.out")" = "1:1"
ok "  store and change log byte-identical" test "$(store_sum)" = "$before"
ok "failed sets sent no message" test "$(count_eml "$T/good.mail")" = "$n_before"
"$CTL" "${C[@]}" --json test acme > /dev/null 2>&1
ok "the stored (old) password still works" test $? = 0

# --- a passing update stamps a new verified time -------------------------------------
v1=$(jget "$T/acme.json" 'd["verified"]')
sleep 1
"$CTL" "${C[@]}" tenant set acme --rate-limit 30 > "$T/upd.out" 2>&1
ok "passing update: exit 0" test $? = 0
"$CTL" "${C[@]}" --json tenant show acme > "$T/acme2.json"
ok "  rate limit saved" test "$(jget "$T/acme2.json" 'd["rate_limit"]')" = 30
ok "  verified time renewed" test "$(jget "$T/acme2.json" 'd["verified"]')" != "$v1"
ok "  (the checksum sees a saved change)" test "$(store_sum)" != "$before"
n=$(count_eml "$T/good.mail")
"$CTL" "${C[@]}" tenant set acme --rate-limit 31 --to postmaster@acme.test > "$T/to.out" 2>&1
ok "tenant set --to: the test message goes there" test "$?:$(jget "$T/good.mail/$(printf %06d $((n + 1))).json" 'd["rcpt_tos"]')" = "0:['postmaster@acme.test']"

# --- --no-test: saved, unverified, said plainly ---------------------------------------
"$CTL" "${C[@]}" tenant set acme --port "$pb" --no-test > "$T/nt.out" 2> "$T/nt.err"
ok "--no-test: saved even though the server would refuse" test $? = 0
ok "  says plainly no test ran" grep -q 'NO connectivity test ran' "$T/nt.err"
"$CTL" "${C[@]}" --json tenant show acme > "$T/acme3.json"
ok "  recorded as unverified" test "$(jget "$T/acme3.json" '(d["port"], d["verified"])')" = "($pb, None)"

# --- the password: never on argv, in output, logs, or ps -------------------------------
( sleep 2; printf '%s\n' "$PW" ) | "$CTL" "${C[@]}" tenant set acme --port "$pg" --password-stdin > "$T/ps-set.out" 2>&1 &
pid=$!; tr_track $pid
sleep 0.5
ps -eo args | grep -v upstream.py > "$T/ps.out"
ok "set is running while we look" grep -q "tenant set acme --port $pg --password-stdin" "$T/ps.out"
ok "password not in the process list" bash -c '! grep -q -e "$0" "$1"' "$PW" "$T/ps.out"
wait_exit $pid 30
ok "that set passed" test "${TR_EXIT:-1}" = 0
ok "password in no output, store, change log or upstream log" \
    bash -c '! grep -rq -e "$0" "$1"/*.out "$1"/*.err "$1"/*.json "$1"/etc "$1"/log "$1"/*.log' "$PW" "$T"

finish
