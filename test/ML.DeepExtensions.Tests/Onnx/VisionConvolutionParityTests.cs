using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class VisionConvolutionParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Conv2dPaddingZeroWithBiasMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(201);
        using var conv = nn.Conv2d(3, 5, kernel_size: 3);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 8, 7), TestContext);
        Assert.AreEqual("Conv,Identity", string.Join(",", ModuleParity.OpTypes(VisionParity.Export(conv, [3, 8, 7]))));
    }

    [TestMethod]
    public void Conv2dPaddingOneMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(202);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, padding: 1);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 6, 6), TestContext);
    }

    [TestMethod]
    public void Conv2dPaddingTwoKernelFiveMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(203);
        using var conv = nn.Conv2d(2, 4, kernel_size: 5, padding: 2);
        VisionParity.AssertMatchesTorch(conv, randn(3, 2, 7, 6), TestContext);
    }

    [TestMethod]
    public void Conv2dStrideTwoOnOddSizeMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(204);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, stride: 2, padding: 1);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 9, 8), TestContext);
    }

    [TestMethod]
    public void Conv2dDilationTwoMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(205);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, padding: 2, dilation: 2);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 8, 8), TestContext);
    }

    [TestMethod]
    public void Conv2dGroupsTwoMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(206);
        using var conv = nn.Conv2d(4, 6, kernel_size: 3, padding: 1, groups: 2);
        VisionParity.AssertMatchesTorch(conv, randn(3, 4, 6, 6), TestContext);
    }

    [TestMethod]
    public void Conv2dDepthwiseMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(207);
        using var conv = nn.Conv2d(4, 4, kernel_size: 3, padding: 1, groups: 4, bias: false);
        VisionParity.AssertMatchesTorch(conv, randn(3, 4, 5, 5), TestContext);
    }

    [TestMethod]
    public void Conv2dWithoutBiasMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(208);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, padding: 1, bias: false);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 6, 6), TestContext);
        var model = ML.DeepExtensions.Onnx.Proto.ModelProto.Parser.ParseFrom(VisionParity.Export(conv, [3, 6, 6]));
        Assert.AreEqual(2, model.Graph.Node[0].Input.Count, "Conv without bias has two inputs");
    }

    [TestMethod]
    public void Conv2dNonSquareKernelStrideAndPaddingMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(209);
        using var conv = nn.Conv2d(3, 4, kernel_size: (3, 5), stride: (2, 1), padding: (1, 2), dilation: (1, 2));
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 9, 10), TestContext);
    }

    [TestMethod]
    public void Conv2dPaddingSameWithEvenKernelPadsMoreAtTheEnd()
    {
        using var scope = NewDisposeScope();
        manual_seed(210);
        using var conv = nn.Conv2d(3, 4, kernel_size: (4, 3), padding: Padding.Same, dilation: (1, 2));
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 7, 6), TestContext);
    }

    [TestMethod]
    public void Conv2dPaddingValidMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(211);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, padding: Padding.Valid);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 6, 7), TestContext);
    }

    [TestMethod]
    public void Conv2dReflectPaddingExportsPadThenConv()
    {
        using var scope = NewDisposeScope();
        manual_seed(212);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, padding: 1, padding_mode: PaddingModes.Reflect);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 6, 5), TestContext);
        Assert.AreEqual("Pad,Conv,Identity", string.Join(",", ModuleParity.OpTypes(VisionParity.Export(conv, [3, 6, 5]))));
    }

    [TestMethod]
    public void Conv2dReplicatePaddingMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(213);
        using var conv = nn.Conv2d(3, 4, kernel_size: (3, 5), padding: (1, 2), padding_mode: PaddingModes.Replicate);
        VisionParity.AssertMatchesTorch(conv, randn(3, 3, 6, 7), TestContext);
    }

    [TestMethod]
    public void Conv2dCircularPaddingThrowsNotSupportedNamingPath()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(("stem", nn.Conv2d(3, 4, kernel_size: 3, padding: 1, padding_mode: PaddingModes.Circular)));

        var error = Assert.ThrowsExactly<NotSupportedException>(() => VisionParity.Export(network, [3, 6, 6]));

        StringAssert.Contains(error.Message, "'stem'");
        StringAssert.Contains(error.Message, "Circular");
    }

    [TestMethod]
    public void Conv2dWithSymbolicSpatialSizeExportsAndRuns()
    {
        using var scope = NewDisposeScope();
        manual_seed(214);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, stride: 2, padding: 1);
        conv.eval();
        var input = randn(2, 3, 9, 7);
        using var noGrad = no_grad();
        var expected = conv.forward(input);

        var graph = new ML.DeepExtensions.Onnx.OnnxGraphBuilder();
        var x = graph.AddInput(ModuleParity.InputName, ML.DeepExtensions.Onnx.OnnxElementType.Float, "N", 3, "H", "W");
        var y = new ML.DeepExtensions.Onnx.OnnxModuleExporter().Export(graph, conv, x);
        Assert.AreEqual("Float[N,4,?,?]", graph.TryGetType(y)!.ToString());
        graph.AddOutput(y, ModuleParity.OutputName, ML.DeepExtensions.Onnx.OnnxElementType.Float, "N", 4, "H2", "W2");
        var (actual, shape) = OnnxRuntimeRunner.RunFloat(graph.ToBytes(), ModuleParity.InputName, input.data<float>().ToArray(), input.shape, ModuleParity.OutputName);

        CollectionAssert.AreEqual(expected.shape, shape);
        var maxDiff = expected.data<float>().ToArray().Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        TestContext.WriteLine($"{TestContext.TestName}: max |torch - onnx| = {maxDiff:E2}");
        Assert.IsTrue(maxDiff <= VisionParity.Tolerance, $"max abs difference {maxDiff:E2}");
    }
}
