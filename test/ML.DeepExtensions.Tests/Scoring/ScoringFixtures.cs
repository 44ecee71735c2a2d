using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Vision;

namespace ML.DeepExtensions.Tests.Scoring;

/// <summary>Deletes the fixtures' saved models when the test run ends.</summary>
[TestClass]
public static class ScoringFixturesCleanup
{
    [AssemblyCleanup]
    public static void DeleteSavedModels() => ScoringFixtures.DeleteAll();
}

/// <summary>Small saved models of every family, trained once per test run and loaded back from their zips.</summary>
internal static class ScoringFixtures
{
    public static void DeleteAll()
    {
        lock (Gate)
        {
            if (Directory.IsValueCreated)
            {
                System.IO.Directory.Delete(Directory.Value, recursive: true);
            }
        }
    }

    private static readonly Lazy<string> Directory = new(() => System.IO.Directory.CreateTempSubdirectory("mldx-scoring-").FullName);
    private static readonly Dictionary<string, string> Saved = [];
    private static readonly Lock Gate = new();

    public static string FashionMnistDirectory => Path.GetDirectoryName(Tests.TestData.DebianDatasets.FashionMnist("t10k-images-idx3-ubyte.gz"))!;

    /// <summary>The zip of a small model: "multiclass", "binary", "regression" (MLPs over <see cref="TabularFixtures"/>), "cnn" (SmallVgg on Fashion-MNIST) or "chain" (an MLP between ML.NET transforms).</summary>
    public static string ModelPath(string kind)
    {
        lock (Gate)
        {
            if (!Saved.TryGetValue(kind, out var path))
            {
                path = Path.Combine(Directory.Value, kind + ".zip");
                var context = new MLContext(seed: 1);
                var (model, schema) = Train(context, kind);
                context.Model.Save(model, schema, path);
                Saved[kind] = path;
            }

            return path;
        }
    }

    /// <summary>Rows the model of <paramref name="kind"/> can score (not the training rows).</summary>
    public static IDataView TestData(MLContext context, string kind, int rows = 37) => kind switch
    {
        "cnn" => context.Data.LoadFashionMnist(FashionMnistSplit.Train, FashionMnistDirectory, maxRows: rows),
        "chain" => context.Data.LoadFromEnumerable(ChainRows(rows, seed: 9)),
        _ => TabularFixtures.Load(context, TabularFixtures.Rows(rows, seed: 9)),
    };

    private static (ITransformer, DataViewSchema) Train(MLContext context, string kind)
    {
        if (kind == "cnn")
        {
            var images = context.Data.LoadFashionMnist(FashionMnistSplit.Test, FashionMnistDirectory, maxRows: 128);
            var cnn = context.MulticlassClassification.Trainers.ImageClassifier(architecture: Architectures.SmallVgg, epochs: 1).Fit(images);
            return (cnn, images.Schema);
        }

        if (kind == "chain")
        {
            var data = context.Data.LoadFromEnumerable(ChainRows(200, seed: 1));
            var pipeline = context.Transforms.Concatenate("Features", nameof(ChainRow.A), nameof(ChainRow.B), nameof(ChainRow.C))
                .Append(context.Transforms.Conversion.MapValueToKey("Label", nameof(ChainRow.Category)))
                .Append(context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [8], epochs: 5))
                .Append(context.Transforms.Conversion.MapKeyToValue("PredictedCategory", "PredictedLabel"));
            return (pipeline.Fit(data), data.Schema);
        }

        var rows = TabularFixtures.Load(context, TabularFixtures.Rows(200));
        if (kind == "multiclass")
        {
            // The key mapping of the label is part of this model: a chain with an ML.NET transform before the network.
            var multiclass = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [16], epochs: 5));
            return (multiclass.Fit(rows), rows.Schema);
        }

        // The label is prepared outside the model, so scoring needs only the features.
        string label = kind == "binary" ? nameof(TabularFixtures.Row.IsPositive) : kind == "regression" ? nameof(TabularFixtures.Row.Target) : throw new ArgumentException(kind);
        var labelled = context.Transforms.CopyColumns("Label", label).Fit(rows).Transform(rows);
        ITransformer model = kind == "binary"
            ? context.BinaryClassification.Trainers.Mlp(hiddenLayers: [16], epochs: 5).Fit(labelled)
            : context.Regression.Trainers.Mlp(hiddenLayers: [16], epochs: 5).Fit(labelled);
        return (model, labelled.Schema);
    }

    public sealed class ChainRow
    {
        public string Id { get; set; } = "";

        public float A { get; set; }

        public float B { get; set; }

        public float C { get; set; }

        public string Category { get; set; } = "";
    }

    public static List<ChainRow> ChainRows(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            int c = random.Next(3);
            return new ChainRow
            {
                Id = $"row-{seed}-{i}",
                A = (float)((c == 0 ? 2 : 0) + random.NextDouble()),
                B = (float)((c == 1 ? 2 : 0) + random.NextDouble()),
                C = (float)((c == 2 ? 2 : 0) + random.NextDouble()),
                Category = ((char)('x' + c)).ToString(),
            };
        }).ToList();
    }
}
