using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class ShapeParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void DropoutIsIdentityAtInference()
    {
        using var scope = NewDisposeScope();
        manual_seed(31);
        using var dropout = nn.Dropout(0.5);
        ModuleParity.AssertMatchesTorch(dropout, randn(5, 6), ["N", 6], TestContext);
    }

    [TestMethod]
    public void AlphaDropoutIsIdentityAtInference()
    {
        using var scope = NewDisposeScope();
        manual_seed(32);
        using var dropout = nn.AlphaDropout(0.5);
        ModuleParity.AssertMatchesTorch(dropout, randn(5, 6), ["N", 6], TestContext);
    }

    [TestMethod]
    public void IdentityMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(33);
        using var identity = nn.Identity();
        ModuleParity.AssertMatchesTorch(identity, randn(5, 6), ["N", 6], TestContext);
    }

    [TestMethod]
    public void FlattenDefaultExportsOnnxFlatten()
    {
        using var scope = NewDisposeScope();
        manual_seed(34);
        using var flatten = nn.Flatten();
        ModuleParity.AssertMatchesTorch(flatten, randn(5, 3, 4), ["N", 3, 4], TestContext);
        CollectionAssert.Contains(ModuleParity.OpTypes(ModuleParity.Export(flatten, ["N", 3, 4], 2)), "Flatten");
    }

    [TestMethod]
    public void FlattenFromDimensionZeroReshapesToOneDimension()
    {
        using var scope = NewDisposeScope();
        manual_seed(35);
        using var flatten = nn.Flatten(start_dim: 0);
        ModuleParity.AssertMatchesTorch(flatten, randn(5, 3, 4), ["N", 3, 4], TestContext);
    }

    [TestMethod]
    public void FlattenMiddleDimensionsKeepsLeadingAndTrailing()
    {
        using var scope = NewDisposeScope();
        manual_seed(36);
        using var flatten = nn.Flatten(start_dim: 1, end_dim: 2);
        ModuleParity.AssertMatchesTorch(flatten, randn(5, 2, 3, 4), ["N", 2, 3, 4], TestContext);
    }

    [TestMethod]
    public void FlattenNegativeDimensionsMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(37);
        using var flatten = nn.Flatten(start_dim: -3, end_dim: -2);
        ModuleParity.AssertMatchesTorch(flatten, randn(5, 2, 3, 4), ["N", 2, 3, 4], TestContext);
    }

    [TestMethod]
    public void FlattenSymbolicDimsTakesReshapeTargetFromRuntimeShape()
    {
        using var scope = NewDisposeScope();
        manual_seed(38);
        using var flatten = nn.Flatten(start_dim: 1, end_dim: -2);
        // Symbolic dims everywhere: the reshape target has to come from the Shape operator.
        ModuleParity.AssertMatchesTorch(flatten, randn(5, 2, 3, 4), ["N", "A", "B", "C"], TestContext);
    }
}
