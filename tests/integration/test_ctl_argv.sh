#!/bin/bash
# tenantrelayctl's global options (-c, --json) count only before the command
# word, and -- ends them: driven as a platform drives it (an argv array, no
# shell), a tenant-chosen user name "-c" (followed by values the tenant also
# chose) never re-points the configuration; the read-only commands still
# take --json as their own flag.
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
GOOD="$T/good.conf"
write_conf "$GOOD"
"$CTL" -c "$GOOD" key init > /dev/null 2>&1
# An evil configuration: another tenant store, another keyring.
mkdir -p "$T/evil" "$T/cwd"
sed "s|$T/etc/|$T/evil/|g" "$GOOD" > "$T/evil.conf"
# A file named like the token that would follow "-c" (the old parser took it).
cp "$T/evil.conf" "$T/cwd/--password-stdin"
cp "$T/evil.conf" "$T/cwd/--sender"

# platform ID USERNAME SENDER: the platform's call, an argv array (no shell).
cat > "$T/platform.py" <<'PY'
import subprocess, sys
ctl, conf, tid, user, sender = sys.argv[1:6]
argv = [ctl, "-c", conf, "tenant", "set", tid, "--host", "smtp.example.com", "--port", "587",
        "--username", user, "--password-stdin", "--sender", sender, "--no-test"]
r = subprocess.run(argv, input="tenant-pw", capture_output=True, text=True)
sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)
sys.exit(r.returncode)
PY
platform() { (cd "$T/cwd" && "$PYTHON3" "$T/platform.py" "$CTL" "$GOOD" "$@"); }
platform acme -c n@acme.test > "$T/p1.out" 2> "$T/p1.err"
ok "user name \"-c\": the tenant is saved (exit 0)" test "$?" = 0
ok "... in the configured store, with the user name \"-c\"" \
    test "$("$CTL" -c "$GOOD" --json tenant show acme | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["username"])')" = "-c"
ok "... and nothing in the other store" test ! -e "$T/evil/tenants"
platform beta --json n@beta.test > "$T/p2.out" 2> "$T/p2.err"
ok "user name \"--json\": saved as that name, output not switched to JSON" \
    bash -c '[ "$0" = 0 ] && ! grep -q "^{" "$1"' "$?" "$T/p2.out"
(cd "$T/cwd" && printf 'pw' | "$CTL" -c "$GOOD" tenant set gamma --host smtp.example.com --username -c \
    --sender /tmp/x --password-stdin --no-test > /dev/null 2> "$T/p3.err")
ok "a bad value after \"-c\" is bad data for tenant set, not a configuration" \
    bash -c '[ "$0" = 65 ] && grep -q -- "--sender" "$1"' "$?" "$T/p3.err"
ok "nothing in the other store after all three" test ! -e "$T/evil/tenants"

# -c and --json after the command word are not global options.
"$CTL" -c "$GOOD" tenant show acme -c "$T/evil.conf" > /dev/null 2>&1
ok "tenant show ID -c FILE: usage error (64)" test "$?" = 64
"$CTL" status -c "$GOOD" > /dev/null 2>&1
ok "status -c FILE: usage error (64)" test "$?" = 64
"$CTL" -c "$GOOD" -x tenant list > /dev/null 2>&1
ok "unknown global option: 64" test "$?" = 64
"$CTL" -c "$GOOD" --json -- tenant list > "$T/list.json" 2>&1
ok "-- ends the global options" "$PYTHON3" -c 'import json,sys; json.load(open(sys.argv[1]))["tenants"]' "$T/list.json"
"$CTL" -c "$GOOD" -- -c "$T/evil.conf" tenant list > /dev/null 2>&1
ok "after --, \"-c\" is a command word (unknown: 64)" test "$?" = 64
# The read-only commands keep their own --json flag.
"$CTL" -c "$GOOD" tenant show acme --json > "$T/show.json" 2>&1
ok "tenant show ID --json" "$PYTHON3" -c 'import json,sys; assert json.load(open(sys.argv[1]))["id"] == "acme"' "$T/show.json"
"$CTL" -c "$GOOD" audit --json > "$T/audit.json" 2>/dev/null
ok "audit --json" "$PYTHON3" -c 'import json,sys; json.load(open(sys.argv[1]))["findings"]' "$T/audit.json"
"$CTL" -c "$GOOD" key list --json > "$T/keys.json" 2>/dev/null
ok "key list --json" "$PYTHON3" -c 'import json,sys; json.load(open(sys.argv[1]))["keys"]' "$T/keys.json"
finish
