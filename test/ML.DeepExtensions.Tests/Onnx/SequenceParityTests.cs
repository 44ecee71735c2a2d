using Microsoft.ML.OnnxRuntime;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>
/// Sequence layers exported to ONNX (Gather, LSTM/GRU/RNN with sequence_lens, Conv, MaxPool, the
/// poolings) match TorchSharp within 1e-4 on one batch whose rows have different lengths.
/// </summary>
[TestClass]
public sealed class SequenceParityTests
{
    private const double Tolerance = 1e-4;
    private const int Vocabulary = 23;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> SingleLayers =>
    [
        ["embedding", new NetworkLayer[] { Layer.Embedding(6, Vocabulary) }],
        ["lstm", new[] { Layer.Embedding(6, Vocabulary), Layer.Lstm(5) }],
        ["lstm bidirectional stacked", new[] { Layer.Embedding(6, Vocabulary), Layer.Lstm(5, layers: 2, bidirectional: true, dropout: 0.3) }],
        ["lstm last state", new[] { Layer.Embedding(6, Vocabulary), Layer.Lstm(5, layers: 2, bidirectional: true, returnSequences: false) }],
        ["gru", new[] { Layer.Embedding(6, Vocabulary), Layer.Gru(4) }],
        ["gru bidirectional stacked", new[] { Layer.Embedding(6, Vocabulary), Layer.Gru(4, layers: 3, bidirectional: true) }],
        ["gru last state", new[] { Layer.Embedding(6, Vocabulary), Layer.Gru(4, bidirectional: true, returnSequences: false) }],
        ["simple rnn", new[] { Layer.Embedding(6, Vocabulary), Layer.SimpleRnn(7) }],
        ["simple rnn bidirectional stacked", new[] { Layer.Embedding(6, Vocabulary), Layer.SimpleRnn(3, layers: 2, bidirectional: true) }],
        ["conv1d", new[] { Layer.Embedding(6, Vocabulary), Layer.Conv1D(5, kernelSize: 3) }],
        ["conv1d wide kernel", new[] { Layer.Embedding(6, Vocabulary), Layer.Conv1D(4, kernelSize: 5) }],
        ["max pool 1d", new[] { Layer.Embedding(6, Vocabulary), Layer.MaxPool1D(2) }],
        ["max pool 1d of 3", new[] { Layer.Embedding(6, Vocabulary), Layer.MaxPool1D(3) }],
        ["last pooling", new[] { Layer.Embedding(6, Vocabulary), Layer.SequencePooling(SequencePoolingMode.Last) }],
        ["mean pooling", new[] { Layer.Embedding(6, Vocabulary), Layer.SequencePooling(SequencePoolingMode.Mean) }],
        ["max pooling", new[] { Layer.Embedding(6, Vocabulary), Layer.SequencePooling(SequencePoolingMode.Max) }],
        ["attention pooling", new[] { Layer.Embedding(6, Vocabulary), Layer.SequencePooling(SequencePoolingMode.Attention, 4) }],
    ];

    [TestMethod]
    [DynamicData(nameof(SingleLayers))]
    public void LayerMatchesOnnxRuntimeOnMixedLengths(string name, NetworkLayer[] layers)
    {
        using var scope = NewDisposeScope();
        manual_seed(801);
        var network = SequenceTestNetworks.Body(layers, steps: 9);
        AssertMatches(name, network, SequenceTestNetworks.MixedBatch(9, Vocabulary));
    }

    public static IEnumerable<object[]> WholeNetworks =>
    [
        ["bidirectional lstm + attention", new[] { Layer.Embedding(8, Vocabulary), Layer.Lstm(6, layers: 2, bidirectional: true, dropout: 0.2), Layer.SequencePooling(SequencePoolingMode.Attention), Layer.Dense(5), Layer.Relu() }],
        ["gru + max", new[] { Layer.Embedding(8, Vocabulary), Layer.Gru(6, bidirectional: true), Layer.Activation(ML.DeepExtensions.Networks.Activation.Tanh), Layer.SequencePooling(SequencePoolingMode.Max) }],
        ["conv + pool + lstm + last", new[] { Layer.Embedding(8, Vocabulary), Layer.Conv1D(6, 3), Layer.Relu(), Layer.MaxPool1D(2), Layer.Lstm(5), Layer.SequencePooling(SequencePoolingMode.Last) }],
        ["rnn + mean", new[] { Layer.Embedding(8, Vocabulary), Layer.SimpleRnn(5, layers: 2), Layer.Dropout(0.5), Layer.SequencePooling(SequencePoolingMode.Mean) }],
        ["lstm last state", new[] { Layer.Embedding(8, Vocabulary), Layer.Lstm(6, bidirectional: true, returnSequences: false), Layer.Dense(4) }],
    ];

