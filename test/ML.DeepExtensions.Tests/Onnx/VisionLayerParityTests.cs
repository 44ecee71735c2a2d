using ML.DeepExtensions.Networks.Vision;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class VisionLayerParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void BatchNorm2dAffineUsesRunningStatistics()
    {
        using var scope = NewDisposeScope();
        manual_seed(101);
        using var norm = nn.BatchNorm2d(4);
        VisionParity.RandomizeAffine(norm);
        NormalizationParityTests.TrainRunningStatistics(norm, 8, 4, 5, 5);
        VisionParity.AssertMatchesTorch(norm, randn(3, 4, 5, 5), TestContext);
    }

    [TestMethod]
    public void BatchNorm2dNonAffineUsesOnesAndZeros()
    {
        using var scope = NewDisposeScope();
        manual_seed(102);
        using var norm = nn.BatchNorm2d(4, eps: 1e-3, affine: false);
        NormalizationParityTests.TrainRunningStatistics(norm, 8, 4, 5, 5);
        VisionParity.AssertMatchesTorch(norm, randn(3, 4, 5, 5), TestContext);
    }

    [TestMethod]
    public void BatchNorm2dWithoutRunningStatisticsThrowsNotSupportedNamingPath()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(("features", nn.Sequential(("bn", nn.BatchNorm2d(4, track_running_stats: false)))));

        var error = Assert.ThrowsExactly<NotSupportedException>(() => VisionParity.Export(network, [4, 5, 5]));

        StringAssert.Contains(error.Message, "'features.bn'");
        StringAssert.Contains(error.Message, "running statistics");
    }

    [TestMethod]
    public void Dropout2dIsIdentityAtInference()
    {
        using var scope = NewDisposeScope();
        manual_seed(103);
        using var dropout = nn.Dropout2d(0.5);
        VisionParity.AssertMatchesTorch(dropout, randn(3, 4, 5, 5), TestContext);
        Assert.AreEqual("Identity", string.Join(",", ModuleParity.OpTypes(VisionParity.Export(dropout, [4, 5, 5]))));
    }

    [TestMethod]
    public void ReLU6ClipsToZeroAndSix()
    {
        using var scope = NewDisposeScope();
        manual_seed(104);
        using var relu6 = nn.ReLU6();
        VisionParity.AssertMatchesTorch(relu6, randn(3, 2, 4, 4) * 5, TestContext);
    }

    [TestMethod]
    public void HardswishMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(105);
        using var hardswish = nn.Hardswish();
        VisionParity.AssertMatchesTorch(hardswish, randn(3, 2, 4, 4) * 4, TestContext);
    }

    [TestMethod]
    public void ResidualBlockWithIdentityShortcutMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(106);
        using var block = new ResidualBlock(4, 4);
        VisionParity.RandomizeBatchNorms(block);
        NormalizationParityTests.TrainRunningStatistics(block, 6, 4, 6, 6);
        VisionParity.AssertMatchesTorch(block, randn(3, 4, 6, 6), TestContext);
        var ops = ModuleParity.OpTypes(VisionParity.Export(block, [4, 6, 6]));
        Assert.AreEqual(2, ops.Count(op => op == "Conv"), string.Join(",", ops));
    }

    [TestMethod]
    public void ResidualBlockWithStrideTwoProjectionShortcutMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(107);
        using var block = new ResidualBlock(3, 6, stride: 2);
        VisionParity.RandomizeBatchNorms(block);
        NormalizationParityTests.TrainRunningStatistics(block, 6, 3, 7, 7);
        VisionParity.AssertMatchesTorch(block, randn(3, 3, 7, 7), TestContext);
        var ops = ModuleParity.OpTypes(VisionParity.Export(block, [3, 7, 7]));
        Assert.AreEqual(3, ops.Count(op => op == "Conv"), string.Join(",", ops));
    }

    [TestMethod]
    public void ResidualBlockWithChannelChangeOnlyProjectsShortcut()
    {
        using var scope = NewDisposeScope();
        manual_seed(108);
        using var block = new ResidualBlock(2, 5);
        VisionParity.RandomizeBatchNorms(block);
        NormalizationParityTests.TrainRunningStatistics(block, 6, 2, 5, 5);
        VisionParity.AssertMatchesTorch(block, randn(3, 2, 5, 5), TestContext);
    }

    [TestMethod]
    public void ResidualBlockValueNamesFollowTheStateDictionary()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(("stage", new ResidualBlock(3, 6, stride: 2)));
        var model = ML.DeepExtensions.Onnx.Proto.ModelProto.Parser.ParseFrom(VisionParity.Export(network, [3, 8, 8]));
        var initializers = model.Graph.Initializer.Select(i => i.Name).ToList();
        CollectionAssert.Contains(initializers, "stage.conv1.weight");
        CollectionAssert.Contains(initializers, "stage.bn2.running_var");
        CollectionAssert.Contains(initializers, "stage.shortcut.conv.weight");
        CollectionAssert.Contains(initializers, "stage.shortcut.bn.running_mean");
    }

    [TestMethod]
    public void GlobalAveragePoolingMatchesTorchAndIsRankTwo()
    {
        using var scope = NewDisposeScope();
        manual_seed(109);
        using var pooling = new GlobalAveragePooling();
        VisionParity.AssertMatchesTorch(pooling, randn(3, 5, 4, 6), TestContext);
    }

    [TestMethod]
    public void ImageNormalizationThreeChannelsOnPixelValues()
    {
        using var scope = NewDisposeScope();
        manual_seed(110);
        using var normalize = new ImageNormalization(1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
        VisionParity.AssertMatchesTorch(normalize, randint(0, 256, [3, 3, 5, 4]).to(float32), TestContext);
    }

    [TestMethod]
    public void ImageNormalizationOneChannelOnPixelValues()
    {
        using var scope = NewDisposeScope();
        manual_seed(111);
        using var normalize = new ImageNormalization(1f / 255, [0.2860f], [0.3530f]);
        VisionParity.AssertMatchesTorch(normalize, randint(0, 256, [3, 1, 6, 6]).to(float32), TestContext);
    }
}

