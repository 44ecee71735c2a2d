using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;

namespace ML.DeepExtensions.Tests.Sequence;

[TestClass]
public sealed class SequenceBinaryClassifierTests
{
    private const int Steps = 10;

    public sealed class Row
    {
        [VectorType(Steps * 2)]
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }

    /// <summary>Positive: feature 0 rises over the steps; negative: it falls. Both start anywhere in 0-100, feature 1 is noise.</summary>
    private static List<Row> Rows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<Row>();
        for (int i = 0; i < count; i++)
        {
            bool rising = random.Next(2) == 1;
            double start = random.NextDouble() * 100, slope = (rising ? 1 : -1) * (1 + (random.NextDouble() * 2));
            var values = new float[Steps * 2];
            for (int t = 0; t < Steps; t++)
            {
                values[t * 2] = (float)(start + (slope * t) + (random.NextDouble() * 2));
                values[(t * 2) + 1] = (float)(random.NextDouble() * 50);
            }

            rows.Add(new Row { Features = values, Label = rising });
        }

        return rows;
    }

    private static SequenceBinaryClassifierOptions Options() => new()
    {
        Steps = Steps,
        StepFeatures = 2,
        Architecture = [Layer.Gru(8), Layer.SequencePooling(SequencePoolingMode.Last)],
        Epochs = 10,
        Seed = 4,
        Optimizer = new() { LearningRate = 0.01 },
        Data = { BatchSize = 16 },
    };

    [TestMethod]
    public void TheDirectionOfASequenceIsLearnedWithMLNetBinaryOutputs()
    {
        var context = new MLContext(seed: 1);
        var train = context.Data.LoadFromEnumerable(Rows(300, 1));
        var test = context.Data.LoadFromEnumerable(Rows(100, 2));

        var model = context.BinaryClassification.Trainers.SequenceClassifier(Options()).Fit(train);
        var scored = model.Transform(test);
        var metrics = context.BinaryClassification.Evaluate(scored);

        Assert.IsGreaterThan(0.9, metrics.Accuracy, $"accuracy {metrics.Accuracy}: the start level says nothing, only the order of the steps");
        var score = scored.GetColumn<float>("Score").ToArray();
        var probability = scored.GetColumn<float>("Probability").ToArray();
        var predicted = scored.GetColumn<bool>("PredictedLabel").ToArray();
        for (int i = 0; i < score.Length; i++)
        {
            Assert.AreEqual(1 / (1 + Math.Exp(-score[i])), probability[i], 1e-5, "Probability is the sigmoid of Score");
            Assert.AreEqual(score[i] > 0, predicted[i], "PredictedLabel is Score > 0");
        }
    }

    [TestMethod]
    public void ASavedBinarySequenceClassifierScoresInAProcessWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        var train = context.Data.LoadFromEnumerable(Rows(120, 1));
        var model = context.BinaryClassification.Trainers.SequenceClassifier(Options()).Fit(train);
        var rows = Rows(12, 5);
        var expected = model.Transform(context.Data.LoadFromEnumerable(rows)).GetColumn<float>("Probability").ToArray();

        var output = ML.DeepExtensions.Tests.MLNet.SavedModelInAnotherProcessTests.ScoreElsewhere(context, model, train.Schema, [.. rows.Select(r => r.Features)]);

        var header = output[0].Split('\t').ToList();
        CollectionAssert.AreEquivalent(new[] { "Score", "Probability", "PredictedLabel" }, header);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.AreEqual(expected[i], float.Parse(output[i + 1].Split('\t')[header.IndexOf("Probability")], CultureInfo.InvariantCulture), 1e-5, $"row {i}");
        }
    }

    [TestMethod]
    public void ANonBooleanLabelAndBadOptionsAreRejected()
    {
        var context = new MLContext(seed: 1);
        var catalog = context.BinaryClassification.Trainers;
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => catalog.SequenceClassifier(new SequenceBinaryClassifierOptions { PositiveClassWeight = 0 }));
        Assert.ThrowsExactly<ArgumentException>(() => catalog.SequenceClassifier(new SequenceBinaryClassifierOptions { Architecture = [Layer.Dense(3)] }));
        var keyed = context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(Rows(20, 1))).Transform(context.Data.LoadFromEnumerable(Rows(20, 1)));
        var e = Assert.ThrowsExactly<ArgumentException>(() => catalog.SequenceClassifier(Options()).Fit(keyed));
        StringAssert.Contains(e.Message, "Label");
    }
}
