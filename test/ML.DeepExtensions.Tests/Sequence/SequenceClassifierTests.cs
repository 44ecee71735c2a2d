using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using TorchSharp;

namespace ML.DeepExtensions.Tests.Sequence;

[TestClass]
public sealed class SequenceClassifierTests
{
    private const int Steps = 8;

    public sealed class Row
    {
        [VectorType(Steps, 2)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class FlatRow
    {
        [VectorType(Steps * 2)]
        public float[] Flat { get; set; } = [];

        public string Label { get; set; } = "";
    }

    /// <summary>Class "early": a bump in feature 0 in the first half; "late": in the second half; "other": a bump in feature 1. Values around 50 ± 10.</summary>
    private static List<Row> Rows(int count, int seed)
    {
        var random = new Random(seed);
        string[] names = ["early", "late", "other"];
        var rows = new List<Row>();
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(3);
            var values = Enumerable.Range(0, Steps * 2).Select(_ => 50 + (float)(random.NextDouble() * 4)).ToArray();
            int step = label switch { 0 => random.Next(0, 3), 1 => random.Next(5, 8), _ => random.Next(0, 8) };
            values[(step * 2) + (label == 2 ? 1 : 0)] += 10;
            rows.Add(new Row { Features = values, Label = names[label] });
        }

        return rows;
    }

    [TestMethod]
    public void StepOrderIsLearnedAndTheSavedModelRebuildsAndScoresTheSame()
    {
        var context = new MLContext(seed: 1);
        var label = context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(Rows(10, 1)));
        var train = label.Transform(context.Data.LoadFromEnumerable(Rows(400, 1)));
        var test = label.Transform(context.Data.LoadFromEnumerable(Rows(120, 2)));
        var options = new SequenceClassifierOptions
        {
            Architecture = [Layer.Gru(12), Layer.SequencePooling(SequencePoolingMode.Last)],
            Epochs = 12,
            Seed = 3,
            Optimizer = new() { LearningRate = 0.01 },
            Data = { BatchSize = 16 },
        };

        var model = context.MulticlassClassification.Trainers.SequenceClassifier(options).Fit(train);
        var scored = model.Transform(test);
        var metrics = context.MulticlassClassification.Evaluate(scored);
        Assert.IsGreaterThan(0.9, metrics.MacroAccuracy, $"macro accuracy {metrics.MacroAccuracy}: early and late bumps differ only in their step");

        // ML.NET's scores (the ONNX graph, standardisation included) are the softmax of the TorchSharp network's outputs.
        var testRows = Rows(120, 2);
        using (var check = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var probabilities = torch.softmax(model.Network.forward(torch.tensor(testRows.SelectMany(r => r.Features).ToArray(), [testRows.Count, Steps, 2])), 1).data<float>().ToArray();
            var viaMLNet = scored.GetColumn<float[]>("Score").SelectMany(v => v).ToArray();
            Assert.IsLessThanOrEqualTo(1e-5, probabilities.Zip(viaMLNet, (p, q) => Math.Abs(p - q)).Max(), "torch and ONNX Runtime agree");
        }

        string path = Path.Combine(Path.GetTempPath(), $"mldx-sequence-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(model, train.Schema, path);
            var loaded = context.Model.Load(path, out _);
            var before = scored.GetColumn<float[]>("Score").ToArray();
            var after = loaded.Transform(test).GetColumn<float[]>("Score").ToArray();
            Assert.IsLessThanOrEqualTo(1e-6, before.Zip(after, (first, second) => first.Zip(second, (x, y) => Math.Abs(x - y)).Max()).Max());
            (loaded as IDisposable)?.Dispose();

            var rebuilt = PretrainedNetwork.FromModelFile(path).Network;
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            rebuilt.eval();
            var input = torch.tensor(Rows(5, 3).SelectMany(r => r.Features).ToArray(), [5, Steps, 2]);
            var difference = (rebuilt.forward(input) - model.Network.forward(input)).abs().max().item<float>();
            Assert.IsLessThanOrEqualTo(1e-6f, difference, "the network rebuilt from the saved model computes what the trained one did");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AFlatColumnNeedsStepsAndBadArchitecturesAreRejected()
    {
        var context = new MLContext(seed: 1);
        var flatRows = Rows(20, 1).Select(r => new FlatRow { Flat = r.Features, Label = r.Label }).ToList();
        var flat = context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(flatRows)).Transform(context.Data.LoadFromEnumerable(flatRows));
        var e = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.SequenceClassifier(new SequenceClassifierOptions { FeatureColumnName = "Flat", Epochs = 1 }).Fit(flat));
        StringAssert.Contains(e.Message, "Steps and StepFeatures");
        var mismatch = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.SequenceClassifier(new SequenceClassifierOptions { FeatureColumnName = "Flat", Steps = 5, StepFeatures = 2, Epochs = 1 }).Fit(flat));
        StringAssert.Contains(mismatch.Message, "16 per row");

        var catalog = context.MulticlassClassification.Trainers;
        Assert.ThrowsExactly<ArgumentException>(() => catalog.SequenceClassifier(new SequenceClassifierOptions { Architecture = [Layer.Embedding(4, 10), Layer.Lstm(3)] }));
        Assert.ThrowsExactly<ArgumentException>(() => catalog.SequenceClassifier(new SequenceClassifierOptions { Architecture = [Layer.Dense(3)] }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => catalog.SequenceClassifier(new SequenceClassifierOptions { Steps = 4 }));
        var shape = Assert.ThrowsExactly<LayerShapeException>(() => catalog.SequenceClassifier(new SequenceClassifierOptions { Architecture = [Layer.Lstm(3)], Epochs = 1 })
            .Fit(context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(Rows(20, 1))).Transform(context.Data.LoadFromEnumerable(Rows(20, 1)))));
        StringAssert.Contains(shape.Message, "must end flat");
    }

    [TestMethod]
    public void ANaNStepIsNamedWithItsRow()
    {
        var context = new MLContext(seed: 1);
        var rows = Rows(20, 1);
        rows[7].Features[3] = float.NaN;
        var data = context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(rows)).Transform(context.Data.LoadFromEnumerable(rows));
        var e = Assert.ThrowsExactly<ML.DeepExtensions.Data.DataValidationException>(() =>
            context.MulticlassClassification.Trainers.SequenceClassifier(new SequenceClassifierOptions { Architecture = [Layer.Lstm(3, returnSequences: false)], Epochs = 1 }).Fit(data));
        StringAssert.Contains(e.Message, "row 7");
        StringAssert.Contains(e.Message, "'Features'");
    }
}
