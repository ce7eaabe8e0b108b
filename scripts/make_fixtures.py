"""Writes the PyTorch reference fixtures Tests/MNISTTests/Fixtures/<model>.safetensors.

For each model (mlp, cnn, lenet5, vgg, fast, plain): the first 64 training images and labels, the seeded
initial weights, logits, mean cross-entropy loss, every parameter gradient, the weights
after optimizer steps taken with exactly those gradients, and for a model with batch
normalisation its buffers after the training-mode forward pass. See
Tests/MNISTTests/Fixtures/README.md for the key layout. Run by hand:

    python3 scripts/make_fixtures.py
"""

import argparse
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from tutorial_models import DEFAULT_DATA_DIR, MODELS, load_mnist

SEED = 0
BATCH = 64
DEFAULT_OUT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "MNISTTests", "Fixtures"))

# (key prefix, optimizer class, hyper-parameters, steps, models that get it).
# Every step sets p.grad to the same stored gradients; it never recomputes them.
OPTIMIZER_RUNS = [
    ("adam.step1", torch.optim.Adam, dict(lr=1e-3), 1, ("mlp", "cnn", "lenet5", "vgg", "fast", "plain")),
    ("adam.step2", torch.optim.Adam, dict(lr=1e-3), 2, ("lenet5",)),
    ("sgd.step1", torch.optim.SGD, dict(lr=0.01, momentum=0.9), 1, ("mlp", "cnn", "lenet5", "vgg", "fast", "plain")),
    ("sgd.step2", torch.optim.SGD, dict(lr=0.01, momentum=0.9), 2, ("lenet5",)),
    ("sgdnesterov.step2", torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4), 2,
     ("lenet5",)),
    ("adamw.step2", torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2), 2, ("lenet5",)),
    ("adamwd.step2", torch.optim.Adam, dict(lr=1e-3, weight_decay=1e-2), 2, ("lenet5",)),
]

# Models computed in float64 and stored as float32: in float32, batch normalisation's backward pass loses up
# to 1.1e-4 (relative) of vgg's conv2 gradient, in PyTorch as in any float32 engine, which would make the
# fixture a worse oracle than the test's 1e-4 bound needs. The fast and plain networks have batch normalisation too.
DOUBLE_PRECISION = ("vgg", "fast", "plain")

DESCRIPTION = (
    "input: first 64 MNIST training images [64,1,28,28] F32 scaled /255 (no normalisation); "
    "labels: their labels [64] stored as F32 (cast to int64 for the loss); "
    "init.<p>: weights after torch.manual_seed(seed) + default init; logits [64,10]; "
    "loss []: F.cross_entropy(logits, labels) mean; grad.<p>: d loss / d p; "
    "<opt>.stepK.<p>: weights after K steps from init, each step with p.grad = the stored grad.<p>; "
    "after.<b>: batch-norm buffers after the forward pass in training mode (num_batches_tracked as F32). "
    "adam: Adam(lr=1e-3, betas=(0.9,0.999), eps=1e-8); "
    "sgd: SGD(lr=0.01, momentum=0.9); "
    "sgdnesterov: SGD(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4); "
    "adamw: AdamW(lr=1e-3, weight_decay=1e-2, betas=(0.9,0.999), eps=1e-8); "
    "adamwd: Adam(lr=1e-3, weight_decay=1e-2) (L2 added to the gradient). "
    "vgg, fast, plain: computed in float64 from the float32 initial weights, stored as float32."
)


def optimizer_steps(model_cls, init, grads, opt_cls, hparams, steps, dtype):
    """Returns the state dict after `steps` optimizer steps from `init`, each using `grads`, in `dtype`."""
    model = model_cls().to(dtype)
    model.load_state_dict(init)
    params = dict(model.named_parameters())
    optimizer = opt_cls(params.values(), foreach=False, **hparams)
    for _ in range(steps):
        for name, p in params.items():
            p.grad = grads[name].clone()
        optimizer.step()
    return {name: p.detach().clone().to(torch.float32) for name, p in params.items()}


def make_fixture(name, images, labels):
    """Computes all fixture tensors for one model."""
    torch.manual_seed(SEED)
    model = MODELS[name]()
    init = {k: v.detach().clone().to(torch.float32) for k, v in model.state_dict().items()}
    dtype = torch.float64 if name in DOUBLE_PRECISION else torch.float32
    model = model.to(dtype)
    logits = model(images.to(dtype))
    parameter_names = {k for k, _ in model.named_parameters()}
    after_forward = {k: v.detach().clone().to(torch.float32) for k, v in model.state_dict().items() if k not in parameter_names}
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    logits, loss = logits.to(torch.float32), loss.to(torch.float32)

    tensors = {"input": images, "labels": labels.to(torch.float32), "logits": logits.detach(), "loss": loss.detach()}
    tensors.update({f"init.{k}": v for k, v in init.items()})
    tensors.update({f"grad.{k}": v.to(torch.float32) for k, v in grads.items()})
    tensors.update({f"after.{k}": v for k, v in after_forward.items()})
    for prefix, opt_cls, hparams, steps, models in OPTIMIZER_RUNS:
        if name in models:
            after = optimizer_steps(MODELS[name], init, grads, opt_cls, hparams, steps, dtype)
            tensors.update({f"{prefix}.{k}": v for k, v in after.items()})
    for k, v in tensors.items():
        assert v.dtype == torch.float32, k
    return {k: v.contiguous() for k, v in tensors.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA_DIR, help="directory with the MNIST *-idx?-ubyte.gz files")
    parser.add_argument("--out", default=DEFAULT_OUT, help="directory the .safetensors fixtures are written to")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="models to write")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)

    images, labels = load_mnist("train", args.data)
    images, labels = images[:BATCH].contiguous(), labels[:BATCH].contiguous()
    os.makedirs(args.out, exist_ok=True)
    for name in args.models:
        tensors = make_fixture(name, images, labels)
        metadata = {"model": name, "seed": str(SEED), "torch_version": torch.__version__, "description": DESCRIPTION}
        path = os.path.join(args.out, f"{name}.safetensors")
        save_file(tensors, path, metadata=metadata)
        print(f"{path}: {len(tensors)} tensors, {os.path.getsize(path) / 1e6:.2f} MB, "
              f"loss {tensors['loss'].item():.6f}")
        if name == "lenet5":
            # Exactly what a PyTorch user writes: the state dict, no metadata. The Swift side must recognise
            # the model from the tensors alone.
            torch.manual_seed(SEED)
            state_dict_path = os.path.join(args.out, "lenet5-state-dict.safetensors")
            save_file(MODELS[name]().state_dict(), state_dict_path)
            print(f"{state_dict_path}: PyTorch's save_file(model.state_dict()), no metadata")


if __name__ == "__main__":
    main()
