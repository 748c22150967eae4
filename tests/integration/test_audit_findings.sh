#!/bin/bash
# tenantrelayctl audit: a clean store exits 0 with no findings; each planted
# problem is reported with its code and the audit exits 1: plaintext
# secret, tampered token, token swapped between tenants, key file and store
# open to others, tls_verify off, plaintext route, unused key, record on a
# retired key.  The JSON has the shape of SPEC §6.
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
write_conf "$T/tr.conf"
C=(-c "$T/tr.conf")
"$CTL" "${C[@]}" key init > /dev/null 2>&1
for t in alpha beta gamma; do
    printf 'pw-of-%s\n' "$t" | "$CTL" "${C[@]}" tenant set "$t" --host "smtp.$t.example" --sender "n@$t.example" \
        --username "u@$t.example" --password-stdin --no-test > /dev/null 2>&1
done
chmod 750 "$T/etc/tenants"; chmod 640 "$T"/etc/tenants/*.conf
"$CTL" "${C[@]}" --json audit > "$T/clean.json"
ok "clean store -> 0" test $? = 0
codes() { /usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(set(f["code"] for f in json.load(open(sys.argv[1]))["findings"]))))' "$1"; }
ok "clean store: no findings, ok true" /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["findings"] == []
ids = [t["id"] for t in d["tenants"]]
assert ids == ["default", "alpha", "beta", "gamma"], ids
for t in d["tenants"][1:]:
    for k in ("host", "port", "tls", "verified", "username", "sender", "key_id", "secret", "created", "updated"):
        assert k in t, k
    assert t["secret"] == "opens" and t["tls"] == "starttls" and t["port"] == 25 and t["verified"] is False
' "$T/clean.json"

file_of() { grep -l "id = \"$1\"" "$T"/etc/tenants/*.conf; }
token_of() { sed -n "/id = \"$1\"/,/}/s/^    password = \"\(.*\)\";/\1/p" "$(file_of "$1")"; }
set_token() { local f; f=$(file_of "$1"); sed -i "/id = \"$1\"/,/}/s|^    password = \".*\";|    password = \"$2\";|" "$f"; }

# Plant one problem of each kind.
A=$(token_of alpha); B=$(token_of beta)
set_token alpha "$B"                                            # swapped: beta's token on alpha
G=$(token_of gamma); last=${G: -2:1}; [ "$last" = A ] && rep=B || rep=A
set_token gamma "${G:0:${#G}-2}$rep${G: -1}"                    # tampered
set_token beta "hunter2-plain"                                  # plaintext
"$CTL" "${C[@]}" tenant set delta --host smtp.delta.example --sender n@delta.example --no-tls-verify --no-test > /dev/null 2>&1
"$CTL" "${C[@]}" tenant set eps --host 127.0.0.1 --port 2525 --sender n@eps.example --tls none --insecure-plaintext --no-test > /dev/null 2>&1
chmod 644 "$T/etc/master.key"                                   # key file readable by others
chmod 666 "$(file_of delta)"                                    # store writable by others
"$CTL" "${C[@]}" --json audit > "$T/a1.json" 2> "$T/a1.err"
ok "findings -> exit 1" test $? = 1
ok "ok is false" /usr/bin/python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["ok"] is not False)' "$T/a1.json"
found=$(codes "$T/a1.json")
for code in plaintext_secret secret_unopenable key_file_permissions store_writable tls_verify_off plaintext_route; do
    ok "finding $code" bash -c '[[ " $0 " == *" $1 "* ]]' "$found" "$code"
done
ok "swapped token (alpha) fails to open" /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
f = [f for f in d["findings"] if f["code"] == "secret_unopenable"]
assert sorted(x["tenant"] for x in f) == ["alpha", "gamma"], f
assert all(set(x) == {"severity", "code", "tenant", "detail"} for x in d["findings"])
assert [t["secret"] for t in d["tenants"] if t["id"] == "beta"] == ["plaintext"]
' "$T/a1.json"
ok "the audit never prints the plaintext it found" bash -c '! grep -q hunter2-plain "$0" "$1"' "$T/a1.json" "$T/a1.err"
"$CTL" "${C[@]}" audit > "$T/a1.txt" 2>&1
ok "text audit -> 1" test $? = 1
ok "text audit lists the findings" grep -q "plaintext_secret" "$T/a1.txt"

# Keys: an unused key, then a record on a retired key.
chmod 600 "$T/etc/master.key"
"$CTL" "${C[@]}" tenant remove beta > /dev/null 2>&1; "$CTL" "${C[@]}" tenant remove alpha > /dev/null 2>&1
"$CTL" "${C[@]}" tenant remove gamma > /dev/null 2>&1
printf 'pw\n' | "$CTL" "${C[@]}" tenant set zeta --host smtp.zeta.example --sender n@zeta.example \
    --username u --password-stdin --no-test > /dev/null 2>&1
OLD=$("$CTL" "${C[@]}" key list | awk '$2=="primary"{print $1}')
cp "$T/etc/tenants/$(basename "$(file_of zeta)")" "$T/zeta.before"
"$CTL" "${C[@]}" key rotate > /dev/null 2>&1
"$CTL" "${C[@]}" --json audit > "$T/a2.json"
ok "finding unused_key after rotation" bash -c '[[ " $0 " == *" unused_key "* ]]' "$(codes "$T/a2.json")"
# Put zeta's old token back and mark its key retired by hand.
cp "$T/zeta.before" "$(file_of zeta)"
sed -i "s/^key $OLD active /key $OLD retired /" "$T/etc/master.key"
"$CTL" "${C[@]}" --json audit > "$T/a3.json"
ok "finding retired_key_in_use" bash -c '[[ " $0 " == *" retired_key_in_use "* ]]' "$(codes "$T/a3.json")"
ok "the record on the retired key no longer opens (a retired key opens nothing)" /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); assert [t["secret"] for t in d["tenants"] if t["id"] == "zeta"] == ["fails"]' "$T/a3.json"
ok "finding secret_unopenable names the retired key" /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert any(f["code"] == "secret_unopenable" and "retired key" in f["detail"] for f in d["findings"])' "$T/a3.json"
ok "audit: usage -> 64" bash -c '"$0" -c "$1" audit extra >/dev/null 2>&1; [ $? = 64 ]' "$CTL" "$T/tr.conf"
ok "audit: bad config -> 78" bash -c '"$0" -c /nonexistent audit >/dev/null 2>&1; [ $? = 78 ]' "$CTL"
finish
