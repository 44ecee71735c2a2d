using Microsoft.ML;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;
using ML.DeepExtensions.Tests.TestData;

namespace ML.DeepExtensions.Tests.Sequence;

/// <summary>Real data: a small subset of the Debian fortunes files, categories as labels.</summary>
[TestClass]
public sealed class FortunesTests
{
    [TestMethod]
    public void TheBenchmarkCategoriesReadAsThousandsOfCleanTexts()
    {
        var texts = Fortunes.Read(DebianDatasets.FortunesDirectory(), Fortunes.BenchmarkCategories);

        Assert.IsGreaterThan(5000, texts.Count);
        CollectionAssert.AreEquivalent(Fortunes.BenchmarkCategories.ToArray(), texts.Select(t => t.Category).Distinct().ToArray());
        Assert.IsTrue(texts.All(t => t.Text.Length > 0 && !t.Text.Contains('\b') && !t.Text.Contains('\n')), "no empty, overstruck or multi-line texts");
    }

    [TestMethod]
    public void AMissingCategoryFileIsNamed()
    {
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => Fortunes.Read(DebianDatasets.FortunesDirectory(), ["no-such-category"]));
        StringAssert.Contains(e.Message, "no-such-category");
        StringAssert.Contains(e.Message, "fetch-data.sh");
    }

    [TestMethod]
    public void AGruLearnsTwoCategoriesFromASmallSubsetBetterThanChance()
    {
        var context = new MLContext(seed: 1);
        var texts = Fortunes.Read(DebianDatasets.FortunesDirectory(), ["computers", "songs-poems"]);
        var random = new Random(2);
        var subset = texts.GroupBy(t => t.Category).SelectMany(g => g.OrderBy(_ => random.Next()).Take(200)).OrderBy(_ => random.Next()).ToList();
        var label = context.Transforms.Conversion.MapValueToKey("Label", nameof(FortuneText.Category)).Fit(context.Data.LoadFromEnumerable(subset));
        var train = label.Transform(context.Data.LoadFromEnumerable(subset.Take(320)));
        var test = label.Transform(context.Data.LoadFromEnumerable(subset.Skip(320)));
        var options = new TextMulticlassOptions
        {
            TextColumnName = nameof(FortuneText.Text),
            Architecture = [Layer.Embedding(16), Layer.Gru(16), Layer.SequencePooling(SequencePoolingMode.Max)],
            MaxLength = 48,
            Epochs = 8,
            Seed = 5,
            Optimizer = new() { LearningRate = 0.01 },
        };

        var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(train);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(test));

        Assert.IsGreaterThan(0.65, metrics.MicroAccuracy, $"accuracy on 80 held-out fortunes: {metrics.MicroAccuracy}");
    }
}
