#!/usr/bin/env python3
"""Writes the seed corpus of the fuzzing harnesses (Fuzzing/Corpus/<harness>/), from MNIST's test files in
data/mnist, the PNG fixtures of Tests/ImagingTests and the safetensors fixture of Tests/NNTests. Run from the
repository root; the files are committed, so this only needs to run again to change the seeds."""
import gzip
import json
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))


def write(harness, name, data):
    folder = os.path.join(ROOT, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as file:
        file.write(data)


def idx(dimensions, data):
    return struct.pack(">BBBB", 0, 0, 8, len(dimensions)) + b"".join(struct.pack(">I", d) for d in dimensions) + data


with gzip.open(os.path.join(REPO, "data/mnist/t10k-images-idx3-ubyte.gz")) as file:
    images = file.read()
with gzip.open(os.path.join(REPO, "data/mnist/t10k-labels-idx1-ubyte.gz")) as file:
    labels = file.read()
first_image = images[16 : 16 + 784]

# IDX: MNIST's own headers with their first elements, and other shapes.
idx_seeds = {
    "labels-8": idx([8], labels[8:16]),
    "images-1x28x28": idx([1, 28, 28], first_image),
    "images-2x4x4": idx([2, 4, 4], bytes(range(32))),
    "empty-0x28x28": idx([0, 28, 28], b""),
    "four-dimensions": idx([2, 1, 2, 3], bytes(12)),
    "header-only-truncated": idx([10, 28, 28], b""),
}
for name, data in idx_seeds.items():
    write("IDX", name, data)
write("IDX", "labels-8.gz", gzip.compress(idx_seeds["labels-8"], mtime=0))

# gzip: compressed IDX files, one stored (level 0), two members one after the other.
write("Gzip", "labels-8.gz", gzip.compress(idx_seeds["labels-8"], mtime=0))
write("Gzip", "images-1x28x28.gz", gzip.compress(idx_seeds["images-1x28x28"], mtime=0))
write("Gzip", "stored.gz", gzip.compress(idx_seeds["images-2x4x4"], compresslevel=0, mtime=0))
half = len(idx_seeds["images-2x4x4"]) // 2
write(
    "Gzip",
    "two-members.gz",
    gzip.compress(idx_seeds["images-2x4x4"][:half], mtime=0)
    + gzip.compress(idx_seeds["images-2x4x4"][half:], mtime=0),
)


# safetensors: every data type, metadata, an empty tensor, a scalar.
def safetensors(entries, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in entries.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


write("SafeTensors", "f32-weight-bias", safetensors(
    {"fc.weight": ("F32", [2, 3], struct.pack("<6f", 1, -2, 0.5, 0, 3, 4)), "fc.bias": ("F32", [2], struct.pack("<2f", 1, 2))},
    {"model": "mlp", "format": "pt"}))
write("SafeTensors", "every-type", safetensors({
    "bool": ("BOOL", [2], b"\x00\x01"), "u8": ("U8", [2], b"\x01\xff"), "i8": ("I8", [1], b"\x80"),
    "u16": ("U16", [1], b"\xff\xff"), "i16": ("I16", [1], b"\x00\x80"), "u32": ("U32", [1], b"\xff" * 4),
    "i32": ("I32", [1], b"\x00\x00\x00\x80"), "u64": ("U64", [1], b"\xff" * 8), "i64": ("I64", [], b"\x01" + b"\x00" * 7),
    "f16": ("F16", [2], struct.pack("<2e", 1.5, -0.25)), "bf16": ("BF16", [1], b"\x80\x3f"),
    "f64": ("F64", [1], struct.pack("<d", 2.5)), "empty": ("F32", [0, 3], b""),
}))
write("SafeTensors", "escaped-names", safetensors(
    {"caf\u00e9\n\"x\"": ("F32", [1], struct.pack("<f", 1))}, {"note": "tab\there \\ \u2603"}))
shutil.copy(os.path.join(REPO, "Tests/NNTests/Fixtures/python-written.safetensors"),
            os.path.join(ROOT, "SafeTensors", "python-written"))

# PNG: the decoding tests' fixtures, every colour type and bit depth, interlaced or not.
fixtures = os.path.join(REPO, "Tests/ImagingTests/Fixtures")
for name in sorted(os.listdir(fixtures)):
    if name.endswith(".png"):
        os.makedirs(os.path.join(ROOT, "PNG"), exist_ok=True)
        shutil.copy(os.path.join(fixtures, name), os.path.join(ROOT, "PNG", name))

# Prediction requests: byte 0 is 0 (JSON), 1 (PNG) or a content type up to a newline (FuzzPredictionRequest).
pixels = list(first_image)
write("PredictionRequest", "json-digit", b"\x00" + json.dumps({"pixels": pixels}).encode())
write("PredictionRequest", "json-floats", b"\x00" + json.dumps({"pixels": [0.5] * 783 + [255.0]}).encode())
write("PredictionRequest", "json-bad-values", b"\x00" + b'{"pixels":[1e400,-1,"a",null,true,[],{}]}')
write("PredictionRequest", "json-charset", b"\x02application/json; charset=utf-8\n" + b'{"pixels":[0]}')
write("PredictionRequest", "json-not-object", b"\x00[1,2,3]")
for name in ["canvas-export.png", "gray1.png", "rgba8.png", "interlaced-rgba8.png", "palette4.png"]:
    with open(os.path.join(fixtures, name), "rb") as file:
        write("PredictionRequest", "png-" + name[:-4], b"\x01" + file.read())
write("PredictionRequest", "other-type", b"\x02text/plain\nhello")
