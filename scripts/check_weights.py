"""Evaluates a safetensors checkpoint written by the Swift library with PyTorch.

The file's __metadata__ must name the model (one of tutorial_models.py's MODELS); its tensors are
loaded with load_state_dict(strict=True) into the matching model from tutorial_models.py,
which is then evaluated on the 10,000 MNIST test images, prepared as the metadata says: deskewed and
width-normalised (`deskew`, `ink_width`: scripts/input_preprocessing.py) and normalised with MNIST's mean
and standard deviation (`normalize`), as `mnist evaluate` prepares them. Example:

    python3 scripts/check_weights.py --weights runs/lenet5.safetensors
"""

import argparse
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from tutorial_models import DEFAULT_DATA_DIR, MODELS, load_mnist


def evaluate(model, images, labels, batch_size=1000):
    """Returns the number of test images classified correctly (eval mode, no_grad)."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size])
            correct += (logits.argmax(1) == labels[start:start + batch_size]).sum().item()
    return correct


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="safetensors file with __metadata__ {\"model\": ...}")
    parser.add_argument("--data", default=DEFAULT_DATA_DIR, help="directory with the MNIST *-idx?-ubyte.gz files")
    args = parser.parse_args()

    with safe_open(args.weights, framework="pt") as f:
        metadata = f.metadata() or {}
    name = metadata.get("model")
    if name not in MODELS:
        sys.exit(f"{args.weights}: __metadata__ model is {name!r}; expected one of {', '.join(MODELS)}")
    model = MODELS[name]()
    model.load_state_dict(load_file(args.weights), strict=True)

    ink_width = metadata.get("ink_width")
    if ink_width is not None and not (ink_width.isdigit() and 1 <= int(ink_width) <= 28):
        sys.exit(f"{args.weights}: __metadata__ ink_width is {ink_width!r}; expected a whole number of pixels, 1 to 28")
    images, labels = load_mnist(
        "test", args.data, deskewed=metadata.get("deskew") == "true", ink_width=int(ink_width) if ink_width else None)
    if metadata.get("normalize") == "true":
        images = (images - 0.1307) / 0.3081  # DataLoader.Normalization.mnist
    correct = evaluate(model, images, labels)
    print(f"Model: {name} ({args.weights})")
    print(f"Correct: {correct}/{len(labels)}")
    print(f"Accuracy: {100.0 * correct / len(labels):.2f}%")


if __name__ == "__main__":
    main()
