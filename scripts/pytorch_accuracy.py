#!/usr/bin/env python3
"""The tutorial's recipe in PyTorch, for the README's results tables: trains one of the models (batches of 64
shuffled each epoch, cross-entropy, Adam with learning rate 0.001) for each seed given and prints the test
accuracy after every epoch, as the tutorial does, and the mean training loss.

Beyond the tutorial, the same options as `mnist train`: --augment (every training image rotated by up to
±15°, scaled by 85–115% and shifted by up to ±10% of its side, drawn anew each epoch, bilinear, background
0: what Swift's RandomAffine.mnist does, here through affine_grid + grid_sample with align_corners=True) and
--schedule cosine (CosineAnnealingLR down to 0, stepped after every batch); with --augment, --elastic also
moves every pixel by a random field of uniform noise smoothed by a Gaussian (sigma 6, alpha 36 pixels), as
Swift's ElasticDistortion.mnist does (the same distribution, not the same draws). --device cuda runs it on a GPU
in float32 (TF32 off, deterministic cuDNN), for many seeds quickly.

Run by hand with torch from PyPI (never in CI):
    python3 scripts/pytorch_accuracy.py --model cnn --epochs 3 --seeds 0 1 2
    python3 scripts/pytorch_accuracy.py --model vgg --augment --schedule cosine --epochs 15 --seeds 0 1 2
    python3 scripts/pytorch_accuracy.py --data /usr/share/datasets/fashion-mnist --seeds 0 1 2
"""

import argparse
import math

import torch
import torch.nn.functional as F

from tutorial_models import DEFAULT_DATA_DIR, MODELS, load_mnist


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 1000]).argmax(1) == labels[i:i + 1000]).sum().item()
                      for i in range(0, len(images), 1000))
    return 100.0 * correct / len(images)


