#!/usr/bin/env python3
"""Screens candidate changes to `mnist train --recipe best` on one GPU, many seeds at once, to choose what is worth
running in Swift on two cores (the 30-minute recipe leaves room for one run per seed).

All seeds of a candidate train together as one grouped network: seed k owns group k of every convolution (its
own images arrive on input channel k), its own channels of every batch norm (so its own batch statistics) and
slice k of every batched linear layer; each has its own initialisation (PyTorch's defaults), shuffling and
augmentation draws, and, AdamW and weight decay being elementwise, its own optimizer. The loss is the sum of the
seeds' mean cross-entropies, so each seed's gradient is its own. One process then costs about what one seed
costs, where a GPU is bound by launching small kernels.

The base candidate is `--recipe best` (scripts/pytorch_recipes.py): the VGG-style network, --augment's random
affine maps, AdamW lr 0.001 with weight decay 0.05 along a cosine to 0, batches of 64, 25 epochs. Printed per
epoch: the seeds' mean test accuracy; at the end, for each seed: test accuracy, with `mnist evaluate --tta`'s
7 views, and with an exponential moving average of the weights and batch-norm statistics (decay 0.999, every
step) instead of the weights; then the mean over seeds of each, and ensembles (mean probabilities) of every 3
seeds and of all. Results go to --json too.

--check compares the grouped network with separate VGGStyleCNNs (scripts/tutorial_models.py) given the same
weights: outputs and gradients, in float64 on the CPU. Run by hand with torch from PyPI (never in CI), on a GPU:
    python3 scripts/pytorch_screen.py --check
    python3 scripts/pytorch_screen.py --candidate base --seeds 8 --json base.json
"""

import argparse
import itertools
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_accuracy import affine_warp, random_affine
from tutorial_models import load_mnist

# Layers: (output channels, padding) a 3x3 convolution without bias, batch norm and ReLU; "M" 2x2 max pooling
# (after the ReLU); then linear -> hidden without bias, batch norm, ReLU, linear -> 10.
VGG = [(32, 0), (32, 0), "M", (64, 0), (64, 0), "M"]
BASE = dict(layers=VGG, hidden=256, epochs=25, batch_size=64, lr=0.001, weight_decay=0.05, pool_dropout=0.0,
            hidden_dropout=0.0, augmentation=dict(), elastic=False, label_smoothing=0.0)
CANDIDATES = {
    "base": dict(),
    "epochs40": dict(epochs=40),
    "wide96": dict(layers=[(32, 0), (32, 0), "M", (96, 0), (96, 0), "M"]),
    "block3": dict(layers=VGG + [(128, 1)]),
    "dropout": dict(pool_dropout=0.25, hidden_dropout=0.4),
    "mild": dict(augmentation=dict(maximum_rotation=10.0, scale_range=(0.9, 1.1), maximum_shift=0.1)),
    "elastic": dict(elastic=True),
    "batch128": dict(batch_size=128, lr=0.002),
}

# `mnist evaluate --tta` (TestTimeAugmentation.mnist): (degrees, shift right, shift down).
TTA_VIEWS = [(0, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1), (10, 0, 0), (-10, 0, 0)]


class StackedLinear(nn.Module):
    """`seeds` independent linear layers: [B, seeds, inputs] -> [B, seeds, outputs], each initialised as
    nn.Linear is (uniform within 1/sqrt(inputs))."""

    def __init__(self, seeds, inputs, outputs, bias):
        super().__init__()
        bound = 1 / math.sqrt(inputs)
        self.weight = nn.Parameter(torch.empty(seeds, outputs, inputs).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(seeds, outputs).uniform_(-bound, bound)) if bias else None

    def forward(self, x):
        y = torch.einsum("bki,koi->bko", x, self.weight)
        return y + self.bias if self.bias is not None else y


