using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Tests.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Sequence;

/// <summary>Padded steps are masked: a row's output is the same alone, in its batch, and with any extra padding.</summary>
[TestClass]
public sealed class SequenceMaskingTests
{
    private const int Vocabulary = 23;

    public static IEnumerable<object[]> Networks =>
    [
        ["lstm bidirectional stacked + last", new[] { Layer.Embedding(6, Vocabulary), Layer.Lstm(5, layers: 2, bidirectional: true), Layer.SequencePooling(SequencePoolingMode.Last) }],
        ["lstm final state", new[] { Layer.Embedding(6, Vocabulary), Layer.Lstm(5, bidirectional: true, returnSequences: false) }],
        ["gru bidirectional + mean", new[] { Layer.Embedding(6, Vocabulary), Layer.Gru(4, bidirectional: true), Layer.SequencePooling(SequencePoolingMode.Mean) }],
        ["lstm forward-only final state", new[] { Layer.Embedding(6, Vocabulary), Layer.Lstm(5, layers: 2, returnSequences: false) }],
        ["gru forward-only + last", new[] { Layer.Embedding(6, Vocabulary), Layer.Gru(4), Layer.SequencePooling(SequencePoolingMode.Last) }],
        ["rnn + max", new[] { Layer.Embedding(6, Vocabulary), Layer.SimpleRnn(4, layers: 2), Layer.Activation(ML.DeepExtensions.Networks.Activation.Sigmoid), Layer.SequencePooling(SequencePoolingMode.Max) }],
        ["conv + pool + attention", new[] { Layer.Embedding(6, Vocabulary), Layer.Conv1D(5, 5), Layer.Relu(), Layer.MaxPool1D(3), Layer.SequencePooling(SequencePoolingMode.Attention) }],
    ];

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void ARowsOutputDoesNotDependOnItsBatchsPadding(string name, NetworkLayer[] layers)
    {
        using var scope = NewDisposeScope();
        manual_seed(811);
        var network = NetworkBuilder.Build(layers, [9], outputs: 3);
        network.eval();
        var batch = SequenceTestNetworks.MixedBatch(9, Vocabulary);
        var lengths = batch.ne(0).sum(1).data<long>().ToArray();
        using var _ = no_grad();
        var inBatch = network.forward(batch);
        var morePadding = network.forward(nn.functional.pad(batch, [0, 13]));
        double maxDifference = (inBatch - morePadding).abs().max().item<float>();
        for (int row = 0; row < lengths.Length; row++)
        {
            var alone = network.forward(batch[row].narrow(0, 0, lengths[row]).unsqueeze(0));
            maxDifference = Math.Max(maxDifference, (alone[0] - inBatch[row]).abs().max().item<float>());
        }

        Assert.IsLessThanOrEqualTo(1e-5, maxDifference, $"{name}: rows change with padding by {maxDifference:E2}");
        Assert.IsGreaterThan(1e-3, (inBatch[0] - inBatch[1]).abs().max().item<float>(), "rows of different tokens differ (the test can fail)");
    }

    [TestMethod]
    public void ADenseLayerOnASequenceIsRejectedWithItsIndex()
    {
        var e = Assert.ThrowsExactly<LayerShapeException>(() => NetworkBuilder.InferShapes([Layer.Embedding(4, 10), Layer.Lstm(3), Layer.Dense(2)], [8]));
        StringAssert.Contains(e.Message, "Layer 2");
        var pooling = Assert.ThrowsExactly<LayerShapeException>(() => NetworkBuilder.InferShapes([Layer.Embedding(4, 10), Layer.SequencePooling(SequencePoolingMode.Mean), Layer.Lstm(3)], [8]));
        StringAssert.Contains(pooling.Message, "needs a sequence input");
        var embedding = Assert.ThrowsExactly<LayerShapeException>(() => NetworkBuilder.InferShapes([Layer.Lstm(3), Layer.Embedding(4, 10)], [8, 2]));
        StringAssert.Contains(embedding.Message, "needs token ids");
    }

    [TestMethod]
    public void AnEmbeddingWithoutVocabularyCannotBeBuiltAndSaysWhy()
    {
        var e = Assert.ThrowsExactly<LayerShapeException>(() => NetworkBuilder.Build([Layer.Embedding(4), Layer.SequencePooling(SequencePoolingMode.Mean)], [8], 2));
        StringAssert.Contains(e.Message, "vocabulary");
    }

    [TestMethod]
    public void AnAllPaddingRowIsOnePaddingStepAndStaysFinite()
    {
        using var scope = NewDisposeScope();
        manual_seed(812);
        var network = NetworkBuilder.Build([Layer.Embedding(4, 10), Layer.Lstm(3, bidirectional: true), Layer.SequencePooling(SequencePoolingMode.Max)], [5], 2);
        network.eval();
        using var _ = no_grad();
        var output = network.forward(zeros(2, 5, dtype: ScalarType.Int64));
        Assert.IsTrue(output.isfinite().all().item<bool>());
        Assert.AreEqual(output[0].sum().item<float>(), network.forward(zeros(1, 1, dtype: ScalarType.Int64))[0].sum().item<float>(), 1e-6);
    }
}
