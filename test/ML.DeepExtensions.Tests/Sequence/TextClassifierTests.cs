using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;

namespace ML.DeepExtensions.Tests.Sequence;

[TestClass]
public sealed class TextClassifierTests
{
    private static readonly string LoadCheckPath = typeof(TextClassifierTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelLoadCheckPath").Value!;

    private static IReadOnlyList<NetworkLayer> Small(RecurrentCell cell) =>
    [
        Layer.Embedding(12),
        cell == RecurrentCell.Gru ? Layer.Gru(12, bidirectional: true) : Layer.Lstm(12, bidirectional: true),
        Layer.SequencePooling(SequencePoolingMode.Max),
    ];

    private static TextMulticlassOptions RawText(RecurrentCell cell = RecurrentCell.Lstm) => new()
    {
        TextColumnName = "Text",
        Architecture = Small(cell),
        Epochs = 6,
        Seed = 7,
        Optimizer = new() { LearningRate = 0.01 },
        Data = { BatchSize = 16 },
    };

    [TestMethod]
    public void RawTextTrainsEvaluatesAndScoresTheSameAfterSaving()
    {
        var context = new MLContext(seed: 1);
        var label = context.Transforms.Conversion.MapValueToKey("Label").Fit(TextFixtures.Load(context, TextFixtures.Rows(300)));
        var train = label.Transform(TextFixtures.Load(context, TextFixtures.Rows(300)));
        var test = label.Transform(TextFixtures.Load(context, TextFixtures.Rows(90, seed: 4)));

        var model = context.MulticlassClassification.Trainers.TextClassifier(RawText()).Fit(train);
        var scored = model.Transform(test);
        var metrics = context.MulticlassClassification.Evaluate(scored);

        Assert.IsGreaterThan(0.9, metrics.MacroAccuracy, $"macro accuracy {metrics.MacroAccuracy}");
        Assert.AreEqual(3, ((VectorDataViewType)scored.Schema["Score"].Type).Size);
        Assert.IsInstanceOfType<KeyDataViewType>(scored.Schema["PredictedLabel"].Type);

        using var stream = new MemoryStream();
        context.Model.Save(model, train.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        var before = scored.GetColumn<float[]>("Score").ToArray();
        var after = loaded.Transform(test).GetColumn<float[]>("Score").ToArray();
        Assert.IsLessThanOrEqualTo(1e-6, before.Zip(after, (b, a) => b.Zip(a, (x, y) => Math.Abs(x - y)).Max()).Max());
        (loaded as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void ScoresThroughMLNetMatchTheNetworkOnPaddedBatches()
    {
        var context = new MLContext(seed: 1);
        var rows = TextFixtures.Rows(120);
        var label = context.Transforms.Conversion.MapValueToKey("Label").Fit(TextFixtures.Load(context, rows));
        var train = label.Transform(TextFixtures.Load(context, rows));
        var model = context.MulticlassClassification.Trainers.TextClassifier(RawText(RecurrentCell.Gru)).Fit(train);

        string[] texts = ["apple", "", "zebra quagga", "the big iron road near the house and some snow", "wind!"];
        var scored = model.Transform(context.Data.LoadFromEnumerable(texts.Select(t => new TextFixtures.Row { Text = t })));
        var viaMLNet = scored.GetColumn<float[]>("Score").ToArray();
        var keys = scored.GetColumn<VBuffer<uint>>("Tokens").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.IsEmpty(keys[1], "an empty text has no tokens");
        Assert.IsTrue(keys[2].All(k => k == 0), "unknown words are ML.NET's missing key 0");

        int steps = keys.Max(k => k.Length) + 3;
        var ids = new long[texts.Length * steps];
        for (int row = 0; row < texts.Length; row++)
        {
            for (int t = 0; t < keys[row].Length; t++)
            {
                ids[(row * steps) + t] = keys[row][t] + 1;
            }
        }

        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        var probabilities = TorchSharp.torch.softmax(model.Network.forward(TorchSharp.torch.tensor(ids, [texts.Length, steps])), 1).data<float>().ToArray();
        double max = 0;
        for (int row = 0; row < texts.Length; row++)
        {
            Assert.IsTrue(viaMLNet[row].All(float.IsFinite), $"row {row} scores are finite");
            for (int k = 0; k < 3; k++)
            {
                max = Math.Max(max, Math.Abs(viaMLNet[row][k] - probabilities[(row * 3) + k]));
            }
        }

        Assert.IsLessThanOrEqualTo(1e-5, max, $"ML.NET scores vs the network on a padded batch: {max:E2}");
    }

    [TestMethod]
    public void ATokenKeyColumnTrainsAGruClassifier()
    {
        var context = new MLContext(seed: 1);
        var tokens = context.Transforms.Text.TokenizeIntoWords("Words", "Text")
            .Append(context.Transforms.Conversion.MapValueToKey("Words"))
            .Append(context.Transforms.Conversion.MapValueToKey("Label"))
            .Fit(TextFixtures.Load(context, TextFixtures.Rows(300)));
        var train = tokens.Transform(TextFixtures.Load(context, TextFixtures.Rows(300)));
        var test = tokens.Transform(TextFixtures.Load(context, TextFixtures.Rows(90, seed: 4)));
        var options = new TextMulticlassOptions
        {
            FeatureColumnName = "Words",
            Architecture = [Layer.Embedding(12), Layer.Gru(12), Layer.SequencePooling(SequencePoolingMode.Attention)],
            Epochs = 8,
            Seed = 7,
            Optimizer = new() { LearningRate = 0.01 },
            Data = { BatchSize = 16 },
        };

        var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(train);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(test));

        Assert.IsGreaterThan(0.85, metrics.MacroAccuracy, $"macro accuracy {metrics.MacroAccuracy}");
        StringAssert.Contains(model.Description.Summary(), "Embedding(12, vocabulary");
    }

    [TestMethod]
    public void ABinaryClassifierOfRawTextGivesScoreProbabilityAndLabel()
    {
        var context = new MLContext(seed: 1);
        var train = context.Transforms.CopyColumns("Label", "IsPositive").Fit(TextFixtures.Load(context, TextFixtures.Rows(300))).Transform(TextFixtures.Load(context, TextFixtures.Rows(300)));
        var test = context.Transforms.CopyColumns("Label", "IsPositive").Fit(train).Transform(TextFixtures.Load(context, TextFixtures.Rows(90, seed: 4)));
        var options = new TextBinaryOptions { TextColumnName = "Text", Architecture = Small(RecurrentCell.Lstm), Epochs = 6, Seed = 7, Optimizer = new() { LearningRate = 0.01 }, Data = { BatchSize = 16 } };

        var model = context.BinaryClassification.Trainers.TextClassifier(options).Fit(train);
        var metrics = context.BinaryClassification.Evaluate(model.Transform(test));

        Assert.IsGreaterThan(0.95, metrics.AreaUnderRocCurve, $"AUC {metrics.AreaUnderRocCurve}");
        Assert.IsGreaterThan(0.9, metrics.Accuracy, $"accuracy {metrics.Accuracy}");
    }

    [TestMethod]
    public void ASavedRawTextModelScoresTheSameInAProcessWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        var rows = TextFixtures.Rows(150);
        var label = context.Transforms.Conversion.MapValueToKey("Label").Fit(TextFixtures.Load(context, rows));
        var train = label.Transform(TextFixtures.Load(context, rows));
        var model = context.MulticlassClassification.Trainers.TextClassifier(RawText()).Fit(train);
        string[] texts = ["some plum near the road.", "", "zzz qqq", "COPPER!", string.Join(' ', Enumerable.Repeat("snow", 400))];
        var expected = model.Transform(context.Data.LoadFromEnumerable(texts.Select(t => new TextFixtures.Row { Text = t }))).GetColumn<float[]>("Score").ToArray();

        string directory = Directory.CreateTempSubdirectory("mldx-text-").FullName;
        try
        {
            string modelPath = Path.Combine(directory, "model.zip");
            string textPath = Path.Combine(directory, "texts.txt");
            // Saved with only the text column as input, as an application would feed it.
            var inputSchema = context.Data.LoadFromEnumerable(new[] { new TextOnly() }).Schema;
            context.Model.Save(model, inputSchema, modelPath);
            File.WriteAllLines(textPath, texts);
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { LoadCheckPath, "--text", modelPath, textPath })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.IsTrue(process.WaitForExit(120_000), "the load-check program did not finish in time");
            Assert.AreEqual(0, process.ExitCode, stderr.Result);
            var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
            var header = lines[0].Split('\t').ToList();
            CollectionAssert.AreEquivalent(new[] { "Score", "PredictedLabel" }, header);
            Assert.HasCount(texts.Length + 1, lines);
            for (int i = 0; i < texts.Length; i++)
            {
                var scores = lines[i + 1].Split('\t')[header.IndexOf("Score")].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                Assert.IsLessThanOrEqualTo(1e-5, scores.Zip(expected[i], (a, b) => Math.Abs(a - b)).Max(), $"text {i}");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class TextOnly
    {
        public string Text { get; set; } = "";
    }
}