class StackedVGG(nn.Module):
    """`seeds` VGG-style networks side by side: [B, seeds, 28, 28] (image b of seed k on channel k) ->
    [B, seeds, 10]."""

    def __init__(self, seeds, layers, hidden, pool_dropout, hidden_dropout):
        super().__init__()
        self.seeds, self.layers = seeds, layers
        self.pool_dropout, self.hidden_dropout = pool_dropout, hidden_dropout
        self.convolutions, self.norms = nn.ModuleList(), nn.ModuleList()
        channels, size = 1, 28
        for layer in layers:
            if layer == "M":
                size //= 2
                continue
            outputs, padding = layer
            self.convolutions.append(
                nn.Conv2d(seeds * channels, seeds * outputs, 3, padding=padding, groups=seeds, bias=False))
            self.norms.append(nn.BatchNorm2d(seeds * outputs))
            channels, size = outputs, size + 2 * padding - 2
        self.fc1 = StackedLinear(seeds, channels * size * size, hidden, bias=False)
        self.bn_hidden = nn.BatchNorm1d(seeds * hidden)
        self.fc2 = StackedLinear(seeds, hidden, 10, bias=True)

    def forward(self, x):
        index = 0
        for layer in self.layers:
            if layer == "M":
                x = F.dropout(F.max_pool2d(x, 2), self.pool_dropout, self.training)
            else:
                x = F.relu(self.norms[index](self.convolutions[index](x)))
                index += 1
        batch = x.shape[0]
        x = self.fc1(x.reshape(batch, self.seeds, -1))
        x = F.relu(self.bn_hidden(x.reshape(batch, -1))).reshape(batch, self.seeds, -1)
        return self.fc2(F.dropout(x, self.hidden_dropout, self.training))


def check_against_separate_networks():
    """The grouped network computes what separate VGGStyleCNNs with the same weights compute: outputs in training
    and evaluation mode and gradients of the summed losses, in float64, on the CPU."""
    from tutorial_models import VGGStyleCNN
    seeds = 3
    torch.manual_seed(0)
    stacked = StackedVGG(seeds, VGG, 256, 0.0, 0.0).double()
    separate = [VGGStyleCNN().double() for _ in range(seeds)]

    def pairs(net):
        return [(net.conv1, net.bn1), (net.conv2, net.bn2), (net.conv3, net.bn3), (net.conv4, net.bn4)]

    with torch.no_grad():
        for k, net in enumerate(separate):
            for index, (convolution, norm) in enumerate(pairs(net)):
                part = slice(k * convolution.out_channels, (k + 1) * convolution.out_channels)
                convolution.weight.copy_(stacked.convolutions[index].weight[part])
                stacked.norms[index].weight[part] = norm.weight.copy_(torch.rand_like(norm.weight) + 0.5)
                stacked.norms[index].bias[part] = norm.bias.copy_(torch.rand_like(norm.bias))
            net.fc1.weight.copy_(stacked.fc1.weight[k])
            net.fc2.weight.copy_(stacked.fc2.weight[k])
            net.fc2.bias.copy_(stacked.fc2.bias[k])
    images = torch.rand(16, seeds, 28, 28, dtype=torch.float64)
    labels = torch.randint(0, 10, (16, seeds))
    logits = stacked(images)
    (seeds * F.cross_entropy(logits.reshape(-1, 10), labels.reshape(-1))).backward()
    differences = []
    for k, net in enumerate(separate):
        own = net(images[:, k:k + 1])
        F.cross_entropy(own, labels[:, k]).backward()
        differences += [(own - logits[:, k]).abs().max(),
                        (net.conv2.weight.grad - stacked.convolutions[1].weight.grad[k * 32:(k + 1) * 32]).abs().max(),
                        (net.fc1.weight.grad - stacked.fc1.weight.grad[k]).abs().max(),
                        (net.bn5.weight.grad - stacked.bn_hidden.weight.grad[k * 256:(k + 1) * 256]).abs().max()]
    stacked.eval()
    logits = stacked(images)
    for k, net in enumerate(separate):
        differences.append((net.eval()(images[:, k:k + 1]) - logits[:, k]).abs().max())
    worst = max(difference.item() for difference in differences)
    print(f"grouped against separate networks: largest difference {worst:.1e}")
    if not worst < 1e-10:  # NaN fails too
        raise SystemExit("the grouped network differs from separate ones")


def probabilities(model, images, seeds):
    """[N, seeds, 10] softmax probabilities of every seed for the same [N, 1, 28, 28] images."""
    model.eval()
    with torch.no_grad():
        return torch.cat([F.softmax(model(images[i:i + 1000].expand(-1, seeds, -1, -1)), dim=2)
                          for i in range(0, len(images), 1000)])


