#!/usr/bin/env bash
# CI: the examples in Examples/ still build against the public API and still learn (Examples/README.md).
#  1. Examples/ResNet, a package of its own that depends on this repository by path (product DeepLearning
#     only), built in release, trains for 3 epochs on the first 4,000 training images and is tested on the
#     first 1,000 test images: the training loss must fall from the first epoch to the last, and the test
#     accuracy must reach RESNET_MINIMUM (chance is 10%; seed 0 reaches 94.2%).
#  2. Examples/FashionMNIST/run.sh trains the tutorial's LeNet5 for 1 epoch on Fashion-MNIST (Debian's
#     dataset-fashion-mnist: `scripts/setup --examples`): `mnist train` must say that the folder is not MNIST,
#     and the test accuracy must reach FASHION_MINIMUM (chance is 10%; seed 0 reaches 82.85%).
# The minimums are well below what the runs reach, well above chance. About a minute on 2 idle cores after the
# builds (the ResNet package builds the engine again, in release: several minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
readonly RESNET_MINIMUM=80 FASHION_MINIMUM=70
fail() {
    echo "check_examples: FAILED: $*" >&2
    exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/check_examples.XXXXXX")
trap 'rm -rf "$work"' EXIT

# "Epoch [k/n]: Accuracy: A%  (training loss L, …)" lines → "A L" lines.
epochs() { sed -n 's/^Epoch \[[0-9]*\/[0-9]*\]: Accuracy: \([0-9.]*\)%  (training loss \([0-9.]*\),.*/\1 \2/p' "$1"; }
# Whether number $1 is at least, or above, number $2.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

start=$SECONDS
echo "check_examples: building Examples/ResNet (release)"
if ! swift build -c release --package-path Examples/ResNet >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    fail "Examples/ResNet does not build; log above"
fi
Examples/ResNet/.build/release/resnet --epochs 3 --train-limit 4000 --test-limit 1000 --seed 0 | tee "$work/resnet.log"
mapfile -t resnet < <(epochs "$work/resnet.log")
[ ${#resnet[@]} -eq 3 ] || fail "resnet printed ${#resnet[@]} epoch lines, expected 3"
read -r _ first_loss <<<"${resnet[0]}"
read -r accuracy last_loss <<<"${resnet[2]}"
above "$first_loss" "$last_loss" || fail "resnet's training loss did not fall: $first_loss, then $last_loss"
at_least "$accuracy" "$RESNET_MINIMUM" || fail "resnet reached $accuracy% after 3 epochs, expected $RESNET_MINIMUM% or more"
echo "check_examples: OK: Examples/ResNet: training loss $first_loss → $last_loss, accuracy $accuracy%"

echo "check_examples: Examples/FashionMNIST/run.sh --epochs 1"
OUTPUT="$work/fashion-lenet5.safetensors" Examples/FashionMNIST/run.sh --epochs 1 --seed 0 \
    >"$work/fashion.log" 2>"$work/fashion.err" || {
    cat "$work/fashion.log" "$work/fashion.err" >&2
    fail "Examples/FashionMNIST/run.sh failed"
}
cat "$work/fashion.log"
grep -q "is not MNIST" "$work/fashion.err" || fail "mnist train did not note that Fashion-MNIST is not MNIST"
read -r accuracy _ <<<"$(epochs "$work/fashion.log")"
[ -n "$accuracy" ] || fail "run.sh printed no epoch line"
at_least "$accuracy" "$FASHION_MINIMUM" ||
    fail "LeNet5 reached $accuracy% on Fashion-MNIST after 1 epoch, expected $FASHION_MINIMUM% or more"
echo "check_examples: OK: Examples/FashionMNIST: $accuracy% after 1 epoch ($((SECONDS - start)) s in all)"