    [TestMethod]
    [DynamicData(nameof(WholeNetworks))]
    public void WholeNetworkMatchesOnnxRuntimeOnMixedLengths(string name, NetworkLayer[] layers)
    {
        using var scope = NewDisposeScope();
        manual_seed(802);
        var network = NetworkBuilder.Build(layers, [11], outputs: 3);
        AssertMatches(name, network, SequenceTestNetworks.MixedBatch(11, Vocabulary));
    }

    [TestMethod]
    public void NumericSequenceNetworkMatchesOnnxRuntime()
    {
        using var scope = NewDisposeScope();
        manual_seed(803);
        var network = NetworkBuilder.Build([Layer.Conv1D(4, 3), Layer.Lstm(5, bidirectional: true), Layer.SequencePooling(SequencePoolingMode.Mean)], [7, 3], outputs: 2);
        network.eval();
        var input = randn(4, 7, 3);
        Tensor expected;
        using (no_grad())
        {
            expected = network.forward(input);
        }

        var graph = new OnnxGraphBuilder();
        graph.AddInput("input", OnnxElementType.Float, "N", 7, 3);
        graph.AddOutput(new OnnxModuleExporter().Export(graph, network, "input"), "output", OnnxElementType.Float, OnnxDim.Unknown, OnnxDim.Unknown);
        using var session = new InferenceSession(graph.ToBytes());
        using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), input.shape);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["output"]);
        AssertClose("numeric", expected, outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    private void AssertMatches(string name, nn.Module<Tensor, Tensor> network, Tensor ids)
    {
        network.eval();
        Tensor expected;
        using (no_grad())
        {
            expected = network.forward(ids);
        }

        var graph = new OnnxGraphBuilder();
        graph.AddInput("ids", OnnxElementType.Int64, "N", "T");
        var output = new OnnxModuleExporter().Export(graph, network, "ids");
        graph.AddOutput(output, "output", OnnxElementType.Float, [.. Enumerable.Repeat(OnnxDim.Unknown, (int)expected.dim())]);
        var model = graph.ToBytes();
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var value = OrtValue.CreateTensorValueFromMemory(ids.data<long>().ToArray(), ids.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["ids"], [value], ["output"]);
        AssertClose(name, expected, outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    private void AssertClose(string name, Tensor expected, float[] actual, long[] shape)
    {
        CollectionAssert.AreEqual(expected.shape, shape, $"{name}: output shape");
        var values = expected.contiguous().data<float>().ToArray();
        double max = values.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        TestContext.WriteLine($"{name}: max |torch - onnx| = {max:E2}");
        Assert.IsTrue(values.All(float.IsFinite), $"{name}: the torch output is finite");
        Assert.IsLessThanOrEqualTo(Tolerance, max, $"{name}: max abs difference {max:E2}");
    }
}

/// <summary>Small sequence networks and padded batches shared by the sequence tests.</summary>
internal static class SequenceTestNetworks
{
    /// <summary>The layers without an output head, as the network a trainer builds minus its Dense output.</summary>
    public static nn.Module<Tensor, Tensor> Body(IReadOnlyList<NetworkLayer> layers, long steps)
    {
        var shapes = NetworkBuilder.InferShapes(layers, [steps], requireFlatEnd: false);
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long[] shape = [steps];
        for (int i = 0; i < layers.Count; i++)
        {
            modules.Add((LayerNames.Layer(i), layers[i].Build(shape)));
            shape = shapes[i];
        }

        return new SequenceNetwork(modules, tokens: true);
    }

    /// <summary>Rows of lengths steps, 1, steps - 3, 2 and 5 (ids 1..vocabulary-1), padded with 0 to <paramref name="steps"/>.</summary>
    public static Tensor MixedBatch(long steps, int vocabulary, int seed = 5)
    {
        long[] lengths = [steps, 1, steps - 3, 2, 5];
        var random = new Random(seed);
        var ids = new long[lengths.Length * steps];
        for (int row = 0; row < lengths.Length; row++)
        {
            for (int t = 0; t < lengths[row]; t++)
            {
                ids[(row * steps) + t] = random.Next(1, vocabulary);
            }
        }

        return tensor(ids, [lengths.Length, steps]);
    }
}
