"""MNIST's IDX files for the Python check scripts (check_onnx.py, check_mlx.py): found raw or gzip, read as
numpy arrays of their shape."""
import gzip
import sys


def find_idx(folder, stem):
    """folder/stem, or folder/stem.gz; exits naming both when neither is there."""
    for name in (stem, stem + ".gz"):
        if (folder / name).exists():
            return folder / name
    sys.exit(f"no {stem}[.gz] in {folder}")


def read_idx(path, np):
    """An IDX file of unsigned bytes (raw or gzip) as a numpy array of its shape; `np` is the numpy module, which
    the callers import when they have installed it."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    dimensions = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)
