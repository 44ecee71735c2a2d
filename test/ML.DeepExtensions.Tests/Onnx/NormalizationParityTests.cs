using ML.DeepExtensions.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class NormalizationParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void BatchNorm1dAffineOnBatchByFeaturesUsesRunningStatistics()
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        using var norm = nn.BatchNorm1d(6);
        RandomizeAffine(norm);
        TrainRunningStatistics(norm, 8, 6);
        ModuleParity.AssertMatchesTorch(norm, randn(5, 6), ["N", 6], TestContext);
    }

    [TestMethod]
    public void BatchNorm1dNonAffineUsesOnesAndZeros()
    {
        using var scope = NewDisposeScope();
        manual_seed(22);
        using var norm = nn.BatchNorm1d(6, eps: 1e-3, affine: false);
        TrainRunningStatistics(norm, 8, 6);
        ModuleParity.AssertMatchesTorch(norm, randn(5, 6), ["N", 6], TestContext);
    }

    [TestMethod]
    public void BatchNorm1dOnBatchByChannelsByLengthMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(23);
        using var norm = nn.BatchNorm1d(4);
        RandomizeAffine(norm);
        TrainRunningStatistics(norm, 8, 4, 7);
        ModuleParity.AssertMatchesTorch(norm, randn(5, 4, 7), ["N", 4, 7], TestContext);
    }

    [TestMethod]
    public void StandardizationSubtractsMeanAndScalesByInverseStd()
    {
        using var scope = NewDisposeScope();
        manual_seed(24);
        using var standardization = new Standardization([1f, -2f, 0.5f, 10f], [2f, 0.25f, 1f, 0f]);
        ModuleParity.AssertMatchesTorch(standardization, randn(5, 4) * 4, ["N", 4], TestContext);
    }

    /// <summary>A few train-mode forwards on shifted, scaled data, so the running statistics are far from 0 and 1.</summary>
    internal static void TrainRunningStatistics(nn.Module<Tensor, Tensor> module, params long[] batchShape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        module.train();
        for (var step = 0; step < 4; step++)
        {
            module.forward(randn(batchShape) * 2.5 + 1.5);
        }

        module.eval();
    }

    // Fresh modules have weight 1 and bias 0, which would hide a swapped scale or bias.
    private static void RandomizeAffine(BatchNorm norm)
    {
        using var noGrad = no_grad();
        norm.weight!.uniform_(0.5, 1.5);
        norm.bias!.uniform_(-0.5, 0.5);
    }
}
