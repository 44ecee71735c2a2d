using Microsoft.ML.OnnxRuntime;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Tests.Scoring;

/// <summary>The batched rewrite of per-row graphs, on hand-made graphs: what follows the network may be element-wise with per-row constants.</summary>
[TestClass]
public sealed class BatchedOnnxGraphTests
{
    private static readonly float[] Weights = [4f, -3f, 2f, 5f, -6f, 1f];

    [TestMethod]
    public void ClippingAfterTheNetworkBatchesAndGivesEachRowsOwnResult()
    {
        var perRow = PerRow(tail => Clip(tail.Graph, tail.Value));
        var batched = BatchedOnnxGraph.Rewrite(BatchedOnnxGraph.Parse(perRow));
        var rows = Enumerable.Range(0, 7).Select(r => new[] { (r - 3) * 0.7f, (r % 3) - 1f, r * 0.25f }).ToArray();

        var expected = rows.SelectMany(row => Run(perRow, row, [3])).ToArray();
        var actual = Run(batched.ToBytes(), [.. rows.SelectMany(r => r)], [rows.Length, 3]);

        CollectionAssert.AreEqual(expected, actual);
        Assert.IsTrue(expected.Contains(-1f) && expected.Contains(1.5f), "some values are clipped at each bound (the test can fail)");
        Assert.IsTrue(expected.Any(v => v is > -1f and < 1.5f), "and some are not");
    }

    [TestMethod]
    public void AnElementWiseStepOverTwoComputedValuesIsRefused()
    {
        var perRow = PerRow(tail => tail.Graph.AddNode("Add", [tail.Value, tail.Value]));

        var e = Assert.ThrowsExactly<NotSupportedException>(() => BatchedOnnxGraph.Rewrite(BatchedOnnxGraph.Parse(perRow)));
        StringAssert.Contains(e.Message, "2 non-constant inputs");
    }

    [TestMethod]
    public void AConstantThatIsNotPerRowIsRefused()
    {
        // A [2, 2] constant would broadcast differently over a batch.
        var perRow = PerRow(tail => tail.Graph.AddNode("Mul", [tail.Value, tail.Graph.AddInitializer("square", [1f, 2f, 3f, 4f], [2, 2])]), outputWidth: 2);

        Assert.ThrowsExactly<NotSupportedException>(() => BatchedOnnxGraph.Rewrite(BatchedOnnxGraph.Parse(perRow)));
    }

    /// <summary>The layout our exporter writes: input [3] → Reshape [1, 3] → MatMul → Reshape [2] → <paramref name="after"/> → output.</summary>
    private static byte[] PerRow(Func<(OnnxGraphBuilder Graph, string Value), string> after, long outputWidth = 2)
    {
        var graph = new OnnxGraphBuilder("per-row");
        string input = graph.AddInput("Observation", OnnxElementType.Float, 3);
        string batch = graph.AddNode("Reshape", [input, graph.AddInitializer("batch_shape", [1L, 3L], [2])]);
        string product = graph.AddNode("MatMul", [batch, graph.AddInitializer("weights", Weights, [3, 2])]);
        string row = graph.AddNode("Reshape", [product, graph.AddInitializer("row_shape", [2L], [1])]);
        graph.AddOutput(after((graph, row)), "Action", OnnxElementType.Float, outputWidth);
        graph.AddMetadata(BatchedOnnxGraph.ComponentKey, "test");
        return graph.ToBytes();
    }

    private static string Clip(OnnxGraphBuilder graph, string value)
    {
        string low = graph.AddNode("Max", [value, graph.AddInitializer("low", [-1f, -1f], [2])]);
        return graph.AddNode("Min", [low, graph.AddInitializer("high", [1.5f, 1.5f], [2])]);
    }

    private static float[] Run(byte[] model, float[] values, long[] shape)
    {
        using var session = new InferenceSession(model);
        using var input = OrtValue.CreateTensorValueFromMemory(values, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [input], session.OutputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
