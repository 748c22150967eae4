#!/bin/bash
# tenant set probes WITHOUT the store's lock, then locks, re-reads and saves
# only what it probed:
#  - while one set is probing a stalled upstream, other writers (tenant set
#    of another tenant, disable/enable, key rotate) complete;
#  - a set whose tenant changed meanwhile in a probed route field it did not
#    set (port, password), or that appeared or went meanwhile, is refused
#    with exit 75 and leaves the store and the change log byte-identical;
#  - fields it sets win over a change made meanwhile, fields it does not set
#    keep that change (no lost update);
#  - a key rotation meanwhile is no conflict (same secret, re-sealed), and a
#    new password is sealed under the lock with the keyring's current key
#    (so a key rotated and retired meanwhile cannot strand it).
# The probes that must stay in flight go through a gate: a TCP relay in
# front of the real aiosmtpd upstream that holds each new connection until
# the test opens the gate (ordering by events, not by timing).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/race_lib.sh"
CTL="$TR_BIN_CTL"
PW='Race-Pr0be-pw-41'
make_ca "$T/ca" || exit 1
write_conf "$T/tr.conf"
C=(-c "$T/tr.conf")
"$CTL" "${C[@]}" key init > /dev/null 2>&1
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
show() { "$CTL" "${C[@]}" --json tenant show "$1" > "$T/show.json" 2> /dev/null && jget "$T/show.json" "$2"; }

pg=$(free_port); start_upstream good "$pg" starttls --auth "u@acme.test:$PW"
po=$(free_port); start_upstream open "$po" starttls
ps=$(free_port); start_upstream stall "$ps" starttls --fault stall

# The gate in front of the good upstream (race_lib.sh).
pp=$(free_port)
gate_start "$pp" "$pg"
# hold NAME ARGS...: start `tenant set ARGS` in the background with the gate
# shut and wait until its probe is held there; its PID in $HP.
hold() {
    local name=$1
    shift
    gate_shut
    "$CTL" "${C[@]}" tenant set "$@" > "$T/$name.out" 2> "$T/$name.err" < /dev/null &
    HP=$!
    tr_track $HP
    gate_wait_held 1 20 || echo "# $name: its probe never reached the gate" >&2
}
# release: open the gate and collect the held set's exit status in $TR_EXIT.
release() { gate_release "$HP"; }
# A writer that must not wait for a probe in flight: bounded by timeout(1),
# whose 124 would mean it sat on the lock.
quick() { timeout 25 "$CTL" "${C[@]}" "$@" >> "$T/quick.out" 2>> "$T/quick.err" < /dev/null; echo $?; }

printf '%s\n' "$PW" | "$CTL" "${C[@]}" tenant set acme --host localhost --port "$pp" --username u@acme.test \
    --password-stdin --sender no-reply@acme.test --ca-file "$T/ca/ca.pem" --domain acme.test > "$T/setup.out" 2>&1
ok "setup: acme created through the open gate (probe passed)" test "$?:$(show acme 'd["port"]')" = "0:$pp"

# --- (a) a probe of a stalled server holds no lock ------------------------------------
"$CTL" "${C[@]}" tenant set slow --host localhost --port "$ps" --sender n@slow.test \
    --ca-file "$T/ca/ca.pem" > "$T/slow.out" 2> "$T/slow.err" < /dev/null &
SLOW=$!; tr_track $SLOW
wait_for 20 grep -q '^connect' "$T/stall.log"
ok "(a) the set of 'slow' is probing the stalled server" kill -0 $SLOW
ok "(a) meanwhile tenant set of another tenant (probed) completes: 0" \
    test "$(quick tenant set beta --host localhost --port "$po" --sender n@beta.test --ca-file "$T/ca/ca.pem")" = 0
ok "(a) meanwhile tenant disable completes: 0" test "$(quick tenant disable beta)" = 0
ok "(a) meanwhile key rotate completes: 0" test "$(quick key rotate)" = 0
ok "(a) and tenant enable: 0" test "$(quick tenant enable beta)" = 0
ok "(a) the 'slow' set was still probing when they finished" kill -0 $SLOW
ok "(a) beta was saved as tested" test "$(show beta 'd["verified"] is not None')" = True
kill -TERM $SLOW; wait_exit $SLOW 10
ok "(a) nothing of 'slow' was saved (its probe never passed)" test "$(show slow 1; echo $?)" = 65

# --- (b) the route changed meanwhile in a field the set did not give: refused ------------
hold b1 acme --rate-limit 7
ok "(b) port moved meanwhile by another set (probed): 0" test "$(quick tenant set acme --port "$pg")" = 0
before=$(store_sum)
release
ok "(b) the held set is refused with 75 (EX_TEMPFAIL)" test "$TR_EXIT" = 75
ok "(b)   its probe did pass" grep -q '^result: ok' "$T/b1.out"
ok "(b)   the error names the field and says nothing was saved" \
    grep -q "tenant acme changed while the connectivity test ran (port now differ from what was tested): nothing saved" "$T/b1.err"
ok "(b)   store and change log byte-identical" test "$(store_sum)" = "$before"
ok "(b)   the other set's port stands, the rate limit was not applied" test "$(show acme '(d["port"], d["rate_limit"])')" = "($pg, 0)"

