using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>Exports a module, runs it in ONNX Runtime and compares with TorchSharp's eval-mode forward.</summary>
internal static class ModuleParity
{
    public const double Tolerance = 1e-5;
    public const string InputName = "input";
    public const string OutputName = "output";

    /// <summary>Builds a graph with one float input of <paramref name="inputDims"/> and the module's output, unknown dims of the right rank.</summary>
    public static byte[] Export(nn.Module module, OnnxDim[] inputDims, int outputRank, OnnxModuleExporter? exporter = null)
    {
        var graph = new OnnxGraphBuilder();
        var input = graph.AddInput(InputName, OnnxElementType.Float, inputDims);
        var output = (exporter ?? new OnnxModuleExporter()).Export(graph, module, input);
        graph.AddOutput(output, OutputName, OnnxElementType.Float, [.. Enumerable.Repeat(OnnxDim.Unknown, outputRank)]);
        return graph.ToBytes();
    }

    /// <summary>
    /// Puts the module in eval mode, runs both sides on <paramref name="input"/>, asserts equal shapes
    /// and a max abs difference within <see cref="Tolerance"/>, logs and returns that difference.
    /// </summary>
    public static double AssertMatchesTorch(
        nn.Module<Tensor, Tensor> module, Tensor input, OnnxDim[] inputDims, TestContext testContext, OnnxModuleExporter? exporter = null)
    {
        using var scope = torch.NewDisposeScope();
        module.eval();
        Tensor expected;
        using (torch.no_grad())
        {
            expected = module.forward(input).contiguous();
        }

        var model = Export(module, inputDims, (int)expected.dim(), exporter);
        var (actual, actualShape) = OnnxRuntimeRunner.RunFloat(
            model, InputName, input.contiguous().data<float>().ToArray(), input.shape, OutputName);

        CollectionAssert.AreEqual(expected.shape, actualShape, "output shape");
        var expectedValues = expected.data<float>().ToArray();
        var maxDiff = 0.0;
        for (var i = 0; i < expectedValues.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)expectedValues[i] - actual[i]));
        }

        testContext.WriteLine($"{testContext.TestName}: max |torch - onnx| = {maxDiff:E2}");
        Assert.IsTrue(maxDiff <= Tolerance, $"max abs difference {maxDiff:E2} exceeds {Tolerance:E0}");
        return maxDiff;
    }

    /// <summary>Op types of the exported graph's nodes, in order, to check which form a converter chose.</summary>
    public static List<string> OpTypes(byte[] model) =>
        [.. ML.DeepExtensions.Onnx.Proto.ModelProto.Parser.ParseFrom(model).Graph.Node.Select(node => node.OpType)];
}
