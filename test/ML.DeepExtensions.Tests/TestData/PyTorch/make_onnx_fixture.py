"""Makes small_cnn.onnx: a small CNN exported by torch.onnx.export, for the ONNX import tests.

    /usr/bin/python3 test/ML.DeepExtensions.Tests/TestData/PyTorch/make_onnx_fixture.py

The network uses the operators the importer supports: Conv, BatchNormalization, Relu, MaxPool,
Concat, Add, GlobalAveragePool, Flatten, Gemm and Sigmoid; input [N, 1, 16, 16], 5 outputs.
"""
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.left = nn.Conv2d(4, 8, 3, padding=1)
        self.right = nn.Conv2d(4, 8, 1)
        self.skip = nn.Conv2d(4, 16, 1, bias=False)
        self.hidden = nn.Linear(16, 12)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        y = torch.relu(torch.cat([self.left(x), self.right(x)], dim=1)) + self.skip(x)
        y = torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1)
        return self.fc(torch.sigmoid(self.hidden(y)))


def main():
    torch.manual_seed(3)
    model = SmallCnn()
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(8, 1, 16, 16) * 3)
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 16, 16), os.path.join(HERE, "small_cnn.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


if __name__ == "__main__":
    main()
