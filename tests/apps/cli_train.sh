#!/usr/bin/env bash
# fermata train / eval / predict end to end on a tiny genres corpus: a narrow MusicCNN trains
# two epochs, writes its logs, checkpoints and curves; a second train into the same folder is
# refused; --resume of a finished run changes nothing; eval and predict (with --picture) read
# the best checkpoint; a corrupt checkpoint is refused naming the file.
source "$(dirname "$0")/lib.sh"

run_ok data render genres --out corpus --size tiny --seed 1 -q
narrow=(--set n_mels=32 --set conv1_channels=4 --set branch_channels=4 --set conv3_channels=8)
run_ok train music_cnn --data corpus --out run --epochs 2 --batch-size 8 --seed 2 "${narrow[@]}"
expect_in last.out "epoch 2/2"
expect_in last.out "accuracy"
for f in metrics.csv curves.png checkpoint.safetensors checkpoint.train.safetensors best.safetensors; do
  [[ -s run/$f ]] || fail "fermata train did not write run/$f"
done
ls run/events.out.tfevents.* >/dev/null 2>&1 || fail "no TensorBoard events file in run/"
[[ $(bytes_of run/curves.png 8) == "137 80 78 71 13 10 26 10" ]] || fail "run/curves.png is not a PNG"
[[ $(grep -c . run/metrics.csv) -eq 3 ]] || fail "run/metrics.csv should hold a header and 2 epochs"
cp run/metrics.csv metrics.first

run_fails train music_cnn --data corpus --out run --epochs 2
expect_in last.err "already holds a training run"
run_ok train music_cnn --data corpus --out run --epochs 2 --batch-size 8 --seed 2 "${narrow[@]}" --resume
cmp run/metrics.csv metrics.first || fail "--resume of a finished run changed run/metrics.csv"

run_ok eval --checkpoint run/best --data corpus --split test --json
expect_in last.out '"accuracy"'
expect_in last.out '"confusion"'

clip=$(ls corpus/audio/rock/*.wav | head -1)
run_ok predict music_cnn --weights run/best "$clip" --top 2 --picture pred.png
expect_in last.out "$clip"
[[ $(bytes_of pred.png 8) == "137 80 78 71 13 10 26 10" ]] || fail "pred.png is not a PNG"

head -c 100 run/best.safetensors >broken.safetensors
cp run/best.train.safetensors broken.train.safetensors
run_fails eval --checkpoint broken --data corpus --split test
expect_in last.err "broken"
echo "train, resume, eval, predict: ok"
