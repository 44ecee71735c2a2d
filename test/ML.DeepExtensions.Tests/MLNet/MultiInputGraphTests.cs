using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Onnx;

namespace ML.DeepExtensions.Tests.MLNet;

/// <summary>
/// A graph with two inputs — a variable-length integer input (cast to Int64 inside) fed from ML.NET's token keys, and a float
/// vector — scores through ML.NET's OnnxTransformer from an IDataView and round-trips through
/// Model.Save/Load, with ML.NET's missing key (0) reaching the graph as the unknown token.
/// </summary>
[TestClass]
public sealed class MultiInputGraphTests
{
    private const int Dimensions = 3;

    private static readonly float[] Embeddings = Enumerable.Range(0, 16 * Dimensions).Select(i => (float)Math.Sin(i)).ToArray();
    private static readonly float[] Weights = Enumerable.Range(0, (Dimensions + 2) * 2).Select(i => (float)Math.Cos(i) / 2).ToArray();

    public sealed class Row
    {
        public string Text { get; set; } = "";

        [VectorType(2)]
        public float[] Numbers { get; set; } = [];
    }

    [TestMethod]
    public void TokensOfAnyLengthAndAFloatVectorScoreThroughMLNetAndRoundTrip()
    {
        var context = new MLContext(seed: 1);
        Row[] train = [new() { Text = "a b c", Numbers = [1, 2] }, new() { Text = "b c d e f", Numbers = [0, -1] }, new() { Text = "g", Numbers = [3, 3] }];
        Row[] test = [new() { Text = "a", Numbers = [1, 1] }, new() { Text = "c b a zebra g", Numbers = [0.5f, 2] }, new() { Text = "f e d c b a g", Numbers = [-1, 0] }];
        var tokens = context.Transforms.Text.TokenizeIntoWords("Tokens", "Text")
            .Append(context.Transforms.Conversion.MapValueToKey("Tokens"))
            .Fit(context.Data.LoadFromEnumerable(train));
        var tokenized = tokens.Transform(context.Data.LoadFromEnumerable(test));
        Assert.IsTrue(tokenized.Schema["Tokens"].Type is VectorDataViewType { IsKnownSize: false, ItemType: KeyDataViewType }, "ML.NET's token keys are a variable-size key vector");

        using var network = OnnxScoringChain.Build(TwoInputGraph(), [OnnxInput.KeyValues("Tokens"), OnnxInput.Column("Numbers")], ["Score", "Embedding"], tokenized);
        var model = tokens.Append(network.Transformer);

        var keys = tokenized.GetColumn<VBuffer<uint>>("Tokens").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.Contains(0u, keys[1], "'zebra' is not in the vocabulary: ML.NET's missing key 0");
        var expected = test.Select((row, i) => Reference(keys[i], row.Numbers)).ToArray();
        var scored = model.Transform(context.Data.LoadFromEnumerable(test));
        AssertClose(expected, scored.GetColumn<float[]>("Score").ToArray());
        Assert.AreEqual(Dimensions, ((VectorDataViewType)scored.Schema["Embedding"].Type).Size, "a second, non-predictor output becomes its own column");
        Assert.IsFalse(model.Transform(context.Data.LoadFromEnumerable(test)).Schema.GetColumnOrNull("Tokens.keys").HasValue, "the helper column is dropped");

        using var stream = new MemoryStream();
        context.Model.Save(model, context.Data.LoadFromEnumerable(test).Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        AssertClose(expected, loaded.Transform(context.Data.LoadFromEnumerable(test)).GetColumn<float[]>("Score").ToArray());
    }

    public sealed class IdRow
    {
        public long[] Ids { get; set; } = [];

        [VectorType(2)]
        public float[] Numbers { get; set; } = [];
    }

    [TestMethod]
    public void AVariableLengthInt64ColumnFeedsAnInt64GraphInputAndRoundTrips()
    {
        var context = new MLContext(seed: 1);
        IdRow[] rows = [new() { Ids = [1], Numbers = [1, 1] }, new() { Ids = [3, 2, 1, 0, 7], Numbers = [0.5f, 2] }, new() { Ids = [6, 5, 4, 3, 2, 1, 7, 9], Numbers = [-1, 0] }];
        var data = context.Data.LoadFromEnumerable(rows);
        Assert.IsTrue(data.Schema["Ids"].Type is VectorDataViewType { IsKnownSize: false, ItemType: var item } && item == NumberDataViewType.Int64);

        using var model = OnnxScoringChain.Build(TwoInputGraph(OnnxElementType.Int64, "Ids"), [OnnxInput.Column("Ids"), OnnxInput.Column("Numbers")], ["Score"], data);

        // Ids are key values here too: 1-based, 0 for the unknown row.
        var expected = rows.Select(r => Reference(r.Ids.Select(i => (uint)i).ToArray(), r.Numbers)).ToArray();
        AssertClose(expected, model.Transformer.Transform(data).GetColumn<float[]>("Score").ToArray());
        using var stream = new MemoryStream();
        context.Model.Save(model.Transformer, data.Schema, stream);
        stream.Position = 0;
        AssertClose(expected, new MLContext().Model.Load(stream, out _).Transform(data).GetColumn<float[]>("Score").ToArray());
    }

    /// <summary>mean of token embeddings (key k → row k-1; missing → the last row) ++ numbers → a 2-output linear layer.</summary>
    internal static byte[] TwoInputGraph(OnnxElementType tokenType = OnnxElementType.UInt32, string tokenInput = "Tokens.keys")
    {
        var graph = new OnnxGraphBuilder("two_inputs");
        // ML.NET's OnnxTransformer reads a negative leading dimension as a batch of one, so the
        // variable length must come second: [1, tokens], inferred from each row's length.
        graph.AddInput(tokenInput, tokenType, 1, "tokens");
        graph.AddInput("Numbers", OnnxElementType.Float, 2);
        var flat = graph.AddNode("Reshape", [tokenInput, graph.AddInitializer("flat", [-1L], [1])]);
        var keys = tokenType == OnnxElementType.Int64 ? flat : graph.AddNode("Cast", [flat], [OnnxAttribute.Int("to", (long)OnnxElementType.Int64)]);
        var ids = graph.AddNode("Sub", [keys, graph.AddInitializer("one", [1L], [])]);
        var missing = graph.AddNode("Less", [ids, graph.AddInitializer("zero", [0L], [])]);
        var known = graph.AddNode("Where", [missing, graph.AddInitializer("unknown", [15L], []), ids]);
        var vectors = graph.AddNode("Gather", [graph.AddInitializer("embeddings", Embeddings, [16, Dimensions]), known], [OnnxAttribute.Int("axis", 0)]);
        var mean = graph.AddNode("ReduceMean", [vectors], [OnnxAttribute.Ints("axes", [0]), OnnxAttribute.Int("keepdims", 0)]);
        var joined = graph.AddNode("Concat", [mean, "Numbers"], [OnnxAttribute.Int("axis", 0)]);
        var linear = graph.AddNode("MatMul", [joined, graph.AddInitializer("weights", Weights, [Dimensions + 2, 2])]);
        graph.AddOutput(linear, "Score", OnnxElementType.Float, 2);
        graph.AddOutput(mean, "Embedding", OnnxElementType.Float, Dimensions);
        return graph.ToBytes();
    }

    private static float[] Reference(uint[] keys, float[] numbers)
    {
        var joined = new float[Dimensions + 2];
        foreach (uint key in keys)
        {
            int row = key == 0 ? 15 : (int)key - 1;
            for (int d = 0; d < Dimensions; d++)
            {
                joined[d] += Embeddings[(row * Dimensions) + d] / keys.Length;
            }
        }

        joined[Dimensions] = numbers[0];
        joined[Dimensions + 1] = numbers[1];
        return Enumerable.Range(0, 2).Select(o => Enumerable.Range(0, Dimensions + 2).Sum(i => joined[i] * Weights[(i * 2) + o])).ToArray();
    }

    private static void AssertClose(float[][] expected, float[][] actual)
    {
        Assert.HasCount(expected.Length, actual);
        double max = expected.Zip(actual, (e, a) => e.Zip(a, (x, y) => Math.Abs(x - y)).Max()).Max();
        Assert.IsLessThanOrEqualTo(1e-5, max, $"max abs difference {max}");
    }
}
