#!/usr/bin/env bash
# `fermata info`, `--help` and the command line's errors: an unknown subcommand or a missing or
# bad argument exits non-zero with a message that names it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run_ok info
[[ $(head -n 1 last.out) =~ ^fermata\ [0-9]+\.[0-9]+ ]] || { show_last; fail "info: the first line should be 'fermata VERSION'"; }
grep -qE '^CUDA backend: (not built|built, [0-9]+ device)' last.out || { show_last; fail "info: no 'CUDA backend: ...' line"; }
expect_in last.out "CPU threads:"

run_ok --help
for sub in bench data features info; do
  grep -qE "^  $sub " last.out || { show_last; fail "--help does not list the subcommand '$sub'"; }
done
run_ok data --help
for sub in render info; do expect_in last.out "$sub"; done
run_ok bench --help
expect_in last.out "models"

# no subcommand, or an unknown one, at each level
run_fails
expect_in last.err "subcommand is required"
run_fails bogus
expect_in last.err "'bogus'"
expect_in last.err "features"
run_fails data bogus
expect_in last.err "'bogus'"
expect_in last.err "render"
run_fails bench nonsense
expect_in last.err "'nonsense'"

# missing and invalid arguments
run_fails data render
expect_in last.err "corpus is required"
run_fails data render genres
expect_in last.err "--out"
run_fails data render nocorpus --out x
expect_in last.err "nocorpus"
run_fails data render genres --out x --size huge
expect_in last.err "huge"
[[ ! -e x ]] || fail "data render with a bad --size created its output folder"
run_fails data info
expect_in last.err "dir is required"
run_fails data info "$WORK/no-such-corpus"
expect_in last.err "$WORK/no-such-corpus/manifest.json"
run_fails features mel
expect_in last.err "IN is required"
run_fails features loudness in.wav out
expect_in last.err "loudness"
run_fails bench models --steps 0
expect_in last.err "--steps"
run_fails bench models --model no_such_model
expect_in last.err "no_such_model"
expect_in last.err "music_cnn"

echo "PASS: fermata info, --help and argument errors"
