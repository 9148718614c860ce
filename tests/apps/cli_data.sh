#!/usr/bin/env bash
# `fermata data render CORPUS --size tiny` and `fermata data info`: the corpus has a manifest
# naming files that exist, a second render with the same seed skips every song and writes the
# same manifest byte for byte, a deleted file is rendered again, and `data info` reports the
# corpus and its splits as the render did.
#   bash cli_data.sh FERMATA TMP_ROOT CORPUS
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $# -eq 1 ]] || fail "usage: cli_data.sh FERMATA TMP_ROOT CORPUS"
CORPUS=$1
D=$WORK/$CORPUS
M=$D/manifest.json

t0=$(now_ms)
run_ok data render "$CORPUS" --out "$D" --size tiny --seed 3 -q
first_ms=$(($(now_ms) - t0))
cp last.out render1.out
[[ -f $M ]] || { show_last; fail "no $M after data render"; }
# "genres: 66 items from 33 groups (33 rendered, 0 already there) in 8.5 s -> .../manifest.json"
summary=$(grep -E "^$CORPUS: [0-9]+ items from [0-9]+ groups" render1.out) || { show_last; fail "no summary line"; }
items=$(sed -E 's/^[a-z]+: ([0-9]+) items.*/\1/' <<<"$summary")
groups=$(sed -E 's/.* from ([0-9]+) groups.*/\1/' <<<"$summary")
[[ $items -gt 0 ]] || fail "$CORPUS: the render made no items ($summary)"
[[ $summary == *"($groups rendered, 0 already there)"* ]] || fail "first render should render all $groups songs: $summary"

grep -qF "\"corpus\": \"$CORPUS\"" "$M" || fail "$M does not name the corpus $CORPUS"
grep -qF '"format": "fermata-corpus"' "$M" || fail "$M has no \"format\": \"fermata-corpus\""
n_manifest=$(grep -c '"file_hash":' "$M")
[[ $n_manifest -eq $items ]] || fail "$M lists $n_manifest items, the render said $items"

# Every file the manifest names (an item's main file and its other files) exists and is not empty.
grep -oE '"[a-z_]+": "[^"]+\.(wav|flac|mid|tsv|txt|json)"' "$M" | sed -E 's/.*: "(.*)"$/\1/' | sort -u >files.txt
[[ $(wc -l <files.txt) -ge $items ]] || fail "$M names $(wc -l <files.txt) files for $items items"
while read -r f; do
  [[ -s $D/$f ]] || fail "$M names $f, which is missing or empty in $D"
done <files.txt

# Audio corpora: main files are WAV (RIFF....WAVE); the symbolic one: tokens and MIDI (MThd).
main_files=$(grep -oE '"file": "[^"]+"' "$M" | sed -E 's/.*: "(.*)"$/\1/')
first_main=$(head -n 1 <<<"$main_files")
if [[ $CORPUS == symbolic ]]; then
  grep -qE '"midi": "[^"]+\.mid"' "$M" || fail "$M: symbolic items should keep their MIDI file"
  midi=$(grep -oE '"midi": "[^"]+\.mid"' "$M" | head -n 1 | sed -E 's/.*: "(.*)"$/\1/')
  [[ $(head -c 4 "$D/$midi") == MThd ]] || fail "$D/$midi does not start with MThd"
  grep -qE '^[0-9]+( [0-9]+)*$' "$D/$first_main" || fail "$D/$first_main should hold token numbers"
else
  grep -qE '"sample_rate": [1-9][0-9]*' "$M" || fail "$M: an audio corpus needs a sample_rate"
  n_wav=$(grep -cE '"file": "[^"]+\.wav"' "$M")
  [[ $n_wav -eq $items ]] || fail "$M: $n_wav of $items items have a .wav main file"
  while read -r f; do
    [[ $(head -c 4 "$D/$f") == RIFF && $(head -c 12 "$D/$f" | tail -c 4) == WAVE ]] ||
      fail "$D/$f is not a RIFF/WAVE file"
    # a header of 44 bytes and some samples
    [[ $(stat -c %s "$D/$f") -gt 1000 ]] || fail "$D/$f is too short to hold audio"
  done <<<"$main_files"
fi

# The same seed again: nothing rendered and the same manifest. (Times are printed, never
# asserted: a test does not measure performance.)
cp "$M" manifest.first
t0=$(now_ms)
run_ok data render "$CORPUS" --out "$D" --size tiny --seed 3 -q
second_ms=$(($(now_ms) - t0))
expect_in last.out "(0 rendered, $groups already there)"
cmp "$M" manifest.first || fail "a second render with the same seed changed $M"
echo "render: first ${first_ms} ms, again ${second_ms} ms"

# A deleted file is rendered again (its song only), to the same bytes.
rm "$D/$first_main"
run_ok data render "$CORPUS" --out "$D" --size tiny --seed 3 -q
expect_in last.out "(1 rendered, $((groups - 1)) already there)"
[[ -s $D/$first_main ]] || fail "the render after deleting $first_main did not write it again"
cmp "$M" manifest.first || fail "re-rendering a deleted file changed $M"

# data info reports what the render did.
run_ok data info "$D"
expect_in last.out "corpus: $CORPUS (size tiny, seed 3)"
splits=""
for s in train valid test; do
  n=$(grep -E "^  $s: [0-9]+$" render1.out | grep -oE '[0-9]+$' || echo 0)
  splits+="${splits:+, }$s $n"
done
expect_in last.out "items: $items from "
expect_in last.out "; $splits"
echo "PASS: fermata data render/info $CORPUS ($items items, $groups songs)"
