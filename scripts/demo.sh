#!/usr/bin/env bash
# `make demo`: renders a small genres corpus from MIDI (MMA + FluidSynth), trains MusicCNN on it
# on the CPU for a few minutes, prints the held-out accuracy and confusion matrix, and writes
# pictures of the training curves and of one test clip's mel spectrogram with the prediction.
# DEMO_DIR (default runs/demo), DEMO_EPOCHS (default 30) and DEMO_SEED (default 0) change it.
set -euo pipefail
cd "$(dirname "$0")/.."
fermata=${FERMATA:-${BUILD:-build}/apps/fermata}
dir=${DEMO_DIR:-runs/demo}
epochs=${DEMO_EPOCHS:-30}
seed=${DEMO_SEED:-0}
mkdir -p "$dir"

echo "== 1. render the genres corpus (small: 11 styles, ~500 clips of 3 s at 22.05 kHz)"
"$fermata" data render genres --out "$dir/genres" --size small --seed "$seed"

echo
echo "== 2. train MusicCNN (a narrow configuration that learns in minutes on two cores)"
# The blog's widths (64/128/256 channels, 128 mels) take ~100 s an epoch here; these take ~5 s.
"$fermata" train music_cnn --data "$dir/genres" --out "$dir/music_cnn" --overwrite --seed "$seed" \
  --epochs "$epochs" --batch-size 16 --lr 3e-3 \
  --set n_mels=64 --set conv1_channels=16 --set branch_channels=32 --set conv3_channels=64

echo
echo "== 3. held-out accuracy (test split, best checkpoint by validation accuracy)"
"$fermata" eval --checkpoint "$dir/music_cnn/best" --data "$dir/genres" --split test

echo
echo "== 4. one test clip, its mel spectrogram and the model's answer"
# the first test item of the manifest ("file" comes just before "split", "label" just after)
item=$(grep -m1 -B1 -A1 '"split": "test"' "$dir/genres/manifest.json")
clip=$(echo "$item" | sed -n 's/.*"file": "\([^"]*\)".*/\1/p')
label=$(echo "$item" | sed -n 's/.*"label": "\([^"]*\)".*/\1/p')
echo "clip $clip, true style: $label"
"$fermata" predict music_cnn --weights "$dir/music_cnn/best" "$dir/genres/$clip" --picture "$dir/prediction.png"

echo
echo "pictures: $dir/music_cnn/curves.png (training curves), $dir/prediction.png (mel + prediction)"
