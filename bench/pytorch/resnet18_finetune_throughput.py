"""The PyTorch side of bench/ML.DeepExtensions.Benchmarks vision-resnet18-throughput.

Creates torchvision's resnet18 (random weights: nothing is downloaded) with a fixed seed, saves its
state_dict (the file the .NET side fine-tunes) and, if asked, its ONNX export; then times the same
fine-tuning in PyTorch: the first convolution summed over the colour channels for grayscale input,
a new 10-class fc, AdamW 1e-3, Fashion-MNIST images resized (bilinear) to --size, one warm-up epoch
then one timed epoch. Prints {"images_per_second": ...}. Needs Debian's python3-torch and
python3-torchvision, run with /usr/bin/python3."""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torchvision
from torch import nn


def read_idx(path, header_ints, rows):
    with gzip.open(path, "rb") as f:
        header = np.frombuffer(f.read(4 * header_ints), dtype=">i4")
        per_item = int(np.prod(header[2:])) if header_ints > 2 else 1
        return np.frombuffer(f.read(per_item * rows), dtype=np.uint8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--data", required=True)
    parser.add_argument("--state-dict", required=True, help="where to write resnet18's state_dict")
    parser.add_argument("--onnx", help="also write torch.onnx.export of resnet18 here")
    parser.add_argument("--channels", type=int, default=1, help="1: conv1 summed for grayscale input; 3: grayscale images copied to 3 channels")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = torchvision.models.resnet18(weights=None)
    torch.save(model.state_dict(), args.state_dict)
    if args.onnx:
        model.eval()
        torch.onnx.export(model, torch.zeros(1, 3, args.size, args.size), args.onnx, opset_version=13,
                          input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                          # Keep the batch norms (eval-mode export folds them into the convolutions), so the
                          # imported network is the one PyTorch fine-tunes.
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)

    if args.channels == 1:
        with torch.no_grad():
            gray = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
            gray.weight.copy_(model.conv1.weight.sum(dim=1, keepdim=True))
        model.conv1 = gray
    model.fc = nn.Linear(512, 10)
    pixels = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"), 4, args.rows)
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"), 2, args.rows)
    images = torch.tensor(pixels, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    images = nn.functional.interpolate(images, size=(args.size, args.size), mode="bilinear", align_corners=False)
    images = ((images - 0.449) / 0.226).repeat(1, args.channels, 1, 1)
    targets = torch.tensor(labels, dtype=torch.int64)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def epoch():
        model.train()
        order = torch.randperm(images.shape[0])
        for start in range(0, images.shape[0], args.batch_size):
            index = order[start:start + args.batch_size]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images[index]), targets[index])
            loss.backward()
            optimizer.step()
            loss.item()

    epoch()
    started = time.perf_counter()
    epoch()
    print(json.dumps({"images_per_second": args.rows / (time.perf_counter() - started)}))


if __name__ == "__main__":
    main()
