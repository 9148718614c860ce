#!/usr/bin/env bash
# `fermata features KIND IN OUT` on a clip of a rendered genres corpus: for each kind, OUT.png is
# a PNG at least as large as the feature, and OUT.safetensors holds the tensor under the kind's
# name with the shape the command printed. A missing input fails and names the file.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run_ok data render genres --out corpus --size tiny --seed 3 -q
wav=corpus/$(grep -oE '"file": "[^"]+\.wav"' corpus/manifest.json | head -n 1 | sed -E 's/.*: "(.*)"$/\1/')
[[ -s $wav ]] || fail "no WAV file in the rendered genres corpus ($wav)"

# u32 big-endian at byte OFFSET of FILE (PNG's IHDR fields)
be32() {
  local b
  read -r -a b <<<"$(bytes_of "$1" 4 "$2")"
  echo $(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]))
}
# u64 little-endian at the start of FILE (safetensors' header length)
le64() {
  local b v=0 i
  read -r -a b <<<"$(bytes_of "$1" 8)"
  for ((i = 7; i >= 0; --i)); do v=$(((v << 8) | b[i])); done
  echo $v
}

check_outputs() {  # KIND STEM: the files `features KIND IN STEM` wrote (its stdout in last.out)
  local kind=$1 png=$2.png st=$2.safetensors
  # "corpus/audio/rock/rock-0000-0.wav: mel [128 x 65] at 22050 Hz -> out.safetensors, out.png"
  local shape rows cols
  shape=$(grep -oE "$kind \[[0-9]+ x [0-9]+\]" last.out) || { show_last; fail "$kind: no '$kind [ROWS x COLS]' in the output"; }
  rows=$(sed -E 's/.*\[([0-9]+) x.*/\1/' <<<"$shape")
  cols=$(sed -E 's/.* x ([0-9]+)\]/\1/' <<<"$shape")
  [[ $rows -gt 0 && $cols -gt 0 ]] || fail "$kind: empty feature $shape"

  [[ -f $png ]] || { show_last; fail "$kind: $png was not written"; }
  [[ $(bytes_of "$png" 8) == "137 80 78 71 13 10 26 10" ]] || fail "$kind: $png does not start with the PNG signature"
  [[ $(head -c 16 "$png" | tail -c 4) == IHDR ]] || fail "$kind: $png has no IHDR chunk first"
  local w h
  w=$(be32 "$png" 16)
  h=$(be32 "$png" 20)
  [[ $w -ge $cols && $h -ge $rows && $w -le 20000 && $h -le 20000 ]] ||
    fail "$kind: $png is ${w}x${h} pixels for a feature of $rows bands x $cols frames"
  [[ $(stat -c %s "$png") -gt 200 ]] || fail "$kind: $png is only $(stat -c %s "$png") bytes"

  [[ -f $st ]] || { show_last; fail "$kind: $st was not written"; }
  local hlen header
  hlen=$(le64 "$st")
  [[ $hlen -gt 0 && $hlen -lt 100000 ]] || fail "$kind: $st has a header length of $hlen"
  header=$(head -c $((8 + hlen)) "$st" | tail -c "$hlen")
  [[ $header == *"\"$kind\":{"* ]] || fail "$kind: $st's header does not name the tensor '$kind': $header"
  [[ $header == *"\"shape\":[$rows,$cols]"* ]] || fail "$kind: $st's header has no shape [$rows,$cols]: $header"
  [[ $header == *'"dtype":"F32"'* ]] || fail "$kind: $st's tensor is not F32: $header"
  local want=$((8 + hlen + rows * cols * 4))
  [[ $(stat -c %s "$st") -eq $want ]] || fail "$kind: $st is $(stat -c %s "$st") bytes, expected $want"
}

for kind in mel mfcc spectrogram cqt chroma; do
  t0=$(now_ms)
  run_ok features "$kind" "$wav" "out_$kind"
  check_outputs "$kind" "out_$kind"
  echo "features $kind: $(($(now_ms) - t0)) ms"
done

# OUT may carry either suffix; the other file gets the same stem.
run_ok features mel "$wav" named.png
check_outputs mel named
[[ ! -e named.png.png && ! -e named.png.safetensors ]] || fail "features wrote named.png.* for OUT named.png"

# A missing input fails, names the file and writes nothing.
run_fails features mel "$WORK/no-such-clip.wav" missing
expect_in last.err "$WORK/no-such-clip.wav"
[[ ! -e missing.png && ! -e missing.safetensors ]] || fail "features wrote outputs for a missing input"
# So does a file that is not audio.
echo "not a sound" >bad.wav
run_fails features chroma bad.wav bad
expect_in last.err "bad.wav"
echo "PASS: fermata features mel, mfcc, spectrogram, cqt, chroma"
