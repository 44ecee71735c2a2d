using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.TestData;

namespace ML.DeepExtensions.Tests.Tabular;

/// <summary>
/// Integration tests on the CSVs Debian's python3-sklearn bundles, with a fixed seeded 80/20 split.
/// Each floor sits well above what a broken model reaches (the majority-class rate is given) and
/// below what the MLP reached when the floors were set, leaving room for CPU-level differences.
/// </summary>
[TestClass]
public sealed class RealDataTests
{
    private static readonly string DigitsCsv = Path.Combine(Path.GetTempPath(), $"mldx-digits-{Environment.ProcessId}.csv");

    public TestContext TestContext { get; set; } = null!;

    [ClassCleanup]
    public static void DeleteDecompressedFiles() => File.Delete(DigitsCsv);

    [TestMethod]
    public void IrisReachesTheAccuracyFloor()
    {
        // 3 balanced classes: a constant guess scores 0.33. Measured 0.958 (23 of 24 test rows).
        double accuracy = TrainMulticlass("iris.csv", features: 4, hasHeader: true, new MlpMulticlassOptions { HiddenLayers = [16], Epochs = 60, Data = { BatchSize = 16 } });
        Assert.IsGreaterThanOrEqualTo(0.85, accuracy);
    }

    [TestMethod]
    public void WineReachesTheAccuracyFloor()
    {
        // Largest class is 40%. Measured 1.000.
        double accuracy = TrainMulticlass("wine_data.csv", features: 13, hasHeader: true, new MlpMulticlassOptions { HiddenLayers = [32], Epochs = 40, Data = { BatchSize = 16 } });
        Assert.IsGreaterThanOrEqualTo(0.92, accuracy);
    }

    [TestMethod]
    public void DigitsReachesTheAccuracyFloor()
    {
        // 10 balanced classes: a constant guess scores 0.10. Measured 0.974.
        double accuracy = TrainMulticlass("digits.csv.gz", features: 64, hasHeader: false, new MlpMulticlassOptions { HiddenLayers = [128, 64], Epochs = 25, Dropout = 0.1 });
        Assert.IsGreaterThanOrEqualTo(0.92, accuracy);
    }

    [TestMethod]
    public void BreastCancerReachesTheAccuracyAndAucFloors()
    {
        // 63% benign: a constant guess scores 0.63 accuracy and 0.5 AUC. Measured 0.973 and 1.000.
        var context = new MLContext(seed: 1);
        var data = Load(context, "breast_cancer.csv", features: 30, hasHeader: true);
        var split = context.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        var model = context.Transforms.Conversion.ConvertType("Label", "LabelValue", DataKind.Boolean)
            .Append(context.BinaryClassification.Trainers.Mlp(new MlpBinaryOptions { HiddenLayers = [32], Epochs = 40, Dropout = 0.1 }))
            .Fit(split.TrainSet);

        var metrics = context.BinaryClassification.Evaluate(model.Transform(split.TestSet));
        TestContext.WriteLine($"breast_cancer.csv: test accuracy {metrics.Accuracy:F4}, AUC {metrics.AreaUnderRocCurve:F4}");

        Assert.IsGreaterThanOrEqualTo(0.93, metrics.Accuracy);
        Assert.IsGreaterThanOrEqualTo(0.97, metrics.AreaUnderRocCurve);
    }

    private double TrainMulticlass(string file, int features, bool hasHeader, MlpMulticlassOptions options)
    {
        var context = new MLContext(seed: 1);
        var data = Load(context, file, features, hasHeader);
        var split = context.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        var model = context.Transforms.Conversion.MapValueToKey("Label", "LabelValue")
            .Append(context.MulticlassClassification.Trainers.Mlp(options))
            .Fit(split.TrainSet);

        double accuracy = context.MulticlassClassification.Evaluate(model.Transform(split.TestSet)).MicroAccuracy;
        TestContext.WriteLine($"{file}: test accuracy {accuracy:F4}");
        return accuracy;
    }

    /// <summary>Features in the first columns, the label in the last; an optional header line.</summary>
    internal static IDataView Load(MLContext context, string file, int features, bool hasHeader)
    {
        string path = DebianDatasets.SklearnCsv(file);
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            using (var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
            using (var output = File.Create(DigitsCsv))
            {
                input.CopyTo(output);
            }

            path = DigitsCsv;
        }

        return context.Data.LoadFromTextFile(path,
        [
            new TextLoader.Column("Features", DataKind.Single, 0, features - 1),
            new TextLoader.Column("LabelValue", DataKind.Single, features),
        ], separatorChar: ',', hasHeader: hasHeader);
    }
}
