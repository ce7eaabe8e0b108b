#!/usr/bin/env python3
"""`mnist train --deskew` and `--ink-width N` in numpy, for PyTorch users of such weights and for the
twin recipes (scripts/pytorch_recipes.py --deskew --ink-width N), written from the formulas in
Sources/Kernels/AffineWarp.swift (Matrix.deskewing, Matrix.widthNormalizing, bilinear) and
Sources/Datasets/InputPreprocessing.swift, in float64 where Swift computes in float32.

- deskew: each digit sheared upright: with its ink's centre of mass (x̄, ȳ), μ11 = Σ I·(x − x̄)(y − ȳ) and
  μ02 = Σ I·(y − ȳ)², output pixel (x, y) reads the source at (x + s·(y − ȳ), y), s = μ11/μ02 kept in ±1;
  an image without ink or with all of it on one row is left as it is.
- ink width N: the ink's columns (values above 0) span left…right; output column x reads source column
  (left + right)/2 + (x − 13.5)·(right − left + 1)/N; an image without ink is left as it is.
Both resample bilinearly (pixel centres at whole numbers, zero outside) and round to whole levels 0–255,
deskewing first.

Run as a script, it writes the fixture the Swift tests compare InputPreprocessing with
(Tests/DatasetsTests/Fixtures, see its README.md): the first 100 test images deskewed, width-normalised to 16
pixels, and both, as uncompressed IDX files.
"""

import argparse
import os

import numpy as np


def bilinear(images, source_x, source_y):
    """images [N, rows, columns] float64 sampled at (source_x, source_y) [N, rows, columns], zero outside."""
    count, rows, columns = images.shape
    left, top = np.floor(source_x), np.floor(source_y)
    fraction_x, fraction_y = source_x - left, source_y - top
    left, top = left.astype(np.int64), top.astype(np.int64)
    index = np.arange(count)[:, None, None]

    def pixel(row, column):
        inside = (row >= 0) & (row < rows) & (column >= 0) & (column < columns)
        return np.where(inside, images[index, np.clip(row, 0, rows - 1), np.clip(column, 0, columns - 1)], 0.0)

    upper = pixel(top, left) + fraction_x * (pixel(top, left + 1) - pixel(top, left))
    lower = pixel(top + 1, left) + fraction_x * (pixel(top + 1, left + 1) - pixel(top + 1, left))
    return upper + fraction_y * (lower - upper)


def whole_levels(images):
    """Rounded half away from zero, as Swift's rounded(), and kept in 0–255."""
    return np.clip(np.sign(images) * np.floor(np.abs(images) + 0.5), 0, 255)


def deskew(images):
    """images [N, rows, columns] uint8 or float, 0 background to 255 ink -> float64 whole levels."""
    images = np.asarray(images, dtype=np.float64)
    count, rows, columns = images.shape
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float64)
    total = images.sum(axis=(1, 2))
    safe_total = np.where(total > 0, total, 1)
    mean_x = (images * x).sum(axis=(1, 2)) / safe_total
    mean_y = (images * y).sum(axis=(1, 2)) / safe_total
    dy = y - mean_y[:, None, None]
    covariance = (images * (x - mean_x[:, None, None]) * dy).sum(axis=(1, 2))
    row_variance = (images * dy * dy).sum(axis=(1, 2))
    upright = (total > 0) & (row_variance > 0)
    slope = np.where(upright, np.clip(covariance / np.where(upright, row_variance, 1), -1, 1), 0)
    source_x = x + slope[:, None, None] * np.where(upright[:, None, None], dy, 0)
    return whole_levels(bilinear(images, source_x, np.broadcast_to(y, images.shape)))


def normalize_width(images, width):
    """images [N, rows, columns], 0 background to 255 ink -> float64 whole levels, ink `width` pixels wide."""
    images = np.asarray(images, dtype=np.float64)
    count, rows, columns = images.shape
    inked = (images > 0).any(axis=1)  # [N, columns]
    has_ink = inked.any(axis=1)
    left = np.where(has_ink, inked.argmax(axis=1), 0)
    right = np.where(has_ink, columns - 1 - inked[:, ::-1].argmax(axis=1), columns - 1)
    scale = np.where(has_ink, (right - left + 1) / width, 1.0)
    ink_centre = np.where(has_ink, (left + right) / 2, (columns - 1) / 2)
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float64)
    source_x = ink_centre[:, None, None] + (x - (columns - 1) / 2) * scale[:, None, None]
    return whole_levels(bilinear(images, source_x, np.broadcast_to(y, images.shape)))


def preprocess(images, deskewed=False, ink_width=None):
    """images [N, rows, columns] uint8 -> uint8, deskewed and then width-normalised as asked; 5,000 images at
    a time, so the float64 temporaries stay small."""
    if not deskewed and ink_width is None:
        return np.asarray(images, dtype=np.uint8)
    chunks = []
    for start in range(0, len(images), 5000):
        result = np.asarray(images[start:start + 5000], dtype=np.float64)
        if deskewed:
            result = deskew(result)
        if ink_width is not None:
            result = normalize_width(result, ink_width)
        chunks.append(result.astype(np.uint8))
    return np.concatenate(chunks) if chunks else np.asarray(images, dtype=np.uint8)


def write_idx(path, array):
    """An uncompressed unsigned-byte IDX file of `array` (uint8)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def main():
    from tutorial_models import load_mnist_raw

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument(
        "--output", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "DatasetsTests", "Fixtures"))
    args = parser.parse_args()
    images, _ = load_mnist_raw("test")
    images = images[: args.count]
    os.makedirs(args.output, exist_ok=True)
    for name, settings in [
        ("deskewed", dict(deskewed=True)),
        ("ink-width-16", dict(ink_width=16)),
        ("deskewed-ink-width-16", dict(deskewed=True, ink_width=16)),
    ]:
        path = os.path.join(args.output, f"test-first-{args.count}-{name}.idx3-ubyte")
        write_idx(path, preprocess(images, **settings))
        print(path)


if __name__ == "__main__":
    main()
