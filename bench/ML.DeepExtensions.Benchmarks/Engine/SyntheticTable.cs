using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary>
/// A seeded synthetic classification table: each class is a Gaussian blob around its own random
/// centre, so the network has something to learn, and each feature has its own scale and offset,
/// so the standardisation layer does real work. Held both as flat arrays (for the raw loop) and
/// as an ML.NET data view (for the pipeline), with identical values.
/// </summary>
internal sealed class SyntheticTable
{
    private SyntheticTable(int rows, int features, int classes, float[] values, long[] labels)
    {
        Rows = rows;
        Features = features;
        Classes = classes;
        Values = values;
        Labels = labels;
    }

    public int Rows { get; }

    public int Features { get; }

    public int Classes { get; }

    /// <summary>Row-major features, <see cref="Rows"/> × <see cref="Features"/>.</summary>
    public float[] Values { get; }

    /// <summary>Class indices 0..K-1.</summary>
    public long[] Labels { get; }

    public static SyntheticTable Create(int rows, int features, int classes, int seed)
    {
        var random = new Random(seed);
        var centres = new float[classes * features];
        for (int i = 0; i < centres.Length; i++)
        {
            centres[i] = (float)(random.NextDouble() * 2 - 1);
        }

        var scales = Enumerable.Range(0, features).Select(_ => (float)Math.Pow(10, random.Next(-1, 3))).ToArray();
        var values = new float[rows * features];
        var labels = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            int c = random.Next(classes);
            labels[r] = c;
            for (int f = 0; f < features; f++)
            {
                values[(r * features) + f] = (centres[(c * features) + f] + (float)Gaussian(random)) * scales[f];
            }
        }

        return new SyntheticTable(rows, features, classes, values, labels);
    }

    /// <summary>
    /// The table as an ML.NET data view: <c>Features</c> Vector&lt;Single, F&gt; and a key <c>Label</c>
    /// made the usual way (MapValueToKey over the class number), held in ML.NET's in-memory cache as
    /// a multi-epoch trainer's input usually is.
    /// </summary>
    public IDataView ToDataView(MLContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = new List<Row>(Rows);
        for (int r = 0; r < Rows; r++)
        {
            rows.Add(new Row { Features = Values.AsSpan(r * Features, Features).ToArray(), Label = Labels[r] });
        }

        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Features);
        var view = context.Data.LoadFromEnumerable(rows, schema);
        // Keys in class-number order, so key k+1 is class k as in the raw loop's labels.
        var keyed = context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(view).Transform(view);
        var cached = context.Data.Cache(keyed);
        using var cursor = cached.GetRowCursor(cached.Schema);
        while (cursor.MoveNext())
        {
        }

        return cached;
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller.
        double u = 1.0 - random.NextDouble();
        double v = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }
}
