using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class VisionPoolingParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MaxPool2dKernelTwoDefaultStrideMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(301);
        using var pool = nn.MaxPool2d(2);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 8, 7), TestContext);
    }

    [TestMethod]
    public void MaxPool2dKernelThreeStrideTwoPaddingOneMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(302);
        using var pool = nn.MaxPool2d(3, stride: 2, padding: 1);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 9, 8), TestContext);
    }

    [TestMethod]
    public void MaxPool2dDilationTwoMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(303);
        using var pool = nn.MaxPool2d(3, stride: 1, padding: 1, dilation: 2);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 7, 7), TestContext);
    }

    [TestMethod]
    public void MaxPool2dNonSquareMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(304);
        using var pool = nn.MaxPool2d((2, 3), stride: (2, 1), padding: (1, 1));
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 7, 6), TestContext);
    }

    [TestMethod]
    public void MaxPool2dCeilModeKeepsPartialLastWindow()
    {
        using var scope = NewDisposeScope();
        manual_seed(305);
        using var pool = nn.MaxPool2d(3, stride: 2, ceil_mode: true);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 8, 10), TestContext);
    }

    [TestMethod]
    public void MaxPool2dCeilModeDropsWindowStartingInPadding()
    {
        using var scope = NewDisposeScope();
        manual_seed(306);
        // Height 5, padding 1, kernel 2, stride 2: rounding up gives 4 windows, but the 4th would start in the end padding.
        using var pool = nn.MaxPool2d(2, stride: 2, padding: 1, ceil_mode: true);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 5, 6), TestContext);
    }

    [TestMethod]
    public void AvgPool2dKernelTwoMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(311);
        using var pool = nn.AvgPool2d(2);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 8, 7), TestContext);
    }

    [TestMethod]
    public void AvgPool2dPaddingCountsPadByDefault()
    {
        using var scope = NewDisposeScope();
        manual_seed(312);
        using var pool = nn.AvgPool2d(3, stride: 2, padding: 1);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 7, 8), TestContext);
    }

    [TestMethod]
    public void AvgPool2dPaddingExcludedFromCount()
    {
        using var scope = NewDisposeScope();
        manual_seed(313);
        using var pool = nn.AvgPool2d(3, stride: 2, padding: 1, count_include_pad: false);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 7, 8), TestContext);
    }

    [TestMethod]
    public void AvgPool2dCeilModeMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(314);
        using var pool = nn.AvgPool2d(3, stride: 2, ceil_mode: true);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 8, 10), TestContext);
    }

    [TestMethod]
    public void AvgPool2dCeilModeWithPaddingCountingPadMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(315);
        using var pool = nn.AvgPool2d(3, stride: 2, padding: 1, ceil_mode: true);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 8, 6), TestContext);
    }

    [TestMethod]
    public void AvgPool2dCeilModeWithPaddingNotCountingPadMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(316);
        using var pool = nn.AvgPool2d(3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false);
        VisionParity.AssertMatchesTorch(pool, randn(3, 2, 8, 6), TestContext);
    }

    [TestMethod]
    public void AvgPool2dDivisorOverrideThrowsNotSupported()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(("pool", nn.AvgPool2d(2, divisor_override: 3)));

        var error = Assert.ThrowsExactly<NotSupportedException>(() => VisionParity.Export(network, [2, 4, 4]));

        StringAssert.Contains(error.Message, "'pool'");
        StringAssert.Contains(error.Message, "divisor_override");
    }

    [TestMethod]
    public void AdaptiveAvgPool2dToOneExportsGlobalAveragePool()
    {
        using var scope = NewDisposeScope();
        manual_seed(321);
        using var pool = nn.AdaptiveAvgPool2d(1);
        VisionParity.AssertMatchesTorch(pool, randn(3, 4, 5, 7), TestContext);
        Assert.AreEqual("GlobalAveragePool,Identity", string.Join(",", ModuleParity.OpTypes(VisionParity.Export(pool, [4, 5, 7]))));
    }

    [TestMethod]
    public void AdaptiveAvgPool2dToOneByOneTupleMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(322);
        using var pool = nn.AdaptiveAvgPool2d((1, 1));
        VisionParity.AssertMatchesTorch(pool, randn(3, 4, 6, 6), TestContext);
    }

    [TestMethod]
    public void AdaptiveAvgPool2dOtherSizeThrowsNotSupportedNamingPath()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(("head", nn.Sequential(("pool", nn.AdaptiveAvgPool2d(2)))));

        var error = Assert.ThrowsExactly<NotSupportedException>(() => VisionParity.Export(network, [4, 6, 6]));

        StringAssert.Contains(error.Message, "'head.pool'");
        StringAssert.Contains(error.Message, "output size");
    }
}
