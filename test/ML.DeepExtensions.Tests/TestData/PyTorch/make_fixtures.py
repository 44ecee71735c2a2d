"""Makes the small PyTorch fixtures of the transfer-learning tests (committed beside this script).

Run with Debian's interpreter and packages (python3-torch 1.13, python3-torchvision 0.14):

    /usr/bin/python3 test/ML.DeepExtensions.Tests/TestData/PyTorch/make_fixtures.py

Writes, next to this file:
  tiny_resnet.pt            torch.save(model.state_dict()) of a narrow torchvision-style ResNet
                            (torchvision's own BasicBlock; stages of 4, 8, 16, 32 channels, one block
                            each, 5 classes, 3x32x32 inputs) with trained-looking batch-norm statistics
  tiny_resnet.safetensors   the same tensors in the safetensors format (written by hand: no package needed)
  tiny_resnet_expected.json the model's eval-mode logits for two inputs given by a formula
                            (pixel i of the flattened [2, 3, 32, 32] batch is ((i * 7919) % 1000) / 1000)
  resnet18_state_dict.txt   name and shape of every entry of torchvision.models.resnet18()'s state_dict
                            (architecture only: no weights are downloaded)
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTHS = [4, 8, 16, 32]
CLASSES = 5


class TinyResNet(nn.Module):
    """torchvision's ResNet layout with narrow stages of one BasicBlock each."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, WIDTHS[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(WIDTHS[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = WIDTHS[0]
        for i, width in enumerate(WIDTHS):
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != width:
                downsample = nn.Sequential(nn.Conv2d(inplanes, width, 1, stride=stride, bias=False), nn.BatchNorm2d(width))
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(inplanes, width, stride, downsample)))
            inplanes = width
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, CLASSES)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def write_safetensors(path, state):
    header, blobs, offset = {}, [], 0
    for name, tensor in state.items():
        data = tensor.contiguous().numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[tensor.dtype]
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def main():
    torch.manual_seed(7)
    model = TinyResNet()
    # A few forward passes in training mode give the batch norms non-trivial running statistics.
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.rand(8, 3, 32, 32) * 2 + 0.5)
    model.eval()
    state = model.state_dict()
    torch.save(state, os.path.join(HERE, "tiny_resnet.pt"))
    write_safetensors(os.path.join(HERE, "tiny_resnet.safetensors"), state)

    inputs = torch.tensor([((i * 7919) % 1000) / 1000 for i in range(2 * 3 * 32 * 32)], dtype=torch.float32).reshape(2, 3, 32, 32)
    with torch.no_grad():
        logits = model(inputs)
    with open(os.path.join(HERE, "tiny_resnet_expected.json"), "w") as f:
        json.dump({
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "inputShape": [3, 32, 32],
            "logits": logits.flatten().tolist(),
        }, f)

    resnet18 = torchvision.models.resnet18(weights=None)
    with open(os.path.join(HERE, "resnet18_state_dict.txt"), "w") as f:
        for name, tensor in resnet18.state_dict().items():
            f.write(f"{name} {'x'.join(str(d) for d in tensor.shape)}\n")


if __name__ == "__main__":
    main()