def accuracies(probabilities_, labels):
    """[seeds] percentages of right answers from [N, seeds, 10]."""
    return (probabilities_.argmax(2) == labels[:, None]).float().mean(0).mul(100).tolist()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidate", default="base", choices=list(CANDIDATES))
    parser.add_argument("--seeds", type=int, default=8, help="how many seeds train together")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="overrides the candidate's (for a quick check)")
    parser.add_argument("--train-images", type=int, help="the first N training images only (for a quick check)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json")
    parser.add_argument("--check", action="store_true", help="only compare the grouped network with separate ones")
    args = parser.parse_args()
    if args.check:
        return check_against_separate_networks()
    recipe = dict(BASE, **CANDIDATES[args.candidate])
    if args.epochs:
        recipe["epochs"] = args.epochs
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    device = torch.device(args.device)
    train_images, train_labels = (t.to(device) for t in load_mnist("train"))
    test_images, test_labels = (t.to(device) for t in load_mnist("test"))
    if args.train_images:
        train_images, train_labels = train_images[:args.train_images], train_labels[:args.train_images]
    train_images = train_images[:, 0]  # [N, 28, 28]
    seeds, batch_size, epochs = args.seeds, recipe["batch_size"], recipe["epochs"]
    print(f"{args.candidate}: {recipe}, seeds {args.first_seed}..{args.first_seed + seeds - 1} on {device} "
          f"(torch {torch.__version__})", flush=True)

    torch.manual_seed(args.first_seed)
    model = StackedVGG(seeds, recipe["layers"], recipe["hidden"], recipe["pool_dropout"],
                       recipe["hidden_dropout"]).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])
    batches = math.ceil(len(train_images) / batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * batches)
    averaged = [t for t in itertools.chain(model.parameters(), model.buffers()) if t.is_floating_point()]
    average = [t.detach().clone() for t in averaged]
    generator = torch.Generator(device=device)
    generator.manual_seed(args.first_seed + 1_000_000)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        # [seeds, N]: each seed's own order.
        order = torch.rand(seeds, len(train_images), generator=generator, device=device).argsort(dim=1)
        for first in range(0, len(train_images), batch_size):
            chosen = order[:, first:first + batch_size]  # [seeds, b]
            count = chosen.shape[1]
            images = random_affine(train_images[chosen].reshape(seeds * count, 1, 28, 28), generator,
                                   elastic=recipe["elastic"], **recipe["augmentation"])
            images = images.reshape(seeds, count, 28, 28).transpose(0, 1)  # [b, seeds, 28, 28]
            logits = model(images)  # [b, seeds, 10]
            loss = seeds * F.cross_entropy(logits.reshape(-1, 10), train_labels[chosen].t().reshape(-1),
                                           label_smoothing=recipe["label_smoothing"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                torch._foreach_lerp_(average, averaged, 0.001)
        epoch_accuracies = accuracies(probabilities(model, test_images, seeds), test_labels)
        print(f"{args.candidate} Epoch [{epoch}/{epochs}]: mean accuracy {statistics.mean(epoch_accuracies):.3f}% "
              f"(min {min(epoch_accuracies):.2f}, max {max(epoch_accuracies):.2f}), "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    training_seconds = time.perf_counter() - start

    views = [probabilities(model, affine_warp(
        test_images, *(torch.full((len(test_images),), float(value), dtype=torch.float64, device=device)
                       for value in (degrees, 1, right, down))), seeds) for degrees, right, down in TTA_VIEWS]
    plain, tta = views[0], torch.stack(views).mean(0)
    with torch.no_grad():
        for tensor, value in zip(averaged, average):
            tensor.copy_(value)
    ema = probabilities(model, test_images, seeds)
    results = dict(candidate=args.candidate, recipe=recipe, seeds=seeds,
                   first_seed=args.first_seed, training_seconds=training_seconds)
    for name, values in (("plain", plain), ("tta", tta), ("ema", ema)):
        per_seed = accuracies(values, test_labels)
        triples = [accuracies(values[:, list(triple)].mean(1, keepdim=True), test_labels)[0]
                   for triple in itertools.combinations(range(seeds), 3)] or [float("nan")]
        everyone = accuracies(values.mean(1, keepdim=True), test_labels)[0]
        results[name] = dict(per_seed=per_seed, mean=statistics.mean(per_seed), triples_mean=statistics.mean(triples),
                             all_seeds=everyone)
        print(f"{args.candidate} {name:5}: mean {statistics.mean(per_seed):.3f}% (min {min(per_seed):.2f}, "
              f"max {max(per_seed):.2f}); ensembles of 3: mean {statistics.mean(triples):.3f}%; all {seeds}: "
              f"{everyone:.2f}%; seeds {' '.join(f'{a:.2f}' for a in per_seed)}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
