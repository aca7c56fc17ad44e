#!/usr/bin/env bash
# Idempotent installer for the SoftHSM2 test tooling used by hsmkit.
#
# Ensures these are present (Debian/Ubuntu package in brackets):
#   softhsm2-util                              [softhsm2]
#   /usr/lib/softhsm/libsofthsm2.so            [softhsm2]
#   pkcs11-tool                                [opensc]
#   gcc                                        [gcc]
#   /usr/include/p11-kit-1/p11-kit/pkcs11.h    [libp11-kit-dev]
#   curl, openssl (TLS clients of the end-to-end tests)   [curl, openssl]
#   /usr/lib/postgresql/*/bin/initdb (the KMS tests' PostgreSQL)   [postgresql]
#
# If everything is already there it prints one line and exits 0 without
# touching anything. Otherwise it runs `apt-get update` once and installs only
# the missing packages. It uses sudo only when not root and sudo exists.
set -euo pipefail

readonly SOFTHSM_LIB=/usr/lib/softhsm/libsofthsm2.so
readonly PKCS11_HEADER=/usr/include/p11-kit-1/p11-kit/pkcs11.h

log() { printf 'install.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Sets the global array MISSING to the packages that are missing.
# (No mapfile/namerefs: this must run on bash 3.2 too, to print its
# "not a Debian system" message there.)
check_missing() {
    MISSING=()
    if ! command -v softhsm2-util >/dev/null 2>&1 || [[ ! -e $SOFTHSM_LIB ]]; then
        MISSING+=(softhsm2)
    fi
    if ! command -v pkcs11-tool >/dev/null 2>&1; then
        MISSING+=(opensc)
    fi
    if [[ ! -e $PKCS11_HEADER ]]; then
        MISSING+=(libp11-kit-dev)
    fi
    if ! command -v gcc >/dev/null 2>&1; then
        MISSING+=(gcc)
    fi
    if ! command -v curl >/dev/null 2>&1; then
        MISSING+=(curl)
    fi
    if ! command -v openssl >/dev/null 2>&1; then
        MISSING+=(openssl)
    fi
    if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
        MISSING+=(postgresql)
    fi
}

check_missing
if ((${#MISSING[@]} == 0)); then
    echo "softhsm-config/install.sh: all prerequisites present (softhsm2-util, pkcs11-tool, $SOFTHSM_LIB, gcc, $PKCS11_HEADER, curl, openssl, postgresql); nothing to do."
    exit 0
fi

missing=("${MISSING[@]}")
log "missing packages: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
    what=""
    for pkg in "${missing[@]}"; do
        case $pkg in
            softhsm2)       what+=$'\n'"  - SoftHSM 2.x: softhsm2-util and libsofthsm2.so (expected at $SOFTHSM_LIB)" ;;
            opensc)         what+=$'\n'"  - OpenSC: pkcs11-tool" ;;
            curl)           what+=$'\n'"  - curl (a TLS client of the end-to-end tests)" ;;
            openssl)        what+=$'\n'"  - openssl (s_client, a TLS client of the end-to-end tests)" ;;
            libp11-kit-dev) what+=$'\n'"  - p11-kit development headers: $PKCS11_HEADER" ;;
            gcc)            what+=$'\n'"  - gcc" ;;
        esac
    done
    die "apt-get not found (not a Debian/Ubuntu system). Install with your package manager:$what
  (Debian package names: ${missing[*]})"
fi

# Privilege escalation: none when root, sudo when available, else fail.
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        die "not running as root and sudo is not available; run as root: apt-get install -y --no-install-recommends ${missing[*]}"
    fi
fi

export DEBIAN_FRONTEND=noninteractive

log "running apt-get update"
${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update \
    || die "apt-get update failed"

log "running apt-get install -y --no-install-recommends ${missing[*]}"
${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"

# Verify: the packages must actually have provided what we need.
missing=("${MISSING[@]}")
check_missing
if ((${#MISSING[@]} > 0)); then
    die "still missing after install (check the paths above); packages: ${MISSING[*]}"
fi

log "done: installed ${missing[*]}"
