#!/bin/bash
# Vault hygiene with the real tenantrelayctl: a retired key opens nothing
# (a token sealed under it fails to open and audit reports it), `key
# retire` removes the key's bytes from the keyring file, an older keyring
# whose retired key still has its bytes loses them at the next save; the
# keyring and store temp files are created O_EXCL|O_NOFOLLOW under
# unpredictable names; a keyring owned by another user is refused with the
# fix named.
. "$(dirname "$0")/lib.sh"
tr_require strace strace
CTL="$TR_BIN_CTL"
write_conf "$T/tr.conf"
C=(-c "$T/tr.conf")
KR="$T/etc/master.key"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
file_of() { grep -l "id = \"$1\"" "$T"/etc/tenants/*.conf; }

"$CTL" "${C[@]}" key init > /dev/null 2>&1
printf 'zeta-S3cret-pw\n' | "$CTL" "${C[@]}" tenant set zeta --host smtp.zeta.example --sender n@zeta.example \
    --username u --password-stdin --no-test > /dev/null 2>&1
OLD=$(awk '$3=="primary"{print $2}' "$KR")
OLDB64=$(awk '$3=="primary"{print $5}' "$KR")
cp "$(file_of zeta)" "$T/zeta.before"

# Temp files: unpredictable names, O_EXCL|O_NOFOLLOW (keyring and store).
# (LeakSanitizer cannot run under ptrace: off for the traced runs only.)
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace "$@"; }
traced -f -e trace=open,openat -o "$T/rotate.trace" "$CTL" "${C[@]}" key rotate > /dev/null 2>&1
ok "key rotate -> 0" test $? = 0
ok "keyring temp file: .master.key.tmp.<16 random hex>, O_EXCL|O_NOFOLLOW" \
    grep -Eq '/\.master\.key\.tmp\.[0-9a-f]{16}", O_WRONLY\|O_CREAT\|O_EXCL\|O_NOFOLLOW\|O_CLOEXEC' "$T/rotate.trace"
ok "store temp file: .NAME.tmp.<16 random hex>, O_EXCL|O_NOFOLLOW" \
    grep -Eq '/tenants/\.[^"/]+\.tmp\.[0-9a-f]{16}", O_WRONLY\|O_CREAT\|O_EXCL\|O_NOFOLLOW\|O_CLOEXEC' "$T/rotate.trace"
ok "no temp file opened with O_TRUNC" bash -c '! grep "\.tmp\." "$0" | grep -q O_TRUNC' "$T/rotate.trace"
traced -f -e trace=open,openat -o "$T/rotate2.trace" "$CTL" "${C[@]}" key rotate > /dev/null 2>&1
ok "two runs, two different temp names" test \
    "$(grep -Eo 'master\.key\.tmp\.[0-9a-f]{16}' "$T/rotate.trace" | head -1)" != \
    "$(grep -Eo 'master\.key\.tmp\.[0-9a-f]{16}' "$T/rotate2.trace" | head -1)"
ok "no temp file left behind" bash -c '! ls -A "$0" "$1" | grep -q "\.tmp\."' "$T/etc" "$T/etc/tenants"

# Retire: the key's bytes leave the keyring file.
"$CTL" "${C[@]}" key retire "$OLD" > "$T/retire.out" 2>&1
ok "retire of the unused old key -> 0" test $? = 0
ok "the keyring keeps its id and date, state retired, no bytes" grep -Eq "^key $OLD retired [0-9T:Z-]+ -$" "$KR"
ok "the key's bytes are gone from the keyring file" bash -c '! grep -qF -- "$0" "$1"' "$OLDB64" "$KR"
ok "key list still names it (retired)" bash -c '"$0" -c "$1" key list | grep -q "^$2 *retired"' "$CTL" "$T/tr.conf" "$OLD"

# A token sealed under the retired key opens nothing, and audit says so.
cp "$T/zeta.before" "$(file_of zeta)"
"$CTL" "${C[@]}" --json audit > "$T/audit.json" 2> "$T/audit.err"
ok "audit -> 1 (findings)" test $? = 1
ok "zeta's secret fails to open" test "$(json "$T/audit.json" '[t["secret"] for t in d["tenants"] if t["id"]=="zeta"]')" = "['fails']"
ok "findings: retired_key_in_use and secret_unopenable for zeta" \
    test "$(json "$T/audit.json" 'sorted(f["code"] for f in d["findings"] if f["tenant"]=="zeta")')" = "['retired_key_in_use', 'secret_unopenable']"
ok "the finding says the key is retired" bash -c 'grep -q "retired key $1, which opens nothing" "$0"' "$T/audit.json" "$OLD"
ok "the secret never shows" bash -c '! grep -rq "zeta-S3cret-pw" "$0" "$1" "$2"' "$T/audit.json" "$T/audit.err" "$T/etc"

# An older keyring: a retired key with its bytes still there opens nothing,
# and the next save removes them.
printf 'pw2\n' | "$CTL" "${C[@]}" tenant set zeta --password-stdin --no-test > /dev/null 2>&1
MID=$(awk '$3=="primary"{print $2}' "$KR")     # zeta's key; active after the rotation
MIDB64=$(awk -v id="$MID" '$2==id{print $5}' "$KR")
cp "$(file_of zeta)" "$T/zeta.mid"
"$CTL" "${C[@]}" key rotate > /dev/null 2>&1
cp "$T/zeta.mid" "$(file_of zeta)"
sed -i "s/^key $MID active /key $MID retired /" "$KR"
"$CTL" "${C[@]}" --json audit > "$T/audit2.json" 2>&1
ok "hand-retired key with its bytes: the token on it fails to open" \
    test "$(json "$T/audit2.json" '[t["secret"] for t in d["tenants"] if t["id"]=="zeta"]')" = "['fails']"
printf 'pw3\n' | "$CTL" "${C[@]}" tenant set zeta --password-stdin --no-test > /dev/null 2>&1
"$CTL" "${C[@]}" key rotate > /dev/null 2>&1
ok "the next keyring save removes its bytes" bash -c '! grep -qF -- "$0" "$1" && grep -q "^key $2 retired .* -$" "$1"' "$MIDB64" "$KR" "$MID"

# Owner: root or the running user only.
chown 1 "$KR"
echo x | "$CTL" "${C[@]}" seal --tenant a --field password > /dev/null 2> "$T/owner.err"
ok "a keyring owned by another user -> 77" test $? = 77
ok "the message names the owner and the fix" bash -c 'grep -q "owned by uid 1" "$0" && grep -q "chown root" "$0"' "$T/owner.err"
chown 0 "$KR"
ok "owned by root again: accepted" bash -c 'echo x | "$0" -c "$1" seal --tenant a --field password > /dev/null 2>&1' "$CTL" "$T/tr.conf"
finish
