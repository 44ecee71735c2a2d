using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Benchmarks.Data;

/// <summary>
/// One of the small CSV data sets that scikit-learn bundles (taken from Debian's python3-sklearn by
/// scripts/fetch-data.sh): <see cref="FeatureCount"/> float columns, then an integer class label.
/// </summary>
internal sealed record SklearnDataset(string Name, string FileName, int FeatureCount, int ClassCount, bool HasHeader)
{
    /// <summary>150 rows, 4 features, 3 classes; the first line is a "rows,features,names..." header.</summary>
    public static SklearnDataset Iris { get; } = new("iris", "iris.csv", 4, 3, HasHeader: true);

    /// <summary>178 rows, 13 features, 3 classes; header line.</summary>
    public static SklearnDataset Wine { get; } = new("wine", "wine_data.csv", 13, 3, HasHeader: true);

    /// <summary>569 rows, 30 features, label 0 = malignant, 1 = benign; header line.</summary>
    public static SklearnDataset BreastCancer { get; } = new("breast_cancer", "breast_cancer.csv", 30, 2, HasHeader: true);

    /// <summary>1,797 rows of 8x8 pixel counts (0..16), 10 classes; gzip, no header.</summary>
    public static SklearnDataset Digits { get; } = new("digits", "digits.csv.gz", 64, 10, HasHeader: false);

    private const string SystemDirectory = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    /// <summary>
    /// Loads the file as columns <c>Features</c> (Vector&lt;Single, F&gt;) and <c>Label</c>: Single
    /// for multiclass (key it with MapValueToKey), Boolean when <paramref name="booleanLabel"/>.
    /// The rows are copied into memory, so nothing is read from disk while a trainer is timed.
    /// </summary>
    public IDataView Load(MLContext context, bool booleanLabel = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        string path = Locate();
        string? temporary = null;
        try
        {
            if (path.EndsWith(".gz", StringComparison.Ordinal))
            {
                // TextLoader reads plain text only.
                temporary = Path.Combine(Path.GetTempPath(), $"mldx-bench-{Guid.NewGuid():N}.csv");
                using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
                using var output = File.Create(temporary);
                input.CopyTo(output);
                path = temporary;
            }

            var loaded = context.Data.LoadFromTextFile(path, new TextLoader.Options
            {
                Separators = [','],
                HasHeader = HasHeader,
                Columns =
                [
                    new TextLoader.Column("Features", DataKind.Single, 0, FeatureCount - 1),
                    new TextLoader.Column("Label", booleanLabel ? DataKind.Boolean : DataKind.Single, FeatureCount),
                ],
            });
            return InMemory(context, loaded, booleanLabel);
        }
        finally
        {
            if (temporary is not null)
            {
                File.Delete(temporary);
            }
        }
    }

    private IDataView InMemory(MLContext context, IDataView loaded, bool booleanLabel)
    {
        var features = loaded.GetColumn<float[]>("Features").ToArray();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, FeatureCount);
        if (booleanLabel)
        {
            var labels = loaded.GetColumn<bool>("Label").ToArray();
            var rows = features.Zip(labels, (f, l) => new BinaryRow { Features = f, Label = l }).ToList();
            var binarySchema = SchemaDefinition.Create(typeof(BinaryRow));
            binarySchema[nameof(BinaryRow.Features)].ColumnType = schema[nameof(Row.Features)].ColumnType;
            return context.Data.LoadFromEnumerable(rows, binarySchema);
        }

        var classes = loaded.GetColumn<float>("Label").ToArray();
        return context.Data.LoadFromEnumerable(features.Zip(classes, (f, l) => new Row { Features = f, Label = l }).ToList(), schema);
    }

    private string Locate()
    {
        var candidates = new List<string>();
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ML.DeepExtensions.sln")))
            {
                candidates.Add(Path.Combine(directory.FullName, ".data", "sklearn", FileName));
                break;
            }
        }

        candidates.Add(Path.Combine(SystemDirectory, FileName));
        return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException(
            $"{FileName} not found (looked in {string.Join(", ", candidates)}). Run 'bash scripts/fetch-data.sh' from the repository root.",
            FileName);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    private sealed class BinaryRow
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }
}