/// <summary>
/// Parity of a vision layer with ONNX Runtime: exports with input dims <c>["N", C, H, W]</c>, checks
/// the shape the exporter recorded for the output, runs both sides and compares within 1e-4.
/// </summary>
internal static class VisionParity
{
    public const double Tolerance = 1e-4;

    /// <summary>Exports <paramref name="module"/> for an input <c>["N", ..sampleDims]</c>; the output is declared with unknown dims of the tracked rank.</summary>
    public static byte[] Export(nn.Module module, long[] sampleDims) => Export(module, sampleDims, out _);

    public static byte[] Export(nn.Module module, long[] sampleDims, out OnnxTensorType? trackedOutputType)
    {
        var graph = new OnnxGraphBuilder();
        var input = graph.AddInput(ModuleParity.InputName, OnnxElementType.Float, ["N", .. sampleDims.Select(d => (OnnxDim)d)]);
        var output = new OnnxModuleExporter().Export(graph, module, input);
        trackedOutputType = graph.TryGetType(output);
        var rank = trackedOutputType?.Rank ?? throw new AssertFailedException($"The exporter recorded no rank for the output '{output}'.");
        graph.AddOutput(output, ModuleParity.OutputName, OnnxElementType.Float, [.. Enumerable.Repeat(OnnxDim.Unknown, rank)]);
        return graph.ToBytes();
    }

    /// <summary>
    /// Eval mode, both sides on <paramref name="input"/> (batch dimension symbolic in the graph):
    /// equal shapes, the recorded output shape agrees with torch's, max abs difference within
    /// <see cref="Tolerance"/>. Logs and returns the difference.
    /// </summary>
    public static double AssertMatchesTorch(nn.Module<Tensor, Tensor> module, Tensor input, TestContext testContext)
    {
        using var scope = torch.NewDisposeScope();
        module.eval();
        Tensor expected;
        using (torch.no_grad())
        {
            expected = module.forward(input).contiguous();
        }

        var model = Export(module, input.shape[1..], out var tracked);
        AssertTrackedShape(tracked!, expected.shape);
        var (actual, actualShape) = OnnxRuntimeRunner.RunFloat(
            model, ModuleParity.InputName, input.contiguous().data<float>().ToArray(), input.shape, ModuleParity.OutputName);

        CollectionAssert.AreEqual(expected.shape, actualShape, "output shape");
        var expectedValues = expected.data<float>().ToArray();
        var maxDiff = 0.0;
        for (var i = 0; i < expectedValues.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)expectedValues[i] - actual[i]));
        }

        testContext.WriteLine($"{testContext.TestName}: max |torch - onnx| = {maxDiff:E2} (output [{string.Join(", ", expected.shape)}])");
        Assert.IsTrue(maxDiff <= Tolerance, $"max abs difference {maxDiff:E2} exceeds {Tolerance:E0}");
        return maxDiff;
    }

    /// <summary>Fresh batch norms have weight 1 and bias 0, which would hide a swapped scale or bias.</summary>
    public static void RandomizeAffine(BatchNorm norm)
    {
        using var noGrad = no_grad();
        norm.weight!.uniform_(0.5, 1.5);
        norm.bias!.uniform_(-0.5, 0.5);
    }

    public static void RandomizeBatchNorms(nn.Module module)
    {
        foreach (var (_, child) in module.named_modules())
        {
            if (child is BatchNorm norm && norm.affine)
            {
                RandomizeAffine(norm);
            }
        }
    }

    // The batch dimension stays symbolic; every other recorded dimension must be torch's size.
    private static void AssertTrackedShape(OnnxTensorType tracked, long[] expected)
    {
        var dims = tracked.Dims!;
        Assert.AreEqual(expected.Length, dims.Count, $"recorded rank of {tracked}");
        Assert.AreEqual("N", dims[0].Symbol, $"recorded batch dimension of {tracked}");
        for (var i = 1; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], dims[i].Size, $"recorded dimension {i} of {tracked}");
        }
    }
}
