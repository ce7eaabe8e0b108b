#!/usr/bin/env bash
# Trains the PyTorch tutorial's LeNet5 with the tutorial's recipe (Adam, learning rate 0.001, batches of 64
# shuffled every epoch, 10 epochs, pixels 0…1) on Fashion-MNIST instead of MNIST, with `mnist train --data`.
# Fashion-MNIST comes from Debian's dataset-fashion-mnist (`scripts/setup --examples` installs it); set
# FASHION_MNIST=DIR for a copy elsewhere. Arguments go to `mnist train`: run.sh --seed 1, run.sh --epochs 1.
# The weights go to fashion-lenet5.safetensors in the current folder (OUTPUT=FILE to change).
set -euo pipefail
repository=$(cd "$(dirname "$0")/../.." && pwd)
data=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ ! -f "$data/train-images-idx3-ubyte" ]; then
    echo "run.sh: no Fashion-MNIST in $data: install it with scripts/setup --examples" \
        "(Debian's dataset-fashion-mnist), or set FASHION_MNIST=DIR" >&2
    exit 1
fi
swift build -c release --package-path "$repository" --product mnist >&2
"$repository/.build/release/mnist" train --model lenet5 --data "$data" \
    --output "${OUTPUT:-fashion-lenet5.safetensors}" "$@"
