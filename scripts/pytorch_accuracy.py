#!/usr/bin/env python3
"""The tutorial's recipe in PyTorch, for the README's results table: trains one of the tutorial's models
(batches of 64 shuffled each epoch, cross-entropy, Adam with learning rate 0.001) for each seed given and
prints the test accuracy after every epoch, as the tutorial does, and the mean training loss.

Run by hand with torch from PyPI (never in CI):
    python3 scripts/pytorch_accuracy.py --model cnn --epochs 3 --seeds 0 1 2
"""

import argparse

import torch
import torch.nn.functional as F

from tutorial_models import MODELS, load_mnist


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 1000]).argmax(1) == labels[i:i + 1000]).sum().item()
                      for i in range(0, len(images), 1000))
    return 100.0 * correct / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet5", choices=list(MODELS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    for seed in args.seeds:
        torch.manual_seed(seed)
        model = MODELS[args.model]()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        for epoch in range(1, args.epochs + 1):
            model.train()
            order = torch.randperm(len(train_images))
            total_loss, batches = 0.0, 0
            for start in range(0, len(order), 64):
                batch = order[start:start + 64]
                loss = F.cross_entropy(model(train_images[batch]), train_labels[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total_loss, batches = total_loss + loss.item(), batches + 1
            print(f"{args.model} seed {seed} Epoch [{epoch}/{args.epochs}]: "
                  f"Accuracy: {accuracy(model, test_images, test_labels):.2f}%  "
                  f"(training loss {total_loss / batches:.4f})", flush=True)


if __name__ == "__main__":
    main()
