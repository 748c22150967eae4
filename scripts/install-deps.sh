#!/bin/bash
# Install every Debian 12 package that building, testing and the demo need.
# Idempotent; run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
    # build
    autoconf automake pkg-config build-essential
    libssl-dev libsodium-dev libconfig-dev libmilter-dev libjansson-dev libcmocka-dev
    libcurl4-openssl-dev libpq-dev libmicrohttpd-dev
    # real parts the tests talk to
    python3-aiosmtpd swaks libnet-ssleay-perl libio-socket-ssl-perl postfix
    # Cyrus SASL's PLAIN/LOGIN plugins for the private Sendmail's AUTH (test_milter_sendmail.sh)
    libsasl2-modules stunnel4 miltertest openssl ca-certificates curl
    postgresql-15 prometheus chromium chromium-driver python3-selenium
    python3-cryptography  # the OAuth2 tests' token endpoint verifies JWT client assertions (PS256/RS256)
    # a fresh Debian 12 root for CI (.ci/run)
    mmdebstrap
    # fuzzing and sanitizers (clang's libFuzzer), unit checks
    clang libclang-rt-14-dev
    # llvm-symbolizer: sanitizer reports with names, which leak suppressions match on
    llvm
    # systemd-analyze for the unit checks; ps for process checks
    systemd procps
    # strace: test_vault_hygiene.sh checks how the keyring and store temp files are opened
    strace
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    # Postfix must not ask questions nor configure the system instance.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
