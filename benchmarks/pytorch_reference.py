"""PyTorch side of the Swift-vs-PyTorch MNIST benchmark (CPU).

For each model it measures, each in its own subprocess so peak RSS is per measurement:
  tutorial   the tutorial's script as written: a Dataset over the IDX files that turns each
             sample into a PIL image and applies transforms.ToTensor() (like
             torchvision.datasets.MNIST), DataLoader(batch_size=64, shuffle=True), Adam(lr=1e-3),
             cross-entropy; per epoch one training pass + one test pass (DataLoader, batch 64).
  preloaded  the best case: all images preloaded as one float tensor, batches by indexing a
             random permutation, same recipe; test pass as one tensor at batch 1000.
  inference  eval mode + no_grad on the test images: all 10,000 at batch 1000 (best of 3
             passes) and the first --batch1-images one image at a time.
plus the machine's float32 sgemm GFLOP/s (2048^3 matmul, torch and numpy, best of 5).
Seconds per epoch are training pass + test pass. Prints a table; --json writes everything.
Run it on an otherwise idle machine: with --threads equal to the core count, PyTorch's
OpenMP threads slow down many times over when another process holds a core.

    python3 benchmarks/pytorch_reference.py --model all --json runs/pytorch.json
    python3 benchmarks/pytorch_reference.py --model lenet5 --max-batches 20   # quick check
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))

from tutorial_models import DEFAULT_DATA_DIR, MODELS, load_mnist, load_mnist_raw  # noqa: E402

BATCH_SIZE = 64
LEARNING_RATE = 1e-3
TEST_BATCH = 1000
SGEMM_N = 2048


def peak_rss_mb():
    """Peak resident set size of this process in MiB (VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("VmHWM not found in /proc/self/status")


def test_accuracy(model, batches):
    """Percentage of correct predictions over (images, labels) batches, eval mode, no_grad."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in batches:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return 100.0 * correct / total


def train_epoch(model, optimizer, batches, max_batches):
    """One training pass; returns the number of batches used."""
    model.train()
    count = 0
    for x, y in batches:
        if max_batches is not None and count == max_batches:
            break
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        count += 1
    return count


def timed_epochs(model, epochs, max_batches, train_batches, test_batches):
    """Runs the epochs; returns per-epoch train/test seconds, batches used and final accuracy."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    train_s, test_s = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        used = train_epoch(model, optimizer, train_batches(), max_batches)
        middle = time.perf_counter()
        accuracy = test_accuracy(model, test_batches())
        end = time.perf_counter()
        train_s.append(middle - start)
        test_s.append(end - middle)
    return {
        "seconds_per_epoch": sum(train_s + test_s) / epochs,
        "train_seconds": train_s,
        "test_seconds": test_s,
        "train_batches_per_epoch": used,
        "test_accuracy": accuracy,
    }


class IDXMNIST(Dataset):
    """torchvision.datasets.MNIST look-alike over the local IDX files (no download)."""

    def __init__(self, split, data_dir, transform):
        images, labels = load_mnist_raw(split, data_dir)
        self.data, self.targets = torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image = Image.fromarray(self.data[index].numpy())
        return self.transform(image), int(self.targets[index])


def run_tutorial(args):
    """(a) the tutorial's per-sample PIL + ToTensor pipeline through DataLoader."""
    train_set = IDXMNIST("train", args.data, transforms.ToTensor())
    test_set = IDXMNIST("test", args.data, transforms.ToTensor())
    train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=BATCH_SIZE, shuffle=False)
    model = MODELS[args.model]()
    return timed_epochs(model, args.epochs, args.max_batches, lambda: train_loader, lambda: test_loader)


def run_preloaded(args):
    """(b) preloaded float tensors, random-permutation batches."""
    x_train, y_train = load_mnist("train", args.data)
    x_test, y_test = load_mnist("test", args.data)

    def train_batches():
        perm = torch.randperm(len(x_train))
        for start in range(0, len(perm), BATCH_SIZE):
            idx = perm[start:start + BATCH_SIZE]
            yield x_train[idx], y_train[idx]

    def test_batches():
        for start in range(0, len(x_test), TEST_BATCH):
            yield x_test[start:start + TEST_BATCH], y_test[start:start + TEST_BATCH]

    model = MODELS[args.model]()
    return timed_epochs(model, args.epochs, args.max_batches, train_batches, test_batches)


def run_inference(args):
    """(c) eval/no_grad throughput at batch 1000 and batch 1 (freshly initialised weights)."""
    x_test, _ = load_mnist("test", args.data)
    model = MODELS[args.model]().eval()
    with torch.no_grad():
        model(x_test[:TEST_BATCH])
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for i in range(0, len(x_test), TEST_BATCH):
                model(x_test[i:i + TEST_BATCH])
            best = min(best, time.perf_counter() - start)
        singles = [x_test[i:i + 1] for i in range(args.batch1_images)]
        for x in singles[:50]:
            model(x)
        start = time.perf_counter()
        for x in singles:
            model(x)
        batch1 = time.perf_counter() - start
    return {
        "batch1000_images_per_s": len(x_test) / best,
        "batch1_images_per_s": len(singles) / batch1,
        "batch1_images_timed": len(singles),
    }


