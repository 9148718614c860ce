#!/usr/bin/env bash
# Trains one model on one rendered corpus with fermata and with PyTorch 1.13
# (bench/torch_train_classifier.py: the same architecture, recipe and clips) for each seed, and
# prints the held-out test accuracy of each side's best-by-validation weights: issue 7's
# comparison, recorded in docs/MODELS.md.
#
#   scripts/train_compare.sh MODEL DATA OUT "SEEDS" [fermata train options...]
#   scripts/train_compare.sh harmonic_cnn runs/demo/genres runs/cmp/hcnn_genres "0 1" --epochs 30
#
# The options after OUT (--epochs, --batch-size, --lr, --set NAME=VALUE) go to both sides.
# THREADS (default 1) sets each run's threads; FERMATA (default build/apps/fermata).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { sed -n 2,11p "$0"; exit 2; }
model=$1 data=$2 out=$3 seeds=$4
shift 4
fermata=${FERMATA:-build/apps/fermata}
threads=${THREADS:-1}
mkdir -p "$out"
for seed in $seeds; do
  OMP_NUM_THREADS=$threads "$fermata" train "$model" --data "$data" --out "$out/fermata_s$seed" --overwrite \
    --seed "$seed" --threads "$threads" "$@" > "$out/fermata_s$seed.log" 2>&1
  "$fermata" eval --checkpoint "$out/fermata_s$seed/best" --data "$data" --split test --json \
    --threads "$threads" > "$out/fermata_s$seed.test.json"
  /usr/bin/python3 bench/torch_train_classifier.py "$model" "$data" --seeds "$seed" --threads "$threads" "$@" \
    --json "$out/torch_s$seed.json" > "$out/torch_s$seed.log" 2>&1
done
/usr/bin/python3 - "$out" $seeds <<'EOF'
import json, sys
out, seeds = sys.argv[1], sys.argv[2:]
rows = []
for s in seeds:
    f = json.load(open(f"{out}/fermata_s{s}.test.json"))
    t = json.load(open(f"{out}/torch_s{s}.json"))["results"][0]
    rows.append((s, 100 * f["accuracy"], f["macro_f1"], 100 * t["test_accuracy"], t["test_macro_f1"]))
print("| seed | fermata test accuracy | fermata macro-F1 | PyTorch test accuracy | PyTorch macro-F1 |")
print("|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]:.1f} % | {r[2]:.3f} | {r[3]:.1f} % | {r[4]:.3f} |")
n = len(rows)
fa, ta = sum(r[1] for r in rows) / n, sum(r[3] for r in rows) / n
print(f"| mean | {fa:.1f} % | {sum(r[2] for r in rows) / n:.3f} | {ta:.1f} % | {sum(r[4] for r in rows) / n:.3f} |")
print(f"PyTorch - fermata: {ta - fa:+.1f} points")
EOF
