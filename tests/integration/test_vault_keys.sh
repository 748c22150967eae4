#!/bin/bash
# Keyring and sealing through tenantrelayctl: key init refuses to overwrite,
# a keyring open to group/others is refused (a systemd credential is not),
# seal gives a token, rotation re-seals every record and the config's
# default-route token (the rest of the config byte for byte), retire is
# refused while a key is in use.
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
write_conf "$T/tr.conf"
C=(-c "$T/tr.conf")
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

"$CTL" "${C[@]}" key init > "$T/init.out" 2> "$T/init.err"
ok "key init -> 0" test $? = 0
ok "key file mode 0600" test "$(stat -c %a "$T/etc/master.key")" = 600
ok "key init names the backup" grep -q "back up" "$T/init.err"
cp "$T/etc/master.key" "$T/master.key.orig"
"$CTL" "${C[@]}" key init > /dev/null 2> "$T/init2.err"
ok "key init again -> 73" test $? = 73
ok "key init again says it refuses to overwrite" grep -q "refusing to overwrite" "$T/init2.err"
ok "key init again left the keyring as it was" cmp -s "$T/etc/master.key" "$T/master.key.orig"
ok "the key bytes are not the key id" bash -c '! grep -q "$(awk "/^key/{print \$2}" "$0")" <(awk "/^key/{print \$5}" "$0" | base64 -d | od -An -tx1 | tr -d " \n")' "$T/etc/master.key"

# Sealing: secret on stdin, token on stdout.
printf 'platform-secret-1\n' | "$CTL" "${C[@]}" seal --tenant default --field password > "$T/tok" 2> "$T/seal.err"
ok "seal -> 0" test $? = 0
ok "seal prints one trv1 token" grep -Eq '^trv1:[0-9a-f]{12}:[A-Za-z0-9_-]+$' "$T/tok"
ok "seal output holds no plaintext" bash -c '! grep -q platform-secret-1 "$0" "$1"' "$T/tok" "$T/seal.err"
ok "seal --tenant with a bad id -> 65" bash -c 'echo x | "$0" -c "$1" seal --tenant ../x --field password >/dev/null 2>&1; [ $? = 65 ]' "$CTL" "$T/tr.conf"
ok "seal without --field -> 64" bash -c 'echo x | "$0" -c "$1" seal --tenant a >/dev/null 2>&1; [ $? = 64 ]' "$CTL" "$T/tr.conf"
ok "seal of an empty secret -> 65" bash -c '"$0" -c "$1" seal --tenant a --field password </dev/null >/dev/null 2>&1; [ $? = 65 ]' "$CTL" "$T/tr.conf"

# The default route carries the sealed token.
TOKEN=$(cat "$T/tok")
sed -i '/^default_route/d;/^  sender = "notifications/d' "$T/tr.conf"
cat >> "$T/tr.conf" <<CONF
# a comment that must survive rotation byte for byte
default_route = { host = "127.0.0.1"; port = 2465; tls = "implicit";
  username = "relay@platform.test";
  password = "$TOKEN";
  sender = "notifications@platform.test"; };
CONF
for i in 1 2 3; do
    printf 'tenant-pw-%s\n' "$i" | "$CTL" "${C[@]}" tenant set "t$i" --host "smtp$i.example" \
        --sender "n@t$i.example" --username "u$i" --password-stdin --no-test > /dev/null 2>&1
done
"$CTL" "${C[@]}" --json key list > "$T/keys1.json"
OLD=$(json "$T/keys1.json" 'd["keys"][0]["id"]')
ok "key list --json: one primary key used 4 times" test "$(json "$T/keys1.json" '[k["state"], k["uses"]] if (k:=d["keys"][0]) else 0')" = "['primary', 4]"
"$CTL" "${C[@]}" key retire "$OLD" > /dev/null 2> "$T/retire1.err"
ok "retire of the key in use -> 65" test $? = 65
ok "retire says why" grep -q "still seals" "$T/retire1.err"