def run_sgemm(args):
    """(f) float32 2048^3 matmul GFLOP/s with torch and with numpy, best of 5 each."""
    flop = 2.0 * SGEMM_N ** 3
    a = np.random.default_rng(0).standard_normal((SGEMM_N, SGEMM_N), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((SGEMM_N, SGEMM_N), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    result = {"n": SGEMM_N}
    for name, matmul in (("torch", lambda: torch.mm(ta, tb)), ("numpy", lambda: a @ b)):
        matmul()
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            matmul()
            best = min(best, time.perf_counter() - start)
        result[f"{name}_gflops"] = flop / best / 1e9
    return result


CHILD_RUNS = {"tutorial": run_tutorial, "preloaded": run_preloaded, "inference": run_inference, "sgemm": run_sgemm}


def child_main(args):
    """Runs one measurement in this (child) process and prints its JSON result."""
    import_rss = peak_rss_mb()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    result = CHILD_RUNS[args.child](args)
    result["peak_rss_mb"] = peak_rss_mb()
    result["rss_after_imports_mb"] = import_rss
    print(json.dumps(result))


def spawn(args, kind, model=None):
    """Runs one measurement in a fresh subprocess with all BLAS/OpenMP pools at --threads."""
    command = [sys.executable, os.path.abspath(__file__), "--child", kind, "--threads", str(args.threads),
               "--epochs", str(args.epochs), "--seed", str(args.seed), "--data", args.data,
               "--batch1-images", str(args.batch1_images)]
    if model is not None:
        command += ["--model", model]
    if args.max_batches is not None:
        command += ["--max-batches", str(args.max_batches)]
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_name():
    """The CPU model name from /proc/cpuinfo, or platform.processor()."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def print_table(report):
    """Prints the results as a fixed-width table."""
    s = report["settings"]
    g = report["sgemm"]
    print(f"PyTorch {report['machine']['torch_version']} on {report['machine']['cpu']}, "
          f"{s['threads']} thread(s), {s['epochs']} epoch(s)"
          + (f", max {s['max_batches']} training batches/epoch" if s["max_batches"] is not None else ""))
    print(f"sgemm {g['n']}^3 float32: torch {g['torch_gflops']:.1f} GFLOP/s, numpy {g['numpy_gflops']:.1f} GFLOP/s; "
          f"1-min load average {report['machine']['load_average_at_start'][0]:.2f} at start, "
          f"{report['machine']['load_average_at_end'][0]:.2f} at end (other work skews timings); "
          f"peak RSS after imports (torch, torchvision) {g['rss_after_imports_mb']:.0f} MiB")
    header = (f"{'model':<7} {'tutorial s/ep':>13} {'preload s/ep':>12} {'infer b1000 img/s':>17} "
              f"{'infer b1 img/s':>14} {'tutorial RSS MiB':>16} {'acc tutorial':>12} {'acc preload':>11}")
    print(header)
    print("-" * len(header))
    for name, r in report["models"].items():
        t, p, i = r["tutorial"], r["preloaded"], r["inference"]
        print(f"{name:<7} {t['seconds_per_epoch']:>13.2f} {p['seconds_per_epoch']:>12.2f} "
              f"{i['batch1000_images_per_s']:>17.0f} {i['batch1_images_per_s']:>14.0f} "
              f"{t['peak_rss_mb']:>16.1f} {t['test_accuracy']:>11.2f}% {p['test_accuracy']:>10.2f}%")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=["all"], choices=[*MODELS, "all"],
                        help="models to benchmark (default all)")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs per measurement (default 1)")
    parser.add_argument("--max-batches", type=int, default=None,
                        help="stop each training epoch after this many batches (quick checks only)")
    parser.add_argument("--threads", type=int, default=2, help="torch/BLAS threads (default 2)")
    parser.add_argument("--batch1-images", type=int, default=2000,
                        help="test images timed one at a time for batch-1 inference (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed for every measurement (default 0)")
    parser.add_argument("--data", default=DEFAULT_DATA_DIR, help="directory with the MNIST *-idx?-ubyte.gz files")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--child", choices=list(CHILD_RUNS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(args.epochs, args.threads, args.batch1_images, 1 if args.max_batches is None else args.max_batches) < 1:
        parser.error("--epochs, --threads, --batch1-images and --max-batches must be positive")

    if args.child:
        args.model = args.model[0]  # a child measures the one model it was spawned for
        child_main(args)
        return

    names = list(MODELS) if "all" in args.model else list(dict.fromkeys(args.model))
    report = {
        "machine": {"cpu": cpu_name(), "logical_cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch_version": torch.__version__, "load_average_at_start": os.getloadavg()},
        "settings": {"threads": args.threads, "epochs": args.epochs, "max_batches": args.max_batches,
                     "batch_size": BATCH_SIZE, "optimizer": f"Adam(lr={LEARNING_RATE})",
                     "tutorial_test_batch": BATCH_SIZE, "preloaded_test_batch": TEST_BATCH,
                     "batch1_images": args.batch1_images, "seed": args.seed},
        "sgemm": spawn(args, "sgemm"),
        "models": {},
    }
    for name in names:
        report["models"][name] = {kind: spawn(args, kind, name) for kind in ("tutorial", "preloaded", "inference")}
    report["machine"]["load_average_at_end"] = os.getloadavg()
    print_table(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
