"""The tutorial's three MNIST models, the VGG-style, fast and plain networks beyond it, and an IDX (gzip) reader
for the MNIST files.

Attribute names are the contract with the Swift side: they become the state-dict
keys (layer1.weight, conv1.bias, ...) that fixtures and safetensors checkpoints use.
"""

import gzip
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from input_preprocessing import preprocess

DEFAULT_DATA_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist"))


class Baseline(nn.Module):
    """The "mlp": 784 -> 784 (ReLU) -> 10."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(784, 784)
        self.layer2 = nn.Linear(784, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.layer2(F.relu(self.layer1(x)))


class CNN(nn.Module):
    """The "cnn": conv 1->32 k5, ReLU, max-pool 2, 4608 -> 128 (ReLU) -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class LeNet5(nn.Module):
    """LeNet-5 with tanh and average pooling; conv1 is padded so 28x28 inputs work."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.conv3 = nn.Conv2d(16, 120, 5)
        self.pool = nn.AvgPool2d(2)
        self.fc1 = nn.Linear(120, 84)
        self.fc2 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.tanh(self.conv1(x)))
        x = self.pool(torch.tanh(self.conv2(x)))
        x = torch.tanh(self.conv3(x))
        x = torch.flatten(x, 1)
        return self.fc2(torch.tanh(self.fc1(x)))


class VGGStyleCNN(nn.Module):
    """The "vgg" (not the tutorial's): two blocks of two 3x3 convolutions without bias, each with batch norm and
    ReLU, then max-pool 2; linear 1024 -> 256 without bias, batch norm, ReLU; linear 256 -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 32, 3, bias=False), nn.BatchNorm2d(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 32, 3, bias=False), nn.BatchNorm2d(32)
        self.conv3, self.bn3 = nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64)
        self.conv4, self.bn4 = nn.Conv2d(64, 64, 3, bias=False), nn.BatchNorm2d(64)
        self.fc1, self.bn5 = nn.Linear(64 * 4 * 4, 256, bias=False), nn.BatchNorm1d(256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.max_pool2d(F.relu(self.bn4(self.conv4(x))), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.bn5(self.fc1(x))))


class FastCNN(nn.Module):
    """The "fast" (not the tutorial's; `--recipe speed`): conv 1->12 k5 without bias, max-pool 2, batch norm, ReLU;
    conv 12->32 k3 without bias, max-pool 2, batch norm, ReLU; linear 800 -> 64 (ReLU) -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 12, 5, bias=False), nn.BatchNorm2d(12)
        self.conv2, self.bn2 = nn.Conv2d(12, 32, 3, bias=False), nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 5 * 5, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(F.max_pool2d(self.conv1(x), 2)))
        x = F.relu(self.bn2(F.max_pool2d(self.conv2(x), 2)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class PlainCNN(nn.Module):
    """The "plain" (not the tutorial's): five unpadded 5x5 convolutions without bias or pooling (1->16->32->48->64->80
    channels, 28x28 -> 8x8), each with batch norm and ReLU; linear 5120 -> 10 without bias, then batch norm on the
    logits. An et al. 2020's M5 (ansh941/MnistSimpleCNN) at half its width, flattened in NCHW order (no permute)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 5, bias=False), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 32, 5, bias=False), nn.BatchNorm2d(32)
        self.conv3, self.bn3 = nn.Conv2d(32, 48, 5, bias=False), nn.BatchNorm2d(48)
        self.conv4, self.bn4 = nn.Conv2d(48, 64, 5, bias=False), nn.BatchNorm2d(64)
        self.conv5, self.bn5 = nn.Conv2d(64, 80, 5, bias=False), nn.BatchNorm2d(80)
        self.fc, self.bn6 = nn.Linear(80 * 8 * 8, 10, bias=False), nn.BatchNorm1d(10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.relu(self.bn4(self.conv4(x)))
        x = F.relu(self.bn5(self.conv5(x)))
        x = torch.flatten(x, 1)
        return self.bn6(self.fc(x))


MODELS = {"mlp": Baseline, "cnn": CNN, "lenet5": LeNet5, "vgg": VGGStyleCNN, "fast": FastCNN, "plain": PlainCNN}


def read_idx(path):
    """Reads an IDX file (gzip-compressed when the name ends in .gz) into a uint8 numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {shape}, got {array.size} bytes")
    return array.reshape(shape)


def load_mnist_raw(split, data_dir=DEFAULT_DATA_DIR):
    """Returns (images uint8 [N,28,28], labels uint8 [N]) for split "train" or "test"."""
    prefix = {"train": "train", "test": "t10k"}[split]
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return images, labels


def load_mnist(split, data_dir=DEFAULT_DATA_DIR, deskewed=False, ink_width=None):
    """Returns (images float32 [N,1,28,28] scaled to [0,1] like ToTensor, labels int64 [N]), the images
    deskewed and width-normalised first as asked (`mnist train --deskew --ink-width N`,
    input_preprocessing.py)."""
    images, labels = load_mnist_raw(split, data_dir)
    images = preprocess(images, deskewed=deskewed, ink_width=ink_width)
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y
