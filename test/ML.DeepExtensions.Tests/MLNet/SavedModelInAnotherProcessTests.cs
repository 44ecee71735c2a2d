using ML.DeepExtensions.Vision;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;

namespace ML.DeepExtensions.Tests.MLNet;

/// <summary>
/// A model saved here (an MLP or a Fashion-MNIST CNN) is loaded and scored by
/// test/ML.DeepExtensions.ModelLoadCheck, a separate program whose project references only
/// Microsoft.ML and the ONNX packages.
/// </summary>
[TestClass]
public sealed class SavedModelInAnotherProcessTests
{
    private static readonly string LoadCheckPath = typeof(SavedModelInAnotherProcessTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelLoadCheckPath").Value!;

    [TestMethod]
    public void TheLoadCheckProgramDependsOnNeitherThisLibraryNorTorchSharp()
    {
        string deps = File.ReadAllText(Path.ChangeExtension(LoadCheckPath, ".deps.json"));

        Assert.DoesNotContain("TorchSharp", deps, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("ML.DeepExtensions/", deps, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxTransformer", deps, StringComparison.Ordinal);
    }

    [TestMethod]
    public void AMulticlassModelScoresTheSameInAProcessWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        var rows = TabularFixtures.Rows(200);
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, rows)).Transform(TabularFixtures.Load(context, rows));
        var model = context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [16], epochs: 10).Fit(data);
        var test = TabularFixtures.Rows(25, seed: 9);
        var expected = model.Transform(TabularFixtures.Load(context, test));
        var expectedScores = expected.GetColumn<float[]>("Score").ToArray();
        var expectedLabels = context.Transforms.Conversion.MapKeyToValue("Name", "PredictedLabel").Fit(expected).Transform(expected)
            .GetColumn<string>("Name").ToArray();

        var output = ScoreElsewhere(context, model, data.Schema, test);

        var header = output[0].Split('\t').ToList();
        CollectionAssert.AreEquivalent(new[] { "Score", "PredictedLabel" }, header);
        Assert.HasCount(test.Count + 1, output);
        for (int i = 0; i < test.Count; i++)
        {
            var fields = output[i + 1].Split('\t');
            var scores = fields[header.IndexOf("Score")].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.IsLessThanOrEqualTo(1e-5, scores.Zip(expectedScores[i], (a, b) => Math.Abs(a - b)).Max());
            Assert.AreEqual(expectedLabels[i], fields[header.IndexOf("PredictedLabel")]);
        }
    }

    [TestMethod]
    public void ABinaryModelScoresTheSameInAProcessWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        var rows = TabularFixtures.Rows(200);
        var data = context.Transforms.CopyColumns("Label", "IsPositive").Fit(TabularFixtures.Load(context, rows)).Transform(TabularFixtures.Load(context, rows));
        var model = context.BinaryClassification.Trainers.Mlp(hiddenLayers: [16], epochs: 10).Fit(data);
        var test = TabularFixtures.Rows(25, seed: 9);
        var expected = model.Transform(TabularFixtures.Load(context, test));
        var probabilities = expected.GetColumn<float>("Probability").ToArray();
        var predicted = expected.GetColumn<bool>("PredictedLabel").ToArray();

        var output = ScoreElsewhere(context, model, data.Schema, test);

        var header = output[0].Split('\t').ToList();
        CollectionAssert.AreEquivalent(new[] { "Score", "PredictedLabel", "Probability" }, header);
        Assert.HasCount(test.Count + 1, output);
        for (int i = 0; i < test.Count; i++)
        {
            var fields = output[i + 1].Split('\t');
            Assert.AreEqual(probabilities[i], float.Parse(fields[header.IndexOf("Probability")], CultureInfo.InvariantCulture), 1e-5);
            Assert.AreEqual(predicted[i] ? "true" : "false", fields[header.IndexOf("PredictedLabel")]);
        }
    }

    [TestMethod]
    public void AFashionMnistCnnScoresTheSameInAProcessWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        string directory = Path.GetDirectoryName(TestData.DebianDatasets.FashionMnist("t10k-images-idx3-ubyte.gz"))!;
        var train = context.Data.LoadFashionMnist(FashionMnistSplit.Test, directory, maxRows: 512);
        var model = context.MulticlassClassification.Trainers.ImageClassifier(architecture: Architectures.SmallResNet, epochs: 1).Fit(train);
        var test = context.Data.LoadFashionMnist(FashionMnistSplit.Train, directory, maxRows: 20);
        var expected = model.Transform(test);
        var expectedScores = expected.GetColumn<float[]>("Score").ToArray();
        var expectedLabels = context.Transforms.Conversion.MapKeyToValue("Name", "PredictedLabel").Fit(expected).Transform(expected)
            .GetColumn<string>("Name").ToArray();
        var pixels = test.GetColumn<float[]>("Features").ToArray();

        var output = ScoreElsewhere(context, model, train.Schema, pixels);

        var header = output[0].Split('\t').ToList();
        Assert.HasCount(pixels.Length + 1, output);
        for (int i = 0; i < pixels.Length; i++)
        {
            var fields = output[i + 1].Split('\t');
            var scores = fields[header.IndexOf("Score")].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.IsLessThanOrEqualTo(1e-5, scores.Zip(expectedScores[i], (a, b) => Math.Abs(a - b)).Max());
            Assert.AreEqual(expectedLabels[i], fields[header.IndexOf("PredictedLabel")]);
        }
    }

    private static string[] ScoreElsewhere(MLContext context, ITransformer model, DataViewSchema schema, List<TabularFixtures.Row> rows) =>
        ScoreElsewhere(context, model, schema, rows.Select(r => r.Features).ToArray());

    internal static string[] ScoreElsewhere(MLContext context, ITransformer model, DataViewSchema schema, float[][] features)
    {
        string directory = Directory.CreateTempSubdirectory("mldx-loadcheck-").FullName;
        try
        {
            string modelPath = Path.Combine(directory, "model.zip");
            string featuresPath = Path.Combine(directory, "features.csv");
            context.Model.Save(model, schema, modelPath);
            File.WriteAllLines(featuresPath, features.Select(row => string.Join(',', row.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))));

            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(LoadCheckPath);
            start.ArgumentList.Add(modelPath);
            start.ArgumentList.Add(featuresPath);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.IsTrue(process.WaitForExit(120_000), "the load-check program did not finish in time");
            Assert.AreEqual(0, process.ExitCode, stderr.Result);
            return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
