#!/usr/bin/env bash
# Times `mnist train --recipe RECIPE` for several seeds with the release binary, from process start to exit
# (reading the gzip data, training, the test passes, writing the weights), and prints each seed's final test
# accuracy, wall time and the load, then the median accuracy and the median time.
#
#   scripts/time_recipe.sh [RECIPE (default speed)] [SEEDS (default 5: seeds 0…4)] [more mnist train options]
#
# Build first: swift build -c release --product mnist. Weights, metrics and checkpoints go to a temporary
# folder, removed at the end. Run on an idle machine: the load average is printed beside every run.
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-speed}
seeds=${2:-5}
shift $(($# < 2 ? $# : 2))
binary=.build/release/mnist
if [[ ! -x $binary ]]; then
    echo "error: $binary not found: run swift build -c release --product mnist first" >&2
    exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
accuracies=()
times=()
for ((seed = 0; seed < seeds; seed++)); do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    start=$(date +%s.%N)
    output=$("$binary" train --recipe "$recipe" --seed "$seed" --output "$scratch/weights.safetensors" "$@")
    end=$(date +%s.%N)
    accuracy=$(grep '^Epoch \[' <<<"$output" | tail -1 | sed -E 's/.*Accuracy: ([0-9.]+)%.*/\1/')
    seconds=$(echo "$end - $start" | bc)
    phases=$(grep '^Time: ' <<<"$output" | sed -E 's/^Time: [0-9.]+ s //')
    printf 'seed %d: %s%%  %.2f s  load %s  %s\n' "$seed" "$accuracy" "$seconds" "$load" "$phases"
    accuracies+=("$accuracy")
    times+=("$seconds")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
printf 'recipe %s, %d seeds: median accuracy %s%%, median wall time %.2f s\n' \
    "$recipe" "$seeds" "$(median "${accuracies[@]}")" "$(median "${times[@]}")"
