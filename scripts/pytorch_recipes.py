#!/usr/bin/env python3
"""The recipes of `mnist train --recipe tutorial|speed|best` in PyTorch on the CPU, for the README's Recipes
table: for each seed, the test accuracy after every epoch (as `mnist train` prints it) and where the time went,
and at the end the accuracy and wall time of every seed with their median.

- tutorial: LeNet5, Adam lr 0.001, batches of 64, 10 epochs, constant rate.
- speed: the fast network (FastCNN), Adam up to lr 0.01 and down again (OneCycleLR, learning rate only, as
  Swift's onecycle), batches of 128, 1 epoch.
- best: the VGG-style network with --augment's random affine maps, AdamW lr 0.001 along a cosine to 0 with
  weight decay 0.05, batches of 64, 25 epochs.

--model M trains network M instead of the recipe's (as `mnist train --model M`); --deskew and --ink-width N
preprocess the training and test digits first, as `mnist train --deskew --ink-width N` does
(scripts/input_preprocessing.py); --elastic adds --elastic's random displacement fields to the affine maps (ElasticDistortion.mnist);
--weight-decay W trains with AdamW (decoupled weight decay W) instead of the recipe's optimizer, as `mnist
train --optimizer adamw --weight-decay W` does, and --weight-decay 0 with Adam, as `--optimizer adam
--weight-decay 0`; --label-smoothing E trains with cross-entropy's label_smoothing E, as `mnist train
--label-smoothing E`; --sharpness-radius R takes each step's gradients at the weights moved R along them (SAM),
as `mnist train --sharpness-radius R`, and --sharpness-epochs N in the last N epochs only, as `mnist train
--sharpness-epochs N`.

--epochs, --batch-size and --lr override the recipe's. Each seed's wall time runs from the start of its model's
initialisation to the end of its last test pass; reading the data (once, shared by the seeds) and importing
torch are reported apart. --device cuda runs a recipe on a GPU instead. Run by hand with torch from PyPI
(never in CI):
    python3 scripts/pytorch_recipes.py --recipe speed --seeds 0 1 2 3 4
"""

import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from pytorch_accuracy import accuracy, random_affine  # noqa: E402
from tutorial_models import MODELS, load_mnist  # noqa: E402

RECIPES = {
    "tutorial": dict(model="lenet5", lr=0.001, batch_size=64, epochs=10, schedule="constant", augment=False),
    "speed": dict(model="fast", lr=0.01, batch_size=128, epochs=1, schedule="onecycle", augment=False),
    "best": dict(model="vgg", lr=0.001, batch_size=64, epochs=25, schedule="cosine", augment=True,
                 weight_decay=0.05),
}


def make_scheduler(optimizer, schedule, lr, total_steps):
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.3, anneal_strategy="cos",
            cycle_momentum=False)
    return None


