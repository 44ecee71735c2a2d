using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;

namespace ML.DeepExtensions.Tests.Sequence;

/// <summary>Bad input to the text classifiers: a clear managed error naming the column or setting, or documented handling.</summary>
[TestClass]
public sealed class TextClassifierBadInputTests
{
    private static readonly IReadOnlyList<NetworkLayer> Tiny = [Layer.Embedding(4), Layer.Lstm(4), Layer.SequencePooling(SequencePoolingMode.Mean)];

    private static IDataView Labelled(MLContext context, IEnumerable<TextFixtures.Row> rows) =>
        context.Transforms.Conversion.MapValueToKey("Label").Fit(TextFixtures.Load(context, rows)).Transform(TextFixtures.Load(context, rows));

    private static TextMulticlassOptions Options(int maxLength = 16, SequenceTruncation truncation = SequenceTruncation.KeepStart) => new()
    {
        TextColumnName = "Text", Architecture = Tiny, Epochs = 1, Seed = 3, MaxLength = maxLength, Truncation = truncation,
    };

    [TestMethod]
    public void ATextColumnThatIsNotTextIsRejectedByName()
    {
        var context = new MLContext(seed: 1);
        var options = new TextMulticlassOptions { TextColumnName = "IsPositive", Architecture = Tiny, Epochs = 1 };
        var e = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.TextClassifier(options).Fit(Labelled(context, TextFixtures.Rows(20))));
        StringAssert.Contains(e.Message, "'IsPositive'");
        StringAssert.Contains(e.Message, "Text");
    }

    [TestMethod]
    public void ATokenColumnThatIsNotAKeyVectorSaysHowToBuildIt()
    {
        var context = new MLContext(seed: 1);
        var data = context.Transforms.Text.TokenizeIntoWords("Words", "Text").Fit(Labelled(context, TextFixtures.Rows(20))).Transform(Labelled(context, TextFixtures.Rows(20)));
        var e = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.TextClassifier(new TextMulticlassOptions { FeatureColumnName = "Words", Architecture = Tiny, Epochs = 1 }).Fit(data));
        StringAssert.Contains(e.Message, "'Words'");
        StringAssert.Contains(e.Message, "MapValueToKey");
    }

    [TestMethod]
    public void OptionsAreCheckedWhenTheTrainerIsCreated()
    {
        var context = new MLContext(seed: 1);
        var catalog = context.MulticlassClassification.Trainers;
        var architecture = Assert.ThrowsExactly<ArgumentException>(() => catalog.TextClassifier(new TextMulticlassOptions { Architecture = [Layer.Lstm(4), Layer.SequencePooling(SequencePoolingMode.Max)] }));
        StringAssert.Contains(architecture.Message, "Layer.Embedding");
        var length = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => catalog.TextClassifier(new TextMulticlassOptions { MaxLength = 0 }));
        StringAssert.Contains(length.Message, "MaxLength");
        var same = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => catalog.TextClassifier(new TextMulticlassOptions { TextColumnName = "Tokens" }));
        StringAssert.Contains(same.Message, "FeatureColumnName");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layer.Lstm(0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layer.Gru(4, dropout: 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layer.Conv1D(4, kernelSize: 2));
    }

    [TestMethod]
    public void AnEmbeddingTooSmallForTheVocabularyIsRejectedBeforeTraining()
    {
        var context = new MLContext(seed: 1);
        var options = new TextMulticlassOptions { TextColumnName = "Text", Architecture = [Layer.Embedding(4, vocabulary: 3), Layer.SequencePooling(SequencePoolingMode.Max)], Epochs = 1 };
        var e = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.TextClassifier(options).Fit(Labelled(context, TextFixtures.Rows(20))));
        StringAssert.Contains(e.Message, "Layer 0");
    }

    [TestMethod]
    public void LongTextsAreTruncatedTheSameWayInTrainingAndScoring()
    {
        var context = new MLContext(seed: 1);
        var data = Labelled(context, TextFixtures.Rows(40));
        foreach (var truncation in new[] { SequenceTruncation.KeepStart, SequenceTruncation.KeepEnd })
        {
            var model = context.MulticlassClassification.Trainers.TextClassifier(Options(maxLength: 4, truncation)).Fit(data);
            string[] texts = ["apple iron rain snow wind copper", "apple iron rain snow", "rain snow wind copper"];
            var scores = model.Transform(context.Data.LoadFromEnumerable(texts.Select(t => new TextFixtures.Row { Text = t }))).GetColumn<float[]>("Score").ToArray();
            int same = truncation == SequenceTruncation.KeepStart ? 1 : 2;
            Assert.IsLessThanOrEqualTo(1e-6, scores[0].Zip(scores[same], (a, b) => Math.Abs(a - b)).Max(), $"{truncation}: the long text scores as its kept tokens");
            Assert.IsGreaterThan(1e-6, scores[0].Zip(scores[3 - same], (a, b) => Math.Abs(a - b)).Max(), $"{truncation}: and not as the other end");
        }
    }

    [TestMethod]
    public void AVocabularyOfOneTokenTrainsAndScoresEmptyAndUnknownText()
    {
        var context = new MLContext(seed: 1);
        var rows = TextFixtures.Rows(30).Select(r => new TextFixtures.Row { Text = "same", Label = r.Label }).ToList();
        var model = context.MulticlassClassification.Trainers.TextClassifier(Options()).Fit(Labelled(context, rows));
        var scores = model.Transform(context.Data.LoadFromEnumerable(new[] { "same", "", "other words" }.Select(t => new TextFixtures.Row { Text = t })))
            .GetColumn<float[]>("Score").ToArray();
        Assert.IsTrue(scores.All(s => s.All(float.IsFinite) && Math.Abs(s.Sum() - 1) < 1e-4), "finite probabilities for the one token, an empty and an unknown text");
    }

    [TestMethod]
    public void AValidationSplitOfTokenRowsLogsValidationMetrics()
    {
        var context = new MLContext(seed: 1);
        var options = new TextMulticlassOptions { TextColumnName = "Text", Architecture = Tiny, Epochs = 2, Seed = 3, Data = { ValidationFraction = 0.3 } };
        var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(Labelled(context, TextFixtures.Rows(60)));
        Assert.HasCount(2, model.History["val_accuracy"]);
        Assert.IsTrue(model.History["val_loss"].All(double.IsFinite));
    }

    [TestMethod]
    public void TheOutputSchemaIsKnownBeforeFitting()
    {
        var context = new MLContext(seed: 1);
        // ML.NET keeps SchemaShape.Create internal; pipelines call it for their estimators.
        var shape = (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.Invoke(null, [Labelled(context, TextFixtures.Rows(5)).Schema])!;
        var output = context.MulticlassClassification.Trainers.TextClassifier(Options()).GetOutputSchema(shape);
        CollectionAssert.IsSubsetOf(new[] { "Score", "PredictedLabel", "Tokens" }, output.Select(c => c.Name).ToArray());
        var noText = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.TextClassifier(new TextMulticlassOptions { TextColumnName = "Missing" }).GetOutputSchema(shape));
        StringAssert.Contains(noText.Message, "'Missing'");
    }

    [TestMethod]
    public void ScoringDataWithoutTheTextColumnNamesIt()
    {
        var context = new MLContext(seed: 1);
        var model = context.MulticlassClassification.Trainers.TextClassifier(Options()).Fit(Labelled(context, TextFixtures.Rows(20)));
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.Transform(context.Data.LoadFromEnumerable(new[] { new { Other = "x" } })));
        StringAssert.Contains(e.Message, "'Text'");
    }
}
