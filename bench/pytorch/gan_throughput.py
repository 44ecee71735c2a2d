#!/usr/bin/python3
"""The conditional GAN of `gan-throughput` in PyTorch (Debian's 1.13, run by /usr/bin/python3).

The same two networks as GanArchitectures.DcganGenerator / DcganDiscriminator (label embedding,
dense, reshape, batch norm, two 4x4 stride-2 transposed convolutions, tanh; two spectrally
normalised 4x4 stride-2 convolutions with LeakyReLU(0.2) and a spectrally normalised dense layer
with 1 + classes outputs), the same step (non-saturating loss plus the auxiliary class loss, Adam
2e-4 beta (0.5, 0.999) for both, the generator's moving average), batch 64, on the first N
Fashion-MNIST training images held in memory.

Driven line by line so the benchmark can interleave it with its own sides: it prints "ready", then
for each line "epoch" on stdin trains one epoch and prints its seconds; it ends at end of input.
Standalone: --epochs N trains N epochs and prints images/s per epoch.
"""
import argparse
import gzip
import struct
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm


class LabelEmbedding(nn.Module):
    """[Z + 1] whose last value is the class index -> [Z + dimensions]."""

    def __init__(self, classes, dimensions):
        super().__init__()
        self.table = nn.Embedding(classes, dimensions)

    def forward(self, x):
        return torch.cat([x[:, :-1], self.table(x[:, -1].long())], 1)


def generator(noise, classes, filters, embedding=16):
    return nn.Sequential(
        LabelEmbedding(classes, embedding),
        nn.Linear(noise + embedding, 2 * filters * 7 * 7),
        nn.Unflatten(1, (2 * filters, 7, 7)),
        nn.BatchNorm2d(2 * filters), nn.ReLU(),
        nn.ConvTranspose2d(2 * filters, filters, 4, 2, 1), nn.BatchNorm2d(filters), nn.ReLU(),
        nn.ConvTranspose2d(filters, 1, 4, 2, 1), nn.Tanh())


def discriminator(classes, filters):
    return nn.Sequential(
        spectral_norm(nn.Conv2d(1, filters, 4, 2, 1)), nn.LeakyReLU(0.2),
        spectral_norm(nn.Conv2d(filters, 2 * filters, 4, 2, 1)), nn.LeakyReLU(0.2),
        nn.Flatten(), spectral_norm(nn.Linear(2 * filters * 7 * 7, 1 + classes)))


def read_idx(path, count, header):
    with gzip.open(path, "rb") as stream:
        stream.read(header)
        item = 784 if header == 16 else 1
        return np.frombuffer(stream.read(count * item), dtype=np.uint8).copy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz")
    parser.add_argument("--rows", type=int, default=6400)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=0, help="standalone: train this many epochs; 0: read 'epoch' lines from stdin")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    noise_size, classes, batch = 64, 10, 64
    pixels = read_idx(f"{args.data}/train-images-idx3-ubyte.gz", args.rows, 16)
    images = torch.from_numpy(pixels).float().reshape(args.rows, 1, 28, 28) * (2.0 / 255) - 1
    labels = torch.from_numpy(read_idx(f"{args.data}/train-labels-idx1-ubyte.gz", args.rows, 8)).long()

    g = generator(noise_size, classes, args.base_filters)
    d = discriminator(classes, args.base_filters)
    average = generator(noise_size, classes, args.base_filters)
    average.load_state_dict(g.state_dict())
    for p in average.parameters():
        p.requires_grad_(False)
    d_opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    step = 0

    def gen_input(n):
        fake_labels = torch.randint(classes, (n,))
        return torch.cat([torch.randn(n, noise_size), fake_labels.float().unsqueeze(1)], 1), fake_labels

    def epoch():
        nonlocal step
        g.train()
        d.train()
        start = time.perf_counter()
        order = torch.randperm(args.rows)
        for first in range(0, args.rows - batch + 1, batch):
            index = order[first:first + batch]
            real, label = images[index], labels[index]
            with torch.no_grad():
                fake = g(gen_input(batch)[0])
            real_out, fake_out = d(real), d(fake)
            d_loss = F.softplus(-real_out[:, 0]).mean() + F.softplus(fake_out[:, 0]).mean() + F.cross_entropy(real_out[:, 1:], label)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()

            z, fake_labels = gen_input(batch)
            out = d(g(z))
            g_loss = F.softplus(-out[:, 0]).mean() + F.cross_entropy(out[:, 1:], fake_labels)
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            decay = min(0.999, (1.0 + step) / (10.0 + step))
            with torch.no_grad():
                for to, source in zip(average.parameters(), g.parameters()):
                    to.mul_(decay).add_(source, alpha=1 - decay)
                for to, source in zip(average.buffers(), g.buffers()):
                    to.copy_(source)
            step += 1
        return time.perf_counter() - start

    images_per_epoch = args.rows // batch * batch
    if args.epochs > 0:
        for i in range(args.epochs):
            seconds = epoch()
            print(f"epoch {i + 1}: {images_per_epoch / seconds:.1f} images/s", flush=True)
        return

    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "epoch":
            print(f"{epoch():.6f}", flush=True)


if __name__ == "__main__":
    main()