def sharpness_aware_gradients(model, images, labels, radius, label_smoothing):
    """SAM (Foret et al. 2021), as `mnist train --sharpness-radius`: replaces the gradients g at the weights w by
    those of the same batch at w + radius * g / |g| (the norm over every parameter), then puts w back, and the
    batch-norm statistics as the first pass left them (davda54/sam's disable_running_stats)."""
    parameters = [parameter for parameter in model.parameters() if parameter.grad is not None]
    norm = torch.linalg.vector_norm(torch.cat([parameter.grad.double().flatten() for parameter in parameters]))
    if norm == 0:
        return
    weights = [parameter.detach().clone() for parameter in parameters]
    buffers = [buffer.detach().clone() for buffer in model.buffers()]
    with torch.no_grad():
        for parameter in parameters:
            parameter.add_(parameter.grad * float(radius / norm))
    model.zero_grad()
    F.cross_entropy(model(images), labels, label_smoothing=label_smoothing).backward()
    with torch.no_grad():
        for buffer, saved in zip(model.buffers(), buffers):
            buffer.copy_(saved)
        for parameter, saved in zip(parameters, weights):
            parameter.copy_(saved)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="tutorial", choices=list(RECIPES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cuda: on a GPU, in float32 (TF32 off)")
    parser.add_argument("--model", choices=list(MODELS))
    parser.add_argument("--deskew", action="store_true")
    parser.add_argument("--ink-width", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--elastic", action="store_true")
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--sharpness-radius", type=float, default=0.0)
    parser.add_argument("--sharpness-epochs", type=int)
    args = parser.parse_args()
    if args.ink_width is not None and not 1 <= args.ink_width <= 28:
        parser.error(f"--ink-width {args.ink_width}: expected a whole number of pixels, 1 to 28")
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs {args.epochs}: expected at least 1, as mnist train does")
    if args.sharpness_radius < 0:
        parser.error(f"--sharpness-radius {args.sharpness_radius}: expected a number of at least 0")
    recipe = dict(RECIPES[args.recipe])
    for key in ("model", "epochs", "batch_size", "lr", "weight_decay"):
        if getattr(args, key) is not None:
            recipe[key] = getattr(args, key)
    if args.sharpness_epochs is not None:
        if not 1 <= args.sharpness_epochs <= recipe["epochs"]:
            parser.error(f"--sharpness-epochs {args.sharpness_epochs}: expected 1 to the run's {recipe['epochs']} epochs")
        if args.sharpness_radius <= 0:
            parser.error(f"--sharpness-epochs {args.sharpness_epochs} needs --sharpness-radius above 0")
    # The first epoch (from 0) whose steps are sharpness-aware, as Learner.sharpnessStartEpoch.
    sharpness_start = recipe["epochs"] - (args.sharpness_epochs or recipe["epochs"])
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    import_seconds = time.perf_counter() - PROCESS_START
    load_start = time.perf_counter()
    preprocessing = dict(deskewed=args.deskew, ink_width=args.ink_width)
    train_images, train_labels = (t.to(device) for t in load_mnist("train", **preprocessing))
    test_images, test_labels = (t.to(device) for t in load_mnist("test", **preprocessing))
    load_seconds = time.perf_counter() - load_start
    described = (" deskewed" if args.deskew else "") + (f" ink width {args.ink_width}" if args.ink_width else "")
    print(f"PyTorch {torch.__version__} on {device}, {args.threads} threads, recipe {args.recipe}: {recipe}"
          + (f", digits{described}" if described else "")
          + (f", sharpness-aware radius {args.sharpness_radius} from epoch {sharpness_start + 1}"
             if args.sharpness_radius > 0 else ""))
    print(f"importing torch {import_seconds:.2f} s, reading the data {load_seconds:.2f} s")
    batch_size, epochs = recipe["batch_size"], recipe["epochs"]
    batches = math.ceil(len(train_images) / batch_size)
    results = []
    for seed in args.seeds:
        start = time.perf_counter()
        torch.manual_seed(seed)
        model = MODELS[recipe["model"]]().to(device)
        # The recipe's weight decay (or --weight-decay's) means AdamW, none (or 0) Adam.
        weight_decay = recipe.get("weight_decay")
        optimizer = (torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=weight_decay)
                     if weight_decay else torch.optim.Adam(model.parameters(), lr=recipe["lr"]))
        scheduler = make_scheduler(optimizer, recipe["schedule"], recipe["lr"], epochs * batches)
        generator = torch.Generator(device=device).manual_seed(seed)
        training_seconds = test_seconds = 0.0
        for epoch in range(epochs):
            epoch_start = time.perf_counter()
            model.train()
            order = torch.randperm(len(train_images), generator=generator, device=device)
            total_loss = 0.0
            for index in range(batches):
                batch = order[index * batch_size:(index + 1) * batch_size]
                images, labels = train_images[batch], train_labels[batch]
                if recipe["augment"]:
                    images = random_affine(images, generator, elastic=args.elastic)
                loss = F.cross_entropy(model(images), labels, label_smoothing=args.label_smoothing)
                optimizer.zero_grad()
                loss.backward()
                if args.sharpness_radius > 0 and epoch >= sharpness_start:
                    sharpness_aware_gradients(model, images, labels, args.sharpness_radius, args.label_smoothing)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total_loss += loss.item() * len(batch)
            test_start = time.perf_counter()
            test_accuracy = accuracy(model, test_images, test_labels)
            training_seconds += test_start - epoch_start
            test_seconds += time.perf_counter() - test_start
            print(f"seed {seed} Epoch [{epoch + 1}/{epochs}]: Accuracy: {test_accuracy:.2f}%  "
                  f"(training loss {total_loss / len(train_images):.4f}, {time.perf_counter() - epoch_start:.2f} s)",
                  flush=True)
        seconds = time.perf_counter() - start
        results.append((seed, test_accuracy, seconds))
        print(f"seed {seed}: {test_accuracy:.2f}% in {seconds:.2f} s (training {training_seconds:.2f} s, "
              f"test passes {test_seconds:.2f} s)", flush=True)
    accuracies = [accuracy for _, accuracy, _ in results]
    times = [seconds for _, _, seconds in results]
    print(f"recipe {args.recipe}, seeds {args.seeds}: accuracy median {statistics.median(accuracies):.2f}% "
          f"(mean {statistics.mean(accuracies):.2f}%, min {min(accuracies):.2f}%, max {max(accuracies):.2f}%), "
          f"seconds median {statistics.median(times):.2f} (each plus the import and data reading above)")


if __name__ == "__main__":
    main()
