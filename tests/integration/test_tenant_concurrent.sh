#!/bin/bash
# Two processes each running `tenant set` 200 times at once leave a valid
# store holding every update: the lock file serialises the writers.  Each
# process creates its own 100 tenants and updates one shared tenant 100
# times (rate_limit = its counter), so lost updates would show as missing
# tenants or change-log lines.
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
write_conf "$T/tr.conf"
C=(-c "$T/tr.conf")
"$CTL" "${C[@]}" key init > /dev/null 2>&1
"$CTL" "${C[@]}" tenant set shared --host smtp.shared.example --sender n@shared.example --no-test > /dev/null 2>&1

writer() {
    local p=$1 i fails=0
    for i in $(seq 1 100); do
        "$CTL" "${C[@]}" tenant set "$p-$i" --host "smtp.$p$i.example" --sender "n@$p$i.example" \
            --domain "$p$i.example" --no-test > /dev/null 2>&1 || fails=$((fails + 1))
        "$CTL" "${C[@]}" tenant set shared --rate-limit "$((i + 1000 * ${#p}))" --address "$p@shared.example" \
            --no-test > /dev/null 2>&1 || fails=$((fails + 1))
    done
    echo "$fails" > "$T/$p.fails"
}
writer a & PA=$!
tr_track $PA
writer bb & PB=$!
tr_track $PB
wait_exit $PA 150; wait_exit $PB 150
ok "writer a: 200 sets, none failed" test "$(cat "$T/a.fails" 2>/dev/null)" = 0
ok "writer b: 200 sets, none failed" test "$(cat "$T/bb.fails" 2>/dev/null)" = 0
"$CTL" "${C[@]}" --json tenant list > "$T/list.json"
ok "the store loads" test $? = 0
ok "every tenant is there (1 + 2 x 100)" test "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tenants"]))' "$T/list.json")" = 201
ok "every domain is there" test "$(/usr/bin/python3 -c 'import json,sys; print(sum(len(t["domains"]) for t in json.load(open(sys.argv[1]))["tenants"]))' "$T/list.json")" = 200
ok "the shared tenant holds one writer's last update" /usr/bin/python3 -c 'import json,sys
t=[t for t in json.load(open(sys.argv[1]))["tenants"] if t["id"]=="shared"][0]
sys.exit(0 if (t["rate_limit"], t["addresses"]) in ((1100, ["a@shared.example"]), (2100, ["bb@shared.example"])) else 1)' "$T/list.json"
# 1 creation + 200 creations + up to 200 updates of shared (an update that
# changes nothing is not a change); every creation must be logged.
ok "change log: every creation" test "$(grep -c 'fields=id,' "$T/log/changes.log")" = 201
ok "no temp file left behind" test -z "$(ls -A "$T/etc/tenants" | grep -v -e '\.conf$' -e '^\.manifest$')"
finish
