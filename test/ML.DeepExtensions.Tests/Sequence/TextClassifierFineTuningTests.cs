using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Sequence;

/// <summary>A text classifier started from another text classifier's network (transfer to a new label set over the same vocabulary).</summary>
[TestClass]
public sealed class TextClassifierFineTuningTests
{
    private static readonly IReadOnlyList<NetworkLayer> Small =
    [
        Layer.Embedding(12),
        Layer.Gru(12, bidirectional: true),
        Layer.SequencePooling(SequencePoolingMode.Max),
    ];

    private sealed class KindRow
    {
        public string Text { get; set; } = "";

        public string Kind { get; set; } = "";
    }

    /// <summary>TokenizeIntoWords then MapValueToKey, fitted on <paramref name="rows"/>, into "Tokens".</summary>
    private static TransformerChain<ValueToKeyMappingTransformer> Vocabulary(MLContext context, IDataView rows, int maximumKeys = 1_000_000) =>
        context.Transforms.Text.TokenizeIntoWords("Tokens", "Text")
            .Append(context.Transforms.Conversion.MapValueToKey("Tokens", maximumNumberOfKeys: maximumKeys))
            .Fit(rows);

    private static NeuralNetworkTransformer Pretrain(MLContext context, TransformerChain<ValueToKeyMappingTransformer> vocabulary) =>
        context.MulticlassClassification.Trainers.TextClassifier(new TextMulticlassOptions
        {
            Architecture = Small, Epochs = 6, Seed = 7, Optimizer = new() { LearningRate = 0.01 }, Data = { BatchSize = 16 },
        }).Fit(vocabulary.Transform(context.Transforms.Conversion.MapValueToKey("Label").Fit(TextFixtures.Load(context, TextFixtures.Rows(300))).Transform(TextFixtures.Load(context, TextFixtures.Rows(300)))));

    /// <summary>A new task over the same texts: fruit or not.</summary>
    private static IDataView Kinds(MLContext context, TransformerChain<ValueToKeyMappingTransformer> vocabulary, int count, int seed)
    {
        var rows = TextFixtures.Rows(count, seed).Select(r => new KindRow { Text = r.Text, Kind = r.IsPositive ? "fruit" : "other" }).ToList();
        var data = context.Data.LoadFromEnumerable(rows);
        return vocabulary.Transform(context.Transforms.Conversion.MapValueToKey("Label", "Kind").Fit(data).Transform(data));
    }

    [TestMethod]
    public void ANewHeadOnTheFrozenPretrainedLayersLearnsANewLabelSet()
    {
        var context = new MLContext(seed: 1);
        var vocabulary = Vocabulary(context, TextFixtures.Load(context, TextFixtures.Rows(300)));
        using var pretrainedModel = Pretrain(context, vocabulary);
        var pretrained = PretrainedNetwork.FromTransformer(pretrainedModel);

        using var model = context.MulticlassClassification.Trainers.TextClassifier(new TextMulticlassOptions
        {
            Pretrained = new PretrainedOptions { Network = pretrained },
            FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)],
            Epochs = 4, Seed = 3, Optimizer = new() { LearningRate = 0.02 }, Data = { BatchSize = 16 },
        }).Fit(Kinds(context, vocabulary, 200, seed: 5));

        var before = pretrained.Network.state_dict();
        foreach (var (name, value) in model.Network.state_dict().Where(kv => !kv.Key.StartsWith("output.", StringComparison.Ordinal)))
        {
            Assert.IsTrue(value.eq(before[name]).all().item<bool>(), $"frozen '{name}' must keep the pretrained weights");
        }

        CollectionAssert.AreEqual(new long[] { 2, 24 }, model.Network.state_dict()["output.weight"].shape);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(Kinds(context, vocabulary, 100, seed: 6)));
        Assert.IsGreaterThan(0.9, metrics.MicroAccuracy, $"the new head separates fruit from the rest on the pretrained features: accuracy {metrics.MicroAccuracy}");
    }

    [TestMethod]
    public void APretrainedEmbeddingSmallerThanTheTokenColumnIsRefusedBeforeTraining()
    {
        var context = new MLContext(seed: 1);
        var texts = TextFixtures.Load(context, TextFixtures.Rows(300));
        using var pretrainedModel = Pretrain(context, Vocabulary(context, texts, maximumKeys: 5));

        var error = Assert.Throws<ArgumentException>(() => context.MulticlassClassification.Trainers.TextClassifier(new TextMulticlassOptions
        {
            Pretrained = new PretrainedOptions { Network = PretrainedNetwork.FromTransformer(pretrainedModel) },
            Epochs = 1,
        }).Fit(Kinds(context, Vocabulary(context, texts), 50, seed: 5)));

        StringAssert.Contains(error.Message, "embedding holds 7 rows");
        StringAssert.Contains(error.Message, "'Tokens'");
    }

    private sealed class FlatRow
    {
        [VectorType(TextClassifierDefaults.MaxLength)]
        public float[] Features { get; set; } = new float[TextClassifierDefaults.MaxLength];

        public float Label { get; set; }
    }

    [TestMethod]
    public void ANetworkThatDoesNotStartWithAnEmbeddingIsRefused()
    {
        var context = new MLContext(seed: 1);
        // An MLP over as many features as the text classifier reads tokens: the shapes alone agree.
        var flat = context.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new FlatRow { Label = i % 3 }).ToList());
        using var mlp = context.Regression.Trainers.Mlp(new MlpRegressionOptions { HiddenLayers = [4], Epochs = 1 }).Fit(flat);
        var vocabulary = Vocabulary(context, TextFixtures.Load(context, TextFixtures.Rows(50)));

        var error = Assert.Throws<ArgumentException>(() => context.MulticlassClassification.Trainers.TextClassifier(new TextMulticlassOptions
        {
            Pretrained = new PretrainedOptions { Network = PretrainedNetwork.FromTransformer(mlp) },
            Epochs = 1,
        }).Fit(Kinds(context, vocabulary, 50, seed: 5)));

        StringAssert.Contains(error.Message, "Layer.Embedding");
    }
}
