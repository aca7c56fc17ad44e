#!/usr/bin/env bash
# Create (or reuse) an ISOLATED SoftHSM2 token in its own directory.
#
# Usage:
#   make-token.sh --dir DIR --label LABEL [--so-pin PIN] [--user-pin PIN] [--force]
#
# Layout (DIR is made absolute, mode 0700):
#   DIR/softhsm2.conf   generated from softhsm2.conf.template (next to this script)
#   DIR/tokens/         SoftHSM token directory
#   DIR/token.env       the KEY=VALUE lines below, mode 0600
#
# stdout carries exactly these lines and nothing else (progress goes to stderr):
#   HSMKIT_PKCS11_LIBRARY=/usr/lib/softhsm/libsofthsm2.so
#   SOFTHSM2_CONF=/abs/DIR/softhsm2.conf
#   HSMKIT_TOKEN_DIR=/abs/DIR/tokens
#   HSMKIT_TOKEN_LABEL=LABEL
#   HSMKIT_SLOT_ID=123456
#   HSMKIT_SO_PIN=...
#   HSMKIT_USER_PIN=...
# Values are plain unless they contain characters outside [A-Za-z0-9_./:@%+,=-];
# then they are single-quoted shell style ('it'\''s'). So both
# `eval "$(make-token.sh ...)"` / `. DIR/token.env` and a KEY=VALUE parser work.
#
# Re-running with the same DIR and LABEL reuses the token and prints the same
# values. --force deletes the token state in DIR first (tokens/, softhsm2.conf,
# token.env) and makes a new token.
set -euo pipefail

readonly PROG=make-token.sh
readonly MAX_LABEL_BYTES=32   # CK_TOKEN_INFO.label is 32 bytes, space padded

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
Usage: make-token.sh --dir DIR --label LABEL [--so-pin PIN] [--user-pin PIN] [--force]

Creates (or reuses) an isolated SoftHSM2 token in DIR and prints
HSMKIT_PKCS11_LIBRARY, SOFTHSM2_CONF, HSMKIT_TOKEN_DIR, HSMKIT_TOKEN_LABEL,
HSMKIT_SLOT_ID, HSMKIT_SO_PIN and HSMKIT_USER_PIN as KEY=VALUE lines on stdout
(also stored in DIR/token.env, mode 0600). PINs are random when not given.

  --dir DIR         directory for this token (created, mode 0700)
  --label LABEL     token label, 1..32 bytes
  --so-pin PIN      security officer PIN (4..255 chars; default random)
  --user-pin PIN    user PIN (4..255 chars; default random)
  --force           delete the token state in DIR and create a new token
  -h, --help        show this help

Example:
  eval "$(softhsm-config/make-token.sh --dir /tmp/hsmkit-tok --label hsmkit-test)"
EOF
}

# ---------------------------------------------------------------- arguments
dir="" label="" so_pin="" user_pin="" force=0
so_pin_given=0 user_pin_given=0

need_value() { [[ $# -ge 2 ]] || die "option $1 needs a value (see --help)"; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --dir)       need_value "$@"; dir=$2; shift 2 ;;
        --dir=*)     dir=${1#*=}; shift ;;
        --label)     need_value "$@"; label=$2; shift 2 ;;
        --label=*)   label=${1#*=}; shift ;;
        --so-pin)    need_value "$@"; so_pin=$2; so_pin_given=1; shift 2 ;;
        --so-pin=*)  so_pin=${1#*=}; so_pin_given=1; shift ;;
        --user-pin)  need_value "$@"; user_pin=$2; user_pin_given=1; shift 2 ;;
        --user-pin=*) user_pin=${1#*=}; user_pin_given=1; shift ;;
        --force)     force=1; shift ;;
        -h|--help)   usage; exit 0 ;;
        *)           usage; die "unknown argument: $1" ;;
    esac
done

[[ -n $dir ]]   || { usage; die "--dir is required"; }
[[ -n $label ]] || { usage; die "--label is required"; }

# Byte length, not character length: the PKCS#11 label field is 32 bytes.
label_bytes=$(printf '%s' "$label" | LC_ALL=C wc -c | tr -d ' ')
((label_bytes <= MAX_LABEL_BYTES)) \
    || die "label '$label' is $label_bytes bytes; PKCS#11 token labels are at most $MAX_LABEL_BYTES"
[[ $label != *[[:cntrl:]]* ]] || die "label must not contain control characters"
# SoftHSM pads the label with spaces, so leading/trailing blanks cannot be
# told apart when looking the token up again.
[[ $label != [[:space:]]* && $label != *[[:space:]] ]] \
    || die "label must not start or end with whitespace"

