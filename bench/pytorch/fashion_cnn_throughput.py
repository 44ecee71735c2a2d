"""Training throughput of the vision benchmark's architectures in PyTorch, the peer for
bench/ML.DeepExtensions.Benchmarks (vision-training-throughput). Same layers, batch size,
optimizer (AdamW 1e-3) and thread count; one warm-up epoch, then one timed epoch over tensors
built beforehand. Prints {"images_per_second": ...}. Needs Debian's python3-torch (system python3)."""
import argparse
import json
import os
import time

import torch
from torch import nn

from throughput_common import classification_epoch as epoch, read_idx


def conv_block(cin, cout, pool=True):
    layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
    return layers + ([nn.MaxPool2d(2)] if pool else [])


def network(name):
    if name == "lenet":
        body = [nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
    elif name == "vgg":
        body = (conv_block(1, 32, False) + conv_block(32, 32) + [nn.Dropout(0.1)] + conv_block(32, 64, False) + conv_block(64, 64)
                + [nn.Dropout(0.2), nn.Flatten(), nn.Linear(3136, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.4), nn.Linear(256, 10)])
    elif name == "vgg3":
        body = (conv_block(1, 32) + conv_block(32, 64) + conv_block(64, 128)
                + [nn.Flatten(), nn.Linear(1152, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.4), nn.Linear(256, 10)])
    else:
        raise SystemExit(f"unknown architecture {name}")
    return nn.Sequential(*body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--architecture", default="vgg3")
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    pixels = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"), 4, args.rows)
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"), 2, args.rows)
    images = (torch.tensor(pixels, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0 - 0.286) / 0.353
    targets = torch.tensor(labels, dtype=torch.int64)
    model = network(args.architecture)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    epoch(model, optimizer, images, targets, args.batch_size)
    started = time.perf_counter()
    epoch(model, optimizer, images, targets, args.batch_size)
    print(json.dumps({"images_per_second": args.rows / (time.perf_counter() - started)}))


if __name__ == "__main__":
    main()
