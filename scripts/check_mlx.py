#!/usr/bin/env python3
"""Loads our safetensors weights into MLX (mlx.nn) models and checks they get the count right that
`mnist evaluate` prints for the same file, on the 10,000 MNIST test images.

MLX's layers are channels-last: images are [N, H, W, C] and a Conv2d weight is [out, kH, kW, in], where ours
(PyTorch's) are [N, C, H, W] and [out, in, kH, kW]: each convolution weight is transposed (0, 2, 3, 1).
Linear weights are [out, in] in both. Flattening an [N, H, W, C] activation orders its values (h, w, c),
ours (c, h, w), so the first linear layer after a flatten gets its columns permuted to match (a no-op for
LeNet5, whose last convolution leaves 1 × 1 images; it matters for cnn and vgg). `--no-permute` leaves the
columns as they are, to see what that costs.

    pip install "mlx[cpu]"    # on Linux; on a Mac, pip install mlx
    scripts/check_mlx.py --weights lenet5.safetensors [--mnist .build/release/mnist]
"""

import argparse
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_idx import find_idx, read_idx  # noqa: E402

import mlx.core as mx
import mlx.nn as nn
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.conv3 = nn.Conv2d(16, 120, 5)
        self.fc1 = nn.Linear(120, 84)
        self.fc2 = nn.Linear(84, 10)
        self.pool = nn.AvgPool2d(2)

    def __call__(self, x):  # x: [N, 28, 28, 1]
        x = self.pool(mx.tanh(self.conv1(x)))
        x = self.pool(mx.tanh(self.conv2(x)))
        x = mx.tanh(self.conv3(x)).reshape(x.shape[0], -1)
        return self.fc2(mx.tanh(self.fc1(x)))


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5)
        self.fc1 = nn.Linear(32 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, 10)
        self.pool = nn.MaxPool2d(2)

    def __call__(self, x):
        x = self.pool(nn.relu(self.conv1(x))).reshape(x.shape[0], -1)  # [N, 12, 12, 32] flattened (h, w, c)
        return self.fc2(nn.relu(self.fc1(x)))


class Baseline(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(784, 784)
        self.layer2 = nn.Linear(784, 10)

    def __call__(self, x):  # a one-channel image flattens in the same order either way
        return self.layer2(nn.relu(self.layer1(x.reshape(x.shape[0], -1))))


class VGGStyleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 32, 3, bias=False), nn.BatchNorm(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 32, 3, bias=False), nn.BatchNorm(32)
        self.conv3, self.bn3 = nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm(64)
        self.conv4, self.bn4 = nn.Conv2d(64, 64, 3, bias=False), nn.BatchNorm(64)
        self.fc1, self.bn5 = nn.Linear(64 * 4 * 4, 256, bias=False), nn.BatchNorm(256)
        self.fc2 = nn.Linear(256, 10)
        self.pool = nn.MaxPool2d(2)

    def __call__(self, x):
        x = nn.relu(self.bn1(self.conv1(x)))
        x = self.pool(nn.relu(self.bn2(self.conv2(x))))
        x = nn.relu(self.bn3(self.conv3(x)))
        x = self.pool(nn.relu(self.bn4(self.conv4(x)))).reshape(x.shape[0], -1)
        return self.fc2(nn.relu(self.bn5(self.fc1(x))))


# Each model, and its first linear layer after a flatten with the [C, H, W] it flattens.
MODELS = {
    "lenet5": (LeNet5, "fc1", (120, 1, 1)),
    "cnn": (SimpleCNN, "fc1", (32, 12, 12)),
    "mlp": (Baseline, None, None),
    "vgg": (VGGStyleCNN, "fc1", (64, 4, 4)),
}


def mlx_weights(path, model_name, permute):
    """Our state dict as MLX parameters: convolutions channels-last, the flatten's linear layer permuted."""
    _, flattened_layer, flattened_shape = MODELS[model_name]
    weights = []
    for name, array in mx.load(str(path)).items():
        if name.endswith("num_batches_tracked"):
            continue
        if array.ndim == 4:  # [out, in, kH, kW] → [out, kH, kW, in]
            array = array.transpose(0, 2, 3, 1)
        if permute and flattened_layer and name == f"{flattened_layer}.weight":  # columns (c, h, w) → (h, w, c)
            out = array.shape[0]
            array = array.reshape(out, *flattened_shape).transpose(0, 2, 3, 1).reshape(out, -1)
        weights.append((name, array))
    return weights


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, nargs="+", help="weights files written by `mnist train`")
    parser.add_argument("--mnist", default=str(ROOT / ".build/release/mnist"), help="the mnist tool")
    parser.add_argument("--data", default=str(ROOT / "data/mnist"))
    parser.add_argument("--no-permute", action="store_true", help="leave the first linear layer's columns as they are")
    arguments = parser.parse_args()

    data = Path(arguments.data)
    images = read_idx(find_idx(data, "t10k-images-idx3-ubyte"), np)
    labels = read_idx(find_idx(data, "t10k-labels-idx1-ubyte"), np)
    pixels = mx.array((images.astype(np.float32) / np.float32(255))[..., None])  # [N, 28, 28, 1]

    failed = False
    for path in map(Path, arguments.weights):
        header = json.loads(path.read_bytes()[8 : 8 + struct.unpack("<Q", path.read_bytes()[:8])[0]])
        metadata = header.get("__metadata__", {})
        name = metadata.get("model")
        if name not in MODELS:
            sys.exit(f"check_mlx: {path}: model {name!r} in its metadata is not one of {', '.join(MODELS)}")
        if metadata.get("normalize") == "true":
            sys.exit(f"check_mlx: {path} was trained with --normalize; this check feeds pixels 0…1")
        model = MODELS[name][0]()
        model.load_weights(mlx_weights(path, name, not arguments.no_permute), strict=True)
        model.eval()
        logits = mx.concatenate([model(pixels[i : i + 1000]) for i in range(0, pixels.shape[0], 1000)])
        mlx_correct = int((np.array(mx.argmax(logits, axis=1)) == labels).sum())
        output = subprocess.run([arguments.mnist, "evaluate", "--weights", path], capture_output=True, text=True, check=True).stdout
        swift_correct = int(re.search(r"Accuracy: [0-9.]+% \((\d+)/", output).group(1))
        verdict = "same" if mlx_correct == swift_correct else "DIFFERENT"
        print(f"{path.name} ({name}): mnist evaluate {swift_correct}/10000, MLX {mlx_correct}/10000: {verdict}")
        failed = failed or mlx_correct != swift_correct
    print(f"mlx {mx.__version__}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
