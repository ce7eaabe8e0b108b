#!/usr/bin/env python3
"""A small MNIST in its own folder, for quick end-to-end checks: the first TRAIN training and TEST test images
and labels of SOURCE (raw or .gz IDX files) written to DESTINATION as raw IDX files (big-endian header: magic,
count, then rows and columns for images; the count rewritten).

usage: make_small_mnist.py SOURCE DESTINATION [TRAIN [TEST]]   (defaults 2000 and 500)
"""
import gzip
import os
import struct
import sys

source, destination = sys.argv[1], sys.argv[2]
train = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
test = int(sys.argv[4]) if len(sys.argv) > 4 else 500
os.makedirs(destination, exist_ok=True)
for name, magic, count in [("train-images-idx3-ubyte", 0x803, train), ("train-labels-idx1-ubyte", 0x801, train),
                           ("t10k-images-idx3-ubyte", 0x803, test), ("t10k-labels-idx1-ubyte", 0x801, test)]:
    path = os.path.join(source, name)
    with (gzip.open(path + ".gz") if os.path.exists(path + ".gz") else open(path, "rb")) as file:
        found_magic, found_count = struct.unpack(">II", file.read(8))
        assert found_magic == magic and found_count >= count, f"{name}: unexpected header {found_magic:#x} {found_count}"
        dimensions = struct.unpack(">II", file.read(8)) if magic == 0x803 else ()
        size = count * (dimensions[0] * dimensions[1] if dimensions else 1)
        body = file.read(size)
        assert len(body) == size, f"{name}: truncated"
    with open(os.path.join(destination, name), "wb") as out:
        out.write(struct.pack(">II", magic, count) + struct.pack(">" + "I" * len(dimensions), *dimensions) + body)
