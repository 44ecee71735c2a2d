using ML.DeepExtensions.Networks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class VisionNetworkParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void SmallResidualCnnOnPixelsMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(401);
        using var network = nn.Sequential(
            ("normalize", new ImageNormalization(1f / 255, [0.5f, 0.45f, 0.4f], [0.25f, 0.2f, 0.3f])),
            ("conv", nn.Conv2d(3, 8, kernel_size: 3, padding: 1)),
            ("bn", nn.BatchNorm2d(8)),
            ("relu", nn.ReLU()),
            ("pool", nn.MaxPool2d(2)),
            ("block", new ResidualBlock(8, 16, stride: 2)),
            ("gap", new GlobalAveragePooling()),
            ("head", nn.Linear(16, 5)));
        VisionParity.RandomizeBatchNorms(network);
        TrainOnPixels(network, 3, 16, 16);

        VisionParity.AssertMatchesTorch(network, Pixels(3, 3, 16, 16), TestContext);
        var ops = ModuleParity.OpTypes(VisionParity.Export(network, [3, 16, 16]));
        Assert.AreEqual("Gemm", ops[^2], $"Linear after GlobalAveragePooling sees a rank-2 input: {string.Join(",", ops)}");
    }

    [TestMethod]
    public void LeNetLikeCnnMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(402);
        using var network = nn.Sequential(
            ("conv1", nn.Conv2d(1, 6, kernel_size: 5, padding: 2)),
            ("pool1", nn.AvgPool2d(2)),
            ("conv2", nn.Conv2d(6, 16, kernel_size: 5)),
            ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(16 * 5 * 5, 32)),
            ("relu", nn.ReLU()),
            ("fc2", nn.Linear(32, 10)));

        VisionParity.AssertMatchesTorch(network, randn(3, 1, 28, 28), TestContext);
        var ops = ModuleParity.OpTypes(VisionParity.Export(network, [1, 28, 28]));
        Assert.AreEqual("Conv,AveragePool,Conv,MaxPool,Flatten,Gemm,Relu,Gemm,Identity", string.Join(",", ops));
    }

    [TestMethod]
    public void ResidualStageOfTwoBlocksMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(403);
        using var network = nn.Sequential(
            ("block1", new ResidualBlock(4, 8, stride: 2)),
            ("block2", new ResidualBlock(8, 8)),
            ("pool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten()),
            ("head", nn.Linear(8, 3)));
        VisionParity.RandomizeBatchNorms(network);
        NormalizationParityTests.TrainRunningStatistics(network, 6, 4, 8, 8);

        VisionParity.AssertMatchesTorch(network, randn(3, 4, 8, 8), TestContext);
    }

    // A few train-mode forwards on 0..255 pixels, so every batch norm has non-trivial running statistics.
    private static void TrainOnPixels(nn.Module<Tensor, Tensor> network, long channels, long height, long width)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.train();
        for (var step = 0; step < 4; step++)
        {
            network.forward(Pixels(6, channels, height, width));
        }

        network.eval();
    }

    private static Tensor Pixels(params long[] shape) => randint(0, 256, shape).to(float32);
}
