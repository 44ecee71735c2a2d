using ML.DeepExtensions.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class ActivationParityTests
{
    private static readonly OnnxDim[] BatchBySix = ["N", 6];

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ReLUMatchesTorch() => AssertParity(nn.ReLU());

    [TestMethod]
    public void LeakyReLUUsesModuleNegativeSlope() => AssertParity(nn.LeakyReLU(negative_slope: 0.23));

    [TestMethod]
    public void ELUUsesModuleAlpha() => AssertParity(nn.ELU(alpha: 0.7));

    [TestMethod]
    public void GELUExactMatchesTorchErfForm() => AssertParity(nn.GELU());

    [TestMethod]
    public void GELUTanhApproximationMatchesTorch() => AssertParity(nn.GELU(GELU.Approximate.tanh));

    [TestMethod]
    public void SiLUMatchesTorch() => AssertParity(nn.SiLU());

    [TestMethod]
    public void TanhMatchesTorch() => AssertParity(nn.Tanh());

    [TestMethod]
    public void SigmoidMatchesTorch() => AssertParity(nn.Sigmoid());

    [TestMethod]
    public void SoftmaxOverFeaturesMatchesTorch() => AssertParity(nn.Softmax(dim: 1));

    [TestMethod]
    public void SoftmaxOverBatchDimensionUsesModuleDim() => AssertParity(nn.Softmax(dim: 0));

    [TestMethod]
    public void SoftmaxNegativeDimOnRank3InputMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var module = nn.Softmax(dim: -2);
        ModuleParity.AssertMatchesTorch(module, randn(5, 3, 4) * 3, ["N", 3, 4], TestContext);
    }

    [TestMethod]
    public void LogSoftmaxMatchesTorch() => AssertParity(nn.LogSoftmax(dim: 1));

    [TestMethod]
    public void LogSoftmaxNegativeDimMatchesTorch() => AssertParity(nn.LogSoftmax(dim: -1));

    private void AssertParity(nn.Module<Tensor, Tensor> module)
    {
        using var scope = NewDisposeScope();
        using (module)
        {
            manual_seed(7);
            // Scaled so that negative, small and saturating inputs all occur.
            ModuleParity.AssertMatchesTorch(module, randn(5, 6) * 3, BatchBySix, TestContext);
        }
    }
}
