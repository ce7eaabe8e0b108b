#!/usr/bin/env python3
"""Prints the JSON body of `POST /predict` for one MNIST test digit: {"pixels": [784 numbers]}.

Reads data/mnist/t10k-*-ubyte.gz (gzip IDX) directly, with the standard library only.
Usage: scripts/mnist_digit.py [--index N] [--data DIR]   (prints the label on standard error)
"""
import argparse
import gzip
import json
import pathlib
import struct
import sys


def read_idx(path):
    with gzip.open(path, "rb") as file:
        data = file.read()
    magic, = struct.unpack(">I", data[:4])
    dimensions = magic & 0xFF
    shape = struct.unpack(">" + "I" * dimensions, data[4:4 + 4 * dimensions])
    return shape, data[4 + 4 * dimensions:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=int, default=0, help="which test digit (default 0, a 7)")
    parser.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parent.parent / "data" / "mnist"))
    arguments = parser.parse_args()
    data = pathlib.Path(arguments.data)
    (count, rows, columns), images = read_idx(data / "t10k-images-idx3-ubyte.gz")
    _, labels = read_idx(data / "t10k-labels-idx1-ubyte.gz")
    if not 0 <= arguments.index < count:
        sys.exit(f"--index must be from 0 to {count - 1}")
    size = rows * columns
    pixels = list(images[arguments.index * size:(arguments.index + 1) * size])
    print(f"test digit {arguments.index}: label {labels[arguments.index]}", file=sys.stderr)
    print(json.dumps({"pixels": pixels}, separators=(",", ":")))


if __name__ == "__main__":
    main()
