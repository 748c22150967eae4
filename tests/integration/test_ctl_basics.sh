#!/bin/bash
# tenantrelayctl: --help lists every command of the contract; a command that
# is not built yet says so and exits 69 (never a fake success).
. "$(dirname "$0")/lib.sh"

"$TR_BIN_CTL" --help > "$T/help" 2>&1
for cmd in key seal tenant test audit queue status reload; do
    ok "--help lists $cmd" grep -q "^  $cmd" "$T/help"
done
ok "no command -> 64" bash -c '"$0" >/dev/null 2>&1; [ $? = 64 ]' "$TR_BIN_CTL"
ok "unknown command -> 64" bash -c '"$0" frobnicate >/dev/null 2>&1; [ $? = 64 ]' "$TR_BIN_CTL"
ok "-c without a file -> 64" bash -c '"$0" status -c >/dev/null 2>&1; [ $? = 64 ]' "$TR_BIN_CTL"
# Whatever is not built yet must answer 69 with a message, never 0.
for cmd in key seal tenant test audit queue status reload; do
    "$TR_BIN_CTL" -c /nonexistent.conf "$cmd" list > "$T/out" 2> "$T/err" < /dev/null
    rc=$?
    if grep -q "is not built yet" "$T/err"; then
        ok "$cmd not built yet -> 69" test "$rc" = 69
    else
        ok "$cmd answers with a real status (not a silent 0 on a missing config)" test "$rc" != 0
    fi
done
finish
