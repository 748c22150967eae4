# Sourced by the bench scripts (no arguments, so $1 is the script's):
# here (bench/), top_srcdir, top_builddir (from the environment, else the
# current directory when it holds a built tenantrelayd, else build/ of the
# sources), -k to keep the work directory, and the test harness lib.sh.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
if [ -z "${top_builddir:-}" ]; then
    if [ -x "$PWD/tenantrelayd" ]; then top_builddir=$PWD
    elif [ -x "$top_srcdir/build/tenantrelayd" ]; then top_builddir=$top_srcdir/build
    else top_builddir=$top_srcdir; fi
fi
[ "${1:-}" = -k ] && export TR_KEEP=1
. "$top_srcdir/tests/integration/lib.sh"
