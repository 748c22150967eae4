#!/bin/bash
# No file of src/ over 800 lines: past that a file holds more than one
# concept (issue #15).  Exit 1 naming each one.
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
status=0
while IFS= read -r -d '' f; do
    n=$(wc -l < "$f")
    if [ "$n" -gt 800 ]; then
        echo "file_size: ${f#"$src"/} has $n lines (limit 800): split it by concept"
        status=1
    fi
done < <(find "$src/src" -name '*.[ch]' -print0)
[ $status = 0 ] && echo "file_size: every file of src/ within 800 lines"
exit $status
