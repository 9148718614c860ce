#!/usr/bin/env bash
# `fermata bench models --json` for one model and one step: one result with the model's name,
# positive times and memory, and a finite loss.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run_ok bench models --steps 1 --warmup 0 --json --model music_cnn
[[ $(grep -c '"model":' last.out) -eq 1 ]] || { show_last; fail "expected exactly one result"; }
expect_in last.out '"model": "music_cnn"'
expect_in last.out '"steps": 1'
expect_in last.out '"warmup": 0'
number='[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
for key in median_ms min_ms median_cpu_ms peak_rss_mib parameters last_loss; do
  v=$(grep -oE "\"$key\": -?$number" last.out | sed -E 's/.*: //') || { show_last; fail "no numeric \"$key\""; }
  [[ $key == last_loss ]] || [[ $v != -* && ! $v =~ ^0+(\.0+)?$ ]] || { show_last; fail "\"$key\" is $v, expected > 0"; }
done
[[ $(tr -d ' \n' <last.out) == '['*']' ]] || { show_last; fail "--json output is not one JSON array"; }
echo "PASS: fermata bench models --json (music_cnn, 1 step)"