def gaussian_taps(sigma):
    """Swift's GaussianSmoothing.taps (scipy's gaussian_filter kernel, cut at 4 sigma)."""
    radius = int(4 * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    taps = torch.exp(-0.5 * offsets ** 2 / sigma ** 2)
    return taps / taps.sum()


def elastic_displacement(batch, height, width, generator, device, sigma=6.0, alpha=36.0):
    """[B, 2, H, W] offsets in pixels (horizontal, vertical), as ElasticDistortion.mnist draws them: uniform
    noise in [-1, 1] smoothed by a Gaussian of sigma pixels (zeros outside the image), times alpha."""
    noise = torch.rand(batch, 2, height, width, generator=generator, device=device, dtype=torch.float64) * 2 - 1
    taps = gaussian_taps(sigma).to(device)

    def band(size):
        # band[i, j] = taps[j - i + radius] inside the kernel, else 0: smoothing a line as a matrix product.
        offsets = torch.arange(size, device=device).view(1, -1) - torch.arange(size, device=device).view(-1, 1)
        index = offsets + len(taps) // 2
        inside = (index >= 0) & (index < len(taps))
        return torch.where(inside, taps[index.clamp(0, len(taps) - 1)], torch.zeros((), dtype=taps.dtype, device=device))

    return alpha * (band(height) @ noise @ band(width))


def affine_warp(images, degrees, scale, shift_x, shift_y, displacement=None):
    """Each image of [B, 1, H, W] rotated by degrees[i] (counter-clockwise as displayed), scaled by scale[i] and
    shifted by (shift_x[i], shift_y[i]) pixels about its centre, bilinear with background 0, as Swift's
    AffineWarp.Matrix.rotation and AffineWarp.bilinear do; the parameters are float64 tensors of [B].
    displacement ([B, 2, H, W] pixel offsets, horizontal then vertical) moves every pixel further."""
    batch, _, height, width = images.shape
    radians = degrees * math.pi / 180
    cosine, sine = torch.cos(radians) / scale, torch.sin(radians) / scale
    # Source pixel = centre + R(angle)ᵀ (output − centre − shift) / scale, rows growing downwards, as in
    # Swift's AffineWarp.Matrix.rotation; with align_corners=True, grid coordinates are pixel positions
    # scaled to [−1, 1] about the centre, so the map carries over with the shift rescaled.
    theta = torch.zeros(batch, 2, 3, dtype=torch.float64, device=images.device)
    theta[:, 0, 0], theta[:, 0, 1] = cosine, -sine * (height - 1) / (width - 1)
    theta[:, 1, 0], theta[:, 1, 1] = sine * (width - 1) / (height - 1), cosine
    offset_x, offset_y = shift_x * 2 / (width - 1), shift_y * 2 / (height - 1)
    theta[:, 0, 2] = -(cosine * offset_x - sine * offset_y * (height - 1) / (width - 1))
    theta[:, 1, 2] = -(sine * offset_x * (width - 1) / (height - 1) + cosine * offset_y)
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=True)
    if displacement is not None:
        # Pixel offsets to grid units: with align_corners=True, W - 1 pixels span 2.
        grid = grid + torch.stack(
            (displacement[:, 0] * 2 / (width - 1), displacement[:, 1] * 2 / (height - 1)), dim=-1).to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def random_affine(images, generator, elastic=False, maximum_rotation=15.0, scale_range=(0.85, 1.15),
                  maximum_shift=0.1):
    """Each image of [B, 1, H, W] rotated, scaled and shifted at random, as RandomAffine.mnist does (the
    defaults; the keywords as RandomAffine(maximumRotation:scale:maximumShift:)), and with elastic=True also
    moved by a random displacement field, as ElasticDistortion.mnist does."""
    batch, _, height, width = images.shape
    draws = torch.rand(batch, 4, generator=generator, device=images.device, dtype=torch.float64)
    degrees = (draws[:, 0] * 2 - 1) * maximum_rotation
    scale = scale_range[0] + draws[:, 1] * (scale_range[1] - scale_range[0])
    shift_x = (draws[:, 2] * 2 - 1) * maximum_shift * width
    shift_y = (draws[:, 3] * 2 - 1) * maximum_shift * height
    displacement = elastic_displacement(batch, height, width, generator, images.device) if elastic else None
    return affine_warp(images, degrees, scale, shift_x, shift_y, displacement)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet5", choices=list(MODELS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--augment", action="store_true")
    parser.add_argument("--elastic", action="store_true", help="with --augment: add ElasticDistortion.mnist's fields")
    parser.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", default=DEFAULT_DATA_DIR,
                        help="a folder of MNIST-format .gz files, e.g. /usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    device = torch.device(args.device)
    train_images, train_labels = (t.to(device) for t in load_mnist("train", args.data))
    test_images, test_labels = (t.to(device) for t in load_mnist("test", args.data))
    recipe = f"{args.model}{' augmented' if args.augment else ''}{' elastic' if args.elastic else ''}{' cosine' if args.schedule == 'cosine' else ''}"
    for seed in args.seeds:
        torch.manual_seed(seed)
        model = MODELS[args.model]().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        batches = math.ceil(len(train_images) / 64)
        scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * batches)
                     if args.schedule == "cosine" else None)
        augmentation = torch.Generator(device=device)
        augmentation.manual_seed(seed + 1_000_000)
        for epoch in range(1, args.epochs + 1):
            model.train()
            order = torch.randperm(len(train_images)).to(device)
            total_loss, count = 0.0, 0
            for start in range(0, len(order), 64):
                batch = order[start:start + 64]
                images = train_images[batch]
                if args.augment:
                    images = random_affine(images, augmentation, elastic=args.elastic)
                loss = F.cross_entropy(model(images), train_labels[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if scheduler:
                    scheduler.step()
                total_loss, count = total_loss + loss.item(), count + 1
            print(f"{recipe} seed {seed} Epoch [{epoch}/{args.epochs}]: "
                  f"Accuracy: {accuracy(model, test_images, test_labels):.2f}%  "
                  f"(training loss {total_loss / count:.4f})", flush=True)


if __name__ == "__main__":
    main()
