#!/bin/bash
# PUT /v1/tenants/{id} races as `tenant set` does: its probe runs without
# the store's lock, so a change made meanwhile to a field it tested makes
# it answer 409 (exit 75's equivalent) and save nothing; a writer never
# waits for a probe in flight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/race_lib.sh"
tr_require curl curl
PW='Race-s3cret-pw-12'
make_ca "$T/ca" || exit 1
http_relay_start || { cat "$T/daemon.log"; exit 1; }
pa=$(free_port); start_upstream acme "$pa" starttls --auth "u@acme.test:$PW" || exit 1

# A gate in front of acme's server (race_lib.sh); what it holds is logged in $T/gate.held.
pg=$(free_port)
gate_start "$pg" "$pa" "$T/gate.held" || exit 1

put() { curl -s -o "$1" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" --data-binary "$2" "$U/v1/tenants/acme"; }
j() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
show() { "$TR_BIN_CTL" -c "$TR_CONF" --json tenant show acme | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
ok "setup: acme saved through the open gate" test "$(put "$T/setup.json" "{\"host\": \"localhost\", \"port\": $pg, \"username\": \"u@acme.test\", \"password\": \"$PW\", \"sender\": \"no-reply@acme.test\", \"ca_file\": \"$T/ca/ca.pem\"}")" = 200

# --- a tested field changes while the PUT's probe is held: 409 ----------------------
gate_shut
: > "$T/gate.held"
put "$T/race.json" '{"sender": "other@acme.test"}' > "$T/race.code" &
P=$!
tr_track $P
ok "the PUT's probe is held at the gate" wait_for 20 test -s "$T/gate.held"
timeout 25 "$TR_BIN_CTL" -c "$TR_CONF" tenant set acme --host 127.0.0.1 --no-test > /dev/null 2>&1
rc=$?
[ "$(id -u)" = 0 ] && chown -R "${TR_USER:-nobody}" "$T/etc"     # the daemon's user reads what root wrote
ok "meanwhile tenant set changes the host at once (no lock held by the probe)" test "$rc" = 0
sum=$(cd "$T/etc" && find tenants -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
gate_release "$P"
ok "the PUT answers 409" test "$(cat "$T/race.code")" = 409
ok "  conflict, naming the field that changed" test "$(j "$T/race.json" 'd["error"], "host" in d["detail"]')" = "conflict True"
ok "  its probe's steps are in the reply" test "$(j "$T/race.json" 'd["probe"]["ok"]')" = True
ok "  nothing of it was saved: the other change stands" test "$(show 'd["host"], d["sender"]')" = "127.0.0.1 no-reply@acme.test"
ok "  the store is as the other writer left it" test "$(cd "$T/etc" && find tenants -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)" = "$sum"
ok "run again, it tests the new combination and saves: 200" test "$(put "$T/again.json" '{"sender": "other@acme.test"}')" = 200
ok "  saved" test "$(show 'd["host"], d["sender"]')" = "127.0.0.1 other@acme.test"
finish
