"""Training throughput of an LSTM classifier in PyTorch, the peer for bench/ML.DeepExtensions.Benchmarks
(lstm-throughput): Fashion-MNIST images as 28 steps of 28 pixels, each pixel column standardised,
one LSTM layer, its last state, a linear layer to 10 classes. Same batch size, optimizer (AdamW 1e-3)
and thread count as the C# sides; one warm-up epoch, then one timed epoch over tensors built
beforehand. Prints {"images_per_second": ...}. Needs Debian's python3-torch (system python3)."""
import argparse
import json
import os
import time

import torch
from torch import nn

from throughput_common import classification_epoch as epoch, read_idx


class LstmClassifier(nn.Module):
    def __init__(self, mean, std, units):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.lstm = nn.LSTM(28, units, batch_first=True)
        self.head = nn.Linear(units, 10)

    def forward(self, x):
        _, (h, _) = self.lstm((x - self.mean) / self.std)
        return self.head(h[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=6400)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    pixels = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"), 4, args.rows)
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"), 2, args.rows)
    sequences = torch.tensor(pixels, dtype=torch.float32).reshape(-1, 28, 28)
    mean = sequences.mean(dim=(0, 1))
    std = sequences.std(dim=(0, 1)).clamp_min(1e-6)
    targets = torch.tensor(labels, dtype=torch.int64)
    model = LstmClassifier(mean, std, args.units)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    epoch(model, optimizer, sequences, targets, args.batch_size)
    started = time.perf_counter()
    epoch(model, optimizer, sequences, targets, args.batch_size)
    print(json.dumps({"images_per_second": args.rows / (time.perf_counter() - started)}))


if __name__ == "__main__":
    main()