check_pin() { # name value
    local len=${#2}
    ((len >= 4 && len <= 255)) || die "$1 must be 4..255 characters (SoftHSM limits)"
    [[ $2 != *[[:cntrl:]]* ]] || die "$1 must not contain control characters"
}
((so_pin_given == 0))   || check_pin --so-pin "$so_pin"
((user_pin_given == 0)) || check_pin --user-pin "$user_pin"

[[ $dir != *$'\n'* ]] || die "--dir must not contain a newline"
[[ $dir != *'#'* ]] || die "--dir must not contain '#' (SoftHSM's config parser treats it as a comment)"

# ---------------------------------------------------------------- tools
command -v softhsm2-util >/dev/null 2>&1 \
    || die "softhsm2-util not found; run softhsm-config/install.sh (or: apt-get install softhsm2 opensc)"

find_library() {
    local candidate
    if [[ -e /usr/lib/softhsm/libsofthsm2.so ]]; then
        printf '%s\n' /usr/lib/softhsm/libsofthsm2.so
        return 0
    fi
    for candidate in /usr/lib/*/softhsm/libsofthsm2.so; do
        if [[ -e $candidate ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}
library=$(find_library) \
    || die "libsofthsm2.so not found in /usr/lib/softhsm or /usr/lib/*/softhsm; run softhsm-config/install.sh"

script_path=${BASH_SOURCE[0]}
if command -v readlink >/dev/null 2>&1; then
    script_path=$(readlink -f -- "$script_path" 2>/dev/null || printf '%s' "$script_path")
fi
script_dir=$(cd -- "$(dirname -- "$script_path")" && pwd -P)
template=$script_dir/softhsm2.conf.template
[[ -r $template ]] || die "template not found: $template"

# ---------------------------------------------------------------- helpers
# Quote a value for a KEY=VALUE line only when needed.
shell_value() {
    local v=$1 q="'"
    if [[ $v =~ ^[A-Za-z0-9_./:@%+,=-]+$ ]]; then
        printf '%s' "$v"
    else
        printf "'%s'" "${v//$q/$q\\$q$q}"
    fi
}

random_pin() {
    local raw=""
    while ((${#raw} < 16)); do
        # Command substitution, not a pipe into `head`, so no SIGPIPE under pipefail.
        raw+=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    done
    printf '%s' "${raw:0:16}"
}

# Prints "SLOTID<TAB>LABEL" for every initialised token of the current SOFTHSM2_CONF.
# Returns non-zero (after logging SoftHSM's message) when SoftHSM fails.
list_tokens() {
    local out
    if ! out=$(softhsm2-util --show-slots 2>&1); then
        log "softhsm2-util --show-slots failed (SOFTHSM2_CONF=$SOFTHSM2_CONF):"
        printf '%s\n' "$out" >&2
        return 1
    fi
    printf '%s\n' "$out" | awk '
        /^Slot [0-9]+[[:space:]]*$/  { slot = $2; init = ""; next }
        /^[[:space:]]+Initialized:/  { init = $2; next }
        /^[[:space:]]+Label:/ {
            l = $0
            sub(/^[[:space:]]+Label:[[:space:]]*/, "", l)
            sub(/[[:space:]]+$/, "", l)
            if (init == "yes") printf "%s\t%s\n", slot, l
        }'
}

# Prints the slot ids of initialised tokens whose label is $1, one per line.
slots_for_label() {
    local tokens slot lbl
    tokens=$(list_tokens) || return 1
    [[ -n $tokens ]] || return 0
    while IFS=$'\t' read -r slot lbl; do
        if [[ $lbl == "$1" ]]; then
            printf '%s\n' "$slot"
        fi
    done <<<"$tokens"
}

# ---------------------------------------------------------------- directory
umask 077
mkdir -p -- "$dir" || die "cannot create $dir"
dir=$(cd -- "$dir" && pwd -P) || die "cannot enter $dir"
# DIR gets chmod 0700, so refuse shared directories such as / /tmp /home $HOME.
home=$(cd -- "${HOME:-/}" 2>/dev/null && pwd -P || printf '/')
if [[ $dir != /*/* || $dir == "$home" ]]; then
    die "refusing to use $dir as the token directory; use a dedicated one such as ${dir%/}/hsmkit-token"
fi
# SoftHSM's config parser treats '#' as the start of a comment, even mid-value.
[[ $dir != *'#'* ]] || die "the token directory path must not contain '#': $dir"
chmod 700 -- "$dir"

conf=$dir/softhsm2.conf
tokendir=$dir/tokens
envfile=$dir/token.env
trap 'rm -f -- "$conf.tmp.$$" "$envfile.tmp.$$"' EXIT

# Serialise concurrent runs on the same DIR (e.g. parallel test forks).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dir/.make-token.lock"
    flock 9
fi

if ((force)); then
    log "--force: deleting token state in $dir"
    rm -rf -- "$tokendir" "$conf" "$envfile"
fi

mkdir -p -- "$tokendir"
chmod 700 -- "$tokendir"

# (Re)generate the config; cheap and keeps it in sync with the template.
# Literal substitution (awk's gsub would treat & and \ in the path specially).
TOKENDIR=$tokendir awk '{
        out = ""
        while ((i = index($0, "@TOKENDIR@")) > 0) {
            out = out substr($0, 1, i - 1) ENVIRON["TOKENDIR"]
            $0 = substr($0, i + length("@TOKENDIR@"))
        }
        print out $0
    }' "$template" >"$conf.tmp.$$" || die "cannot write $conf"
mv -f -- "$conf.tmp.$$" "$conf"

export SOFTHSM2_CONF=$conf

# ---------------------------------------------------------------- token
slot_ids=$(slots_for_label "$label") || die "cannot list the tokens in $tokendir"
slot_count=$(printf '%s' "$slot_ids" | grep -c . || true)

if ((slot_count > 1)); then
    die "$dir holds $slot_count tokens labelled '$label'; use --force"
elif ((slot_count == 1)); then
    # Reuse: the PINs can only come from the stored env file.
    [[ -f $envfile ]] \
        || die "$dir already holds a token labelled '$label' but $envfile is missing (PINs unknown); use --force"
    # Read it in a subshell so nothing leaks into this script's variables.
    # Label and PINs contain no control characters, so one per line is safe.
    stored_label="" stored_so="" stored_user=""
    {
        IFS= read -r stored_label
        IFS= read -r stored_so
        IFS= read -r stored_user
    } < <(
        unset HSMKIT_TOKEN_LABEL HSMKIT_SO_PIN HSMKIT_USER_PIN
        # shellcheck source=/dev/null
        . "$envfile" >/dev/null 2>&1
        printf '%s\n' "${HSMKIT_TOKEN_LABEL-}" "${HSMKIT_SO_PIN-}" "${HSMKIT_USER_PIN-}"
    ) || true
    [[ $stored_label == "$label" && -n $stored_so && -n $stored_user ]] \
        || die "$envfile does not match the token labelled '$label'; use --force"
    if ((so_pin_given)) && [[ $so_pin != "$stored_so" ]]; then
        die "existing token '$label' in $dir has a different SO PIN; use --force to recreate it"
    fi
    if ((user_pin_given)) && [[ $user_pin != "$stored_user" ]]; then
        die "existing token '$label' in $dir has a different user PIN; use --force to recreate it"
    fi
    so_pin=$stored_so
    user_pin=$stored_user
    slot_id=$slot_ids
    log "reusing token '$label' in slot $slot_id ($dir)"
else
    others=$(list_tokens) || die "cannot list the tokens in $tokendir"
    others=$(printf '%s' "$others" | cut -f2- | paste -sd, -)
    [[ -z $others ]] \
        || die "$dir already holds other token(s) labelled: $others; use another --dir or --force"
    ((so_pin_given))   || so_pin=$(random_pin)
    ((user_pin_given)) || user_pin=$(random_pin)
    log "initialising token '$label' in $tokendir"
    softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$user_pin" >&2 \
        || die "softhsm2-util --init-token failed"
    # SoftHSM moves an initialised token to a slot id derived from its serial.
    slot_id=$(slots_for_label "$label") || die "cannot list the tokens in $tokendir"
    [[ $slot_id =~ ^[0-9]+$ ]] || die "could not find the slot of token '$label' after init"
    log "token '$label' is in slot $slot_id"
fi

# ---------------------------------------------------------------- output
output=$(
    printf 'HSMKIT_PKCS11_LIBRARY=%s\n' "$(shell_value "$library")"
    printf 'SOFTHSM2_CONF=%s\n'         "$(shell_value "$conf")"
    printf 'HSMKIT_TOKEN_DIR=%s\n'      "$(shell_value "$tokendir")"
    printf 'HSMKIT_TOKEN_LABEL=%s\n'    "$(shell_value "$label")"
    printf 'HSMKIT_SLOT_ID=%s\n'        "$slot_id"
    printf 'HSMKIT_SO_PIN=%s\n'         "$(shell_value "$so_pin")"
    printf 'HSMKIT_USER_PIN=%s\n'       "$(shell_value "$user_pin")"
)

printf '%s\n' "$output" >"$envfile.tmp.$$" || die "cannot write $envfile"
chmod 600 -- "$envfile.tmp.$$"
mv -f -- "$envfile.tmp.$$" "$envfile"

printf '%s\n' "$output"