"$CTL" "${C[@]}" tenant set acme --port "$pp" > /dev/null 2>&1
ok "(acme back behind the gate, tested)" test $? = 0
printf 'another-secret\n' > "$T/pw2"
hold b2 acme --max-connections 2
ok "(b) password replaced meanwhile (--no-test): 0" test "$(quick tenant set acme --password-file "$T/pw2" --no-test)" = 0
before=$(store_sum)
release
ok "(b) a different secret meanwhile: refused with 75, naming password" \
    test "$TR_EXIT:$(grep -c '(password now differ' "$T/b2.err")" = "75:1"
ok "(b)   store and change log byte-identical" test "$(store_sum)" = "$before"
printf '%s\n' "$PW" | "$CTL" "${C[@]}" tenant set acme --password-stdin > /dev/null 2>&1
ok "(b) (the right password back, tested)" test $? = 0

hold b3 acme --rate-limit 8
ok "(b) tenant removed meanwhile: 0" test "$(quick tenant remove acme)" = 0
before=$(store_sum)
release
ok "(b) removed meanwhile: refused with 75" test "$TR_EXIT:$(grep -c 'was removed while the connectivity test ran' "$T/b3.err")" = "75:1"
ok "(b)   store and change log byte-identical, acme stays removed" test "$(store_sum):$(show acme 1; echo $?)" = "$before:65"

printf '%s\n' "$PW" > "$T/pw1"
hold b4 acme --host localhost --port "$pp" --sender no-reply@acme.test --ca-file "$T/ca/ca.pem" \
    --username u@acme.test --password-file "$T/pw1"
ok "(b) the same tenant created meanwhile (--no-test): 0" \
    test "$(quick tenant set acme --host localhost --port "$pg" --sender no-reply@acme.test --no-test)" = 0
before=$(store_sum)
release
ok "(b) created meanwhile: refused with 75" test "$TR_EXIT:$(grep -c 'was created by another command' "$T/b4.err")" = "75:1"
ok "(b)   store and change log byte-identical" test "$(store_sum)" = "$before"

# --- the last writer wins on what it sets; what it did not set keeps the other change -----
printf '%s\n' "$PW" | "$CTL" "${C[@]}" tenant set acme --username u@acme.test --password-stdin \
    --ca-file "$T/ca/ca.pem" > /dev/null 2>&1
ok "(acme back with its login, tested)" test $? = 0
hold c1 acme --port "$pp" --max-connections 3
ok "(c) meanwhile another set of max_connections and rate_limit: 0" \
    test "$(quick tenant set acme --max-connections 5 --rate-limit 9 --no-test)" = 0
release
ok "(c) the held set saves: 0" test "$TR_EXIT" = 0
ok "(c)   its fields win, the other's rate limit stays, saved as tested" \
    test "$(show acme '(d["port"], d["max_connections"], d["rate_limit"], d["verified"] is not None)')" = "($pp, 3, 9, True)"
ok "(c)   the change log names what it changed over the record it re-read" \
    test "$(tail -n 1 "$T/log/changes.log" | grep -c 'fields=port,max_connections')" = 1

# --- key rotation meanwhile: the same secret re-sealed is no conflict --------------------
k1=$(show acme 'd["password"]')
hold d1 acme --rate-limit 11
ok "(d) key rotate meanwhile: 0" test "$(quick key rotate)" = 0
release
ok "(d) the held set saves: 0" test "$TR_EXIT" = 0
ok "(d)   its change saved, with the rotated token" \
    bash -c '[ "$0" = 11 ] && [ "$1" != "$2" ]' "$(show acme 'd["rate_limit"]')" "$(show acme 'd["password"]')" "$k1"
"$CTL" "${C[@]}" test acme > /dev/null 2>&1
ok "(d)   and the stored password still logs in" test $? = 0

# --- a new password is sealed under the lock: rotate + retire meanwhile cannot strand it ---
"$CTL" "${C[@]}" --json key list > "$T/keys.json"
old_key=$(jget "$T/keys.json" '[k["id"] for k in d["keys"] if k["state"] == "primary"][0]')
hold e1 acme --password-file "$T/pw1" --rate-limit 12
ok "(e) key rotate meanwhile: 0" test "$(quick key rotate)" = 0
ok "(e) key retire of the key the held set sealed its probe with: 0" test "$(quick key retire "$old_key")" = 0
release
ok "(e) the held set saves: 0" test "$TR_EXIT" = 0
ok "(e)   its token is not sealed with the retired key" bash -c '! grep -q "$0" <<< "$1"' "$old_key" "$(show acme 'd["password"]')"
"$CTL" "${C[@]}" test acme > /dev/null 2>&1
ok "(e)   and it opens and logs in" test $? = 0

ok "no temp file left behind" test -z "$(ls -A "$T/etc/tenants" | grep -v -e '\.conf$' -e '^\.manifest$')"
ok "the password is in no output, the store or the change log" \
    bash -c '! grep -rq -e "$0" "$1"/*.out "$1"/*.err "$1"/etc "$1"/log' "$PW" "$T"
finish
