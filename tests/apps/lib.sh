# shellcheck shell=bash
# Shared by the end-to-end tests of the `fermata` command (tests/apps/*.sh), which ctest runs as
#   bash tests/apps/NAME.sh FERMATA TMP_ROOT [ARGS...]
# Each test works in its own folder under TMP_ROOT, removed when it exits, and stops at the
# first failed check with a message saying what was expected and what the command printed.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 FERMATA TMP_ROOT [ARGS...]" >&2
  exit 2
fi
FERMATA=$1
TMP_ROOT=$2
shift 2
if [[ ! -x $FERMATA ]]; then
  echo "FAIL: '$FERMATA' is not an executable (build the fermata_cli target)" >&2
  exit 1
fi
FERMATA=$(cd "$(dirname "$FERMATA")" && pwd)/$(basename "$FERMATA")
mkdir -p "$TMP_ROOT"
WORK=$(mktemp -d "$TMP_ROOT/$(basename "$0" .sh).XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# What the last run_* printed, for failure messages.
show_last() {
  echo "--- stdout of: $LAST_CMD" >&2
  cat last.out >&2 || true
  echo "--- stderr" >&2
  cat last.err >&2 || true
}

# run_ok ARGS...: runs `fermata ARGS...`, keeping its output in last.out / last.err; fails
# unless it exits 0.
run_ok() {
  LAST_CMD="fermata $*"
  local rc=0
  "$FERMATA" "$@" >last.out 2>last.err || rc=$?
  if [[ $rc -ne 0 ]]; then
    show_last
    fail "'$LAST_CMD' exited with $rc, expected 0"
  fi
}

# run_fails ARGS...: the same, but the command must exit non-zero and say something on stderr.
run_fails() {
  LAST_CMD="fermata $*"
  local rc=0
  "$FERMATA" "$@" >last.out 2>last.err || rc=$?
  if [[ $rc -eq 0 ]]; then
    show_last
    fail "'$LAST_CMD' exited with 0, expected a failure"
  fi
  if [[ ! -s last.err ]]; then
    show_last
    fail "'$LAST_CMD' failed (exit $rc) without a message on stderr"
  fi
}

# expect_in FILE TEXT: FILE (last.out, last.err, ...) contains TEXT literally.
expect_in() {
  if ! grep -qF -- "$2" "$1"; then
    show_last
    fail "'$LAST_CMD': expected '$2' in $1"
  fi
}

# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The first N bytes of FILE as unsigned decimal numbers separated by single spaces.
bytes_of() { od -An -tu1 -N"$2" -j"${3:-0}" "$1" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'; }
