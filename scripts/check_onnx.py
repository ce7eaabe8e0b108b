#!/usr/bin/env python3
"""Checks `mnist export --format onnx` against `mnist evaluate` in onnxruntime.

For each built-in model: trains it briefly with the release `mnist` (one epoch on the first --train-images
training images; or takes the weights given with --weights), exports it to ONNX, runs the ONNX file in
onnxruntime on the 10,000 MNIST test images (pixels / 255, as `mnist evaluate` feeds them), and asserts
that onnxruntime gets the same number right as `mnist evaluate` prints, and the same digit as Swift on
every image but at most --max-disagreements (Swift's per-image answers come from `evaluate --report`'s
mistakes.csv). LeNet5 is also trained with --normalize, to check the normalisation inside the graph.
Each file is first validated by the onnx package's checker (with shape inference). Prints a table and exits
1 on any failure. Installs onnxruntime, onnx and numpy with pip when they are missing.

    swift build -c release --product mnist && scripts/check_onnx.py
"""

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_idx import find_idx, read_idx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def ensure_packages():
    """Imports numpy, onnx and onnxruntime, installing them with pip first if missing."""
    missing = [name for name in ("numpy", "onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"check_onnx: pip install {' '.join(missing)}", flush=True)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *missing])
    global np, onnx, ort
    np = importlib.import_module("numpy")
    onnx = importlib.import_module("onnx")
    ort = importlib.import_module("onnxruntime")


def run(command):
    """Runs a command, returning its standard output; exits with its output if it fails."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"check_onnx: {' '.join(map(str, command))} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", default=str(ROOT / ".build/release/mnist"), help="the mnist tool (default: .build/release/mnist)")
    parser.add_argument("--data", default=str(ROOT / "data/mnist"), help="the MNIST folder (default: data/mnist)")
    parser.add_argument("--models", default="mlp,cnn,lenet5,vgg", help="models to train and check (default: all four)")
    parser.add_argument("--weights", nargs="*", default=[], help="check these weights files instead of training")
    parser.add_argument("--train-images", type=int, default=6000, help="training images for the one brief epoch (default 6000)")
    parser.add_argument("--max-disagreements", type=int, default=2, help="images on which the two may differ (default 2)")
    parser.add_argument("--threads", type=int, default=None, help="--threads for mnist")
    parser.add_argument("--keep", action="store_true", help="keep the weights, ONNX files and reports (their folder is printed)")
    arguments = parser.parse_args()
    ensure_packages()

    mnist = Path(arguments.mnist)
    if not os.access(mnist, os.X_OK):
        sys.exit(f"check_onnx: {mnist} is not an executable: build it with `swift build -c release --product mnist` or pass --mnist")
    data = Path(arguments.data)
    images = read_idx(find_idx(data, "t10k-images-idx3-ubyte"), np)
    labels = read_idx(find_idx(data, "t10k-labels-idx1-ubyte"), np).astype(np.int64)
    # What `mnist evaluate` feeds the model: bytes / 255 as float32, [N, 1, 28, 28].
    pixels = (images.astype(np.float32) / np.float32(255)).reshape(-1, 1, 28, 28)
    threads = ["--threads", str(arguments.threads)] if arguments.threads else []

    work = Path(tempfile.mkdtemp(prefix="check-onnx-"))
    try:
        check(arguments, mnist, data, images, labels, pixels, threads, work)
    finally:
        if arguments.keep:
            print(f"check_onnx: files kept in {work}")
        else:
            shutil.rmtree(work)


def check(arguments, mnist, data, images, labels, pixels, threads, work):
    """Trains (or takes the weights given), evaluates, exports and compares; exits 1 on any failure."""
    runs = [(Path(path).stem, Path(path)) for path in arguments.weights]
    if not runs:
        # A small training set: the first --train-images training images, beside the full test set.
        subset = work / "data"
        run([sys.executable, ROOT / "scripts" / "make_small_mnist.py", data, subset, str(arguments.train_images),
             str(len(images))])
        recipes = [(model, []) for model in arguments.models.split(",")]
        if "lenet5" in arguments.models.split(","):
            recipes.append(("lenet5", ["--normalize"]))
        for model, options in recipes:
            name = model + ("-normalize" if options else "")
            weights = work / f"{name}.safetensors"
            start = time.time()
            run([mnist, "train", "--model", model, "--epochs", "1", "--data", subset, "--output", weights, *options, *threads])
            print(f"check_onnx: trained {name} on {arguments.train_images} images for 1 epoch ({time.time() - start:.0f} s)", flush=True)
            runs.append((name, weights))

    rows, failures = [], []
    for name, weights in runs:
        report = work / f"{name}-report"
        evaluation = run([mnist, "evaluate", "--weights", weights, "--report", report, *threads])
        match = re.search(r"Accuracy: [0-9.]+% \((\d+)/(\d+)\)", evaluation)
        if not match:
            sys.exit(f"check_onnx: no accuracy line in `mnist evaluate`'s output:\n{evaluation}")
        swift_correct = int(match.group(1))
        # Swift's answer for each image: the label, except where mistakes.csv says otherwise.
        swift_predictions = labels.copy()
        for line in (report / "mistakes.csv").read_text().splitlines()[1:]:
            index, label, prediction = (int(field) for field in line.split(",")[:3])
            assert labels[index] == label, f"mistakes.csv's label for image {index} is not the test set's"
            swift_predictions[index] = prediction

        onnx_path = work / f"{name}.onnx"
        run([mnist, "export", "--format", "onnx", "--weights", weights, "--output", onnx_path])
        # The ONNX specification's own checks: IR and opset, every node's inputs, attributes and types, and
        # the shapes inferred through the graph.
        onnx.checker.check_model(onnx.load(str(onnx_path)), full_check=True)
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        (model_input,), (model_output,) = session.get_inputs(), session.get_outputs()
        assert (model_input.name, model_output.name) == ("input", "logits"), (model_input.name, model_output.name)
        start = time.time()
        # Batches of 1000, and a first batch of 7 to exercise the dynamic batch dimension.
        bounds = [0, 7] + list(range(1000, len(pixels) + 1, 1000))
        logits = np.concatenate([session.run(["logits"], {"input": pixels[a:b]})[0] for a, b in zip(bounds, bounds[1:])])
        seconds = time.time() - start
        assert logits.shape == (len(pixels), 10), logits.shape
        onnx_predictions = logits.argmax(axis=1)
        onnx_correct = int((onnx_predictions == labels).sum())
        disagreements = int((onnx_predictions != swift_predictions).sum())
        ok = onnx_correct == swift_correct and disagreements <= arguments.max_disagreements
        rows.append((name, swift_correct, onnx_correct, disagreements, onnx_path.stat().st_size, seconds, ok))
        if not ok:
            failures.append(name)

    print()
    print("| model | mnist evaluate (right of 10,000) | onnxruntime (right of 10,000) | answers that differ | ONNX file | onnxruntime time |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, swift_correct, onnx_correct, disagreements, size, seconds, ok in rows:
        mark = "" if ok else " **FAIL**"
        print(f"| {name}{mark} | {swift_correct} | {onnx_correct} | {disagreements} | {size / 1e6:.2f} MB | {seconds:.2f} s |")
    print()
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__} (checker: every file valid), numpy {np.__version__}")
    if failures:
        sys.exit(f"check_onnx: FAILED for {', '.join(failures)}")
    print(f"check_onnx: OK ({len(rows)} models)")


if __name__ == "__main__":
    main()
