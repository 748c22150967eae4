#!/bin/bash
# Run a command in a clean clone of this repository inside a brand-new
# minimal Debian 12 root, built for this run by mmdebstrap from this
# machine's own apt sources.  Nothing installed by hand on the machine is
# there, so a missing install step shows up as a failure, never as luck.
#
#   scripts/fresh-root.sh [COMMAND]     default: bash scripts/test.sh
#
# The clone is of HEAD (committed work only), at /src in the root; the
# command runs there as root with IN_FRESH_ROOT=1.  Loopback networking is
# the host's.  The root lives under a temporary directory and is removed
# afterwards (FRESH_KEEP=1 keeps it).  Needs root.  Exit status: the command's.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cmd=${*:-bash scripts/test.sh}
[ "$(id -u)" = 0 ] || { echo "fresh-root.sh: needs root (mmdebstrap, chroot, mounts)" >&2; exit 77; }
export DEBIAN_FRONTEND=noninteractive
if ! command -v mmdebstrap > /dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends mmdebstrap > /dev/null
fi

root=$(mktemp -d /var/tmp/tenantrelay-fresh.XXXXXX)
mounts=()
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -l "${mounts[$i]}" 2> /dev/null || true
    done
    if [ "${FRESH_KEEP:-0}" = 1 ]; then
        echo "fresh-root.sh: kept $root"
    else
        rm -rf --one-file-system "$root"
    fi
}
trap cleanup EXIT

# The machine's own sources and apt settings (proxies, mirrors).
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sources+=("$f")
done
aptopts=()
for f in /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] && aptopts+=("--aptopt=$f")
done

t0=$SECONDS
echo "== fresh Debian 12 root: $root"
mmdebstrap --quiet --variant=minbase --include=ca-certificates,git,procps \
    bookworm "$root" "${sources[@]}" "${aptopts[@]}"
# The root a mount point of its own: inside the chroot "/" then is one, so a
# test can make a private mount namespace (unshare --mount makes "/"
# private, which fails with EINVAL on a directory that is no mount point).
mount --bind "$root" "$root"
mounts+=("$root")
for m in proc sys dev dev/pts dev/shm; do
    mkdir -p "$root/$m"
    mount --bind "/$m" "$root/$m"
    mounts+=("$root/$m")
done
# What every installed machine has beside its packages: name resolution
# settings, /etc/hosts and a host name (mmdebstrap's minbase writes none).
for f in resolv.conf hosts hostname; do
    cp "/etc/$f" "$root/etc/$f" 2> /dev/null || true
done
git clone -q "$repo" "$root/src"
echo "== root ready in $((SECONDS - t0)) s; running: $cmd"
set +e
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    CI="${CI:-}" IN_FRESH_ROOT=1 /bin/bash -c "cd /src && $cmd"
rc=$?
echo "== exit status $rc after $((SECONDS - t0)) s"
exit $rc
