using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class LinearParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void LinearRank2InputWithBiasExportsGemmAndMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var linear = nn.Linear(6, 4);
        ModuleParity.AssertMatchesTorch(linear, randn(5, 6), ["N", 6], TestContext);
        Assert.AreEqual("Gemm,Identity", string.Join(",", ModuleParity.OpTypes(ModuleParity.Export(linear, ["N", 6], 2))));
    }

    [TestMethod]
    public void LinearRank2InputWithoutBiasExportsGemmAndMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var linear = nn.Linear(6, 4, hasBias: false);
        ModuleParity.AssertMatchesTorch(linear, randn(5, 6), ["N", 6], TestContext);
        Assert.AreEqual("Gemm,Identity", string.Join(",", ModuleParity.OpTypes(ModuleParity.Export(linear, ["N", 6], 2))));
    }

    [TestMethod]
    public void LinearRank3InputWithBiasExportsMatMulAddAndMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var linear = nn.Linear(6, 4);
        ModuleParity.AssertMatchesTorch(linear, randn(5, 3, 6), ["N", 3, 6], TestContext);
        Assert.AreEqual("MatMul,Add,Identity", string.Join(",", ModuleParity.OpTypes(ModuleParity.Export(linear, ["N", 3, 6], 3))));
    }

    [TestMethod]
    public void LinearRank3InputWithoutBiasExportsMatMulAndMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var linear = nn.Linear(6, 4, hasBias: false);
        ModuleParity.AssertMatchesTorch(linear, randn(5, 3, 6), ["N", 3, 6], TestContext);
        Assert.AreEqual("MatMul,Identity", string.Join(",", ModuleParity.OpTypes(ModuleParity.Export(linear, ["N", 3, 6], 3))));
    }
}