cp "$T/tr.conf" "$T/tr.conf.before"
"$CTL" "${C[@]}" key rotate > "$T/rotate.out" 2>&1
ok "key rotate -> 0" test $? = 0
"$CTL" "${C[@]}" --json key list > "$T/keys2.json"
NEW=$(json "$T/keys2.json" '[k["id"] for k in d["keys"] if k["state"]=="primary"][0]')
ok "rotate made a new primary" test -n "$NEW" -a "$NEW" != "$OLD"
ok "old key now seals nothing" test "$(json "$T/keys2.json" '[k["uses"] for k in d["keys"] if k["id"]=="'"$OLD"'"][0]')" = 0
ok "new key seals all 4" test "$(json "$T/keys2.json" '[k["uses"] for k in d["keys"] if k["id"]=="'"$NEW"'"][0]')" = 4
ok "no record on the old key" bash -c '! grep -rq "trv1:$0" "$1" "$2"' "$OLD" "$T/etc/tenants" "$T/tr.conf"
NEWTOKEN=$(sed -n 's/^  password = "\(.*\)";$/\1/p' "$T/tr.conf")
ok "config token re-sealed with the new key" bash -c '[[ "$0" == trv1:$1:* ]]' "$NEWTOKEN" "$NEW"
ok "rest of the config byte for byte" cmp -s <(sed "s|$TOKEN|X|" "$T/tr.conf.before") <(sed "s|$NEWTOKEN|X|" "$T/tr.conf")
"$CTL" "${C[@]}" --json audit > "$T/audit.json" 2>&1
ok "after rotation every secret opens" test "$(json "$T/audit.json" 'sorted(set(r["secret"] for r in d["tenants"]))')" = "['opens']"
ok "after rotation every secret on the new key" test "$(json "$T/audit.json" 'sorted(set(r["key_id"] for r in d["tenants"]))')" = "['$NEW']"
ok "audit flags the now unused old key" test "$(json "$T/audit.json" '[f["code"] for f in d["findings"]]')" = "['unused_key']"
"$CTL" "${C[@]}" key retire "$OLD" > /dev/null 2>&1
ok "retire of the unused key -> 0" test $? = 0
ok "retire of the primary -> 65" bash -c '"$0" -c "$1" key retire "$2" >/dev/null 2>&1; [ $? = 65 ]' "$CTL" "$T/tr.conf" "$NEW"
"$CTL" "${C[@]}" audit > "$T/audit2.out" 2>&1
ok "audit clean after retire -> 0" test $? = 0
ok "change log records the rotation" grep -q "action=key-rotate" "$T/log/changes.log"

# Keyring open to group/others: refused with a clear message.
chmod 640 "$T/etc/master.key"
echo x | "$CTL" "${C[@]}" seal --tenant a --field password > /dev/null 2> "$T/mode.err"
ok "group-readable keyring -> 77" test $? = 77
ok "the message says how to fix it" grep -q "chmod 600" "$T/mode.err"
chmod 604 "$T/etc/master.key"
ok "world-readable keyring refused" bash -c 'echo x | "$0" -c "$1" seal --tenant a --field password >/dev/null 2>&1; [ $? = 77 ]' "$CTL" "$T/tr.conf"
chmod 400 "$T/etc/master.key"
ok "mode 0400 accepted" bash -c 'echo x | "$0" -c "$1" seal --tenant a --field password >/dev/null 2>&1' "$CTL" "$T/tr.conf"

# A systemd credential: mode not judged.
mkdir -p "$T/creds"
cp "$T/etc/master.key" "$T/creds/tenantrelay.key"
chmod 644 "$T/creds/tenantrelay.key"
sed 's|^key_file = .*|key_credential = "tenantrelay.key";|' "$T/tr.conf" > "$T/cred.conf"
ok "credential without CREDENTIALS_DIRECTORY -> refused" bash -c 'echo x | env -u CREDENTIALS_DIRECTORY "$0" -c "$1" seal --tenant a --field password >/dev/null 2>&1; [ $? != 0 ]' "$CTL" "$T/cred.conf"
printf 'y\n' | CREDENTIALS_DIRECTORY="$T/creds" "$CTL" -c "$T/cred.conf" seal --tenant a --field password > "$T/ctok" 2> "$T/cred.err"
ok "credential (mode 0644) accepted" test $? = 0 -a -s "$T/ctok"
ok "key init refuses with key_credential -> 78" bash -c '"$0" -c "$1" key init >/dev/null 2>&1; [ $? = 78 ]' "$CTL" "$T/cred.conf"
ok "key: usage -> 64" bash -c '"$0" -c "$1" key frob >/dev/null 2>&1; [ $? = 64 ]' "$CTL" "$T/tr.conf"
finish
