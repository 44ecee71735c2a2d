"""Shared by the PyTorch peers of bench/ML.DeepExtensions.Benchmarks: reading Fashion-MNIST IDX files
and one classification epoch over tensors built beforehand."""
import gzip

import numpy as np
import torch
from torch import nn


def read_idx(path, header_ints, rows):
    """The first `rows` items of an IDX file (plain or gzip) as a flat uint8 array."""
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        header = np.frombuffer(f.read(4 * header_ints), dtype=">i4")
        per_item = int(np.prod(header[2:])) if header_ints > 2 else 1
        return np.frombuffer(f.read(per_item * rows), dtype=np.uint8)


def classification_epoch(model, optimizer, inputs, labels, batch_size):
    """One epoch in a fresh random order, cross-entropy, reading each batch's loss as the C# sides do."""
    model.train()
    order = torch.randperm(inputs.shape[0])
    for start in range(0, inputs.shape[0], batch_size):
        index = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs[index]), labels[index])
        loss.backward()
        optimizer.step()
        loss.item()
