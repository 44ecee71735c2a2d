using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Tests.Tabular;

/// <summary>Small generated tabular data sets with a learnable structure.</summary>
internal static class TabularFixtures
{
    public const int FeatureCount = 5;

    public sealed class Row
    {
        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = [];

        public string Category { get; set; } = "";

        public bool IsPositive { get; set; }

        public float Target { get; set; }
    }

    /// <summary>Three well-separated classes; the binary label is class "b"; the target is linear plus noise.</summary>
    public static List<Row> Rows(int count, int seed = 1)
    {
        var random = new Random(seed);
        string[] classes = ["a", "b", "c"];
        var rows = new List<Row>(count);
        for (int i = 0; i < count; i++)
        {
            int c = random.Next(3);
            var features = new float[FeatureCount];
            for (int f = 0; f < FeatureCount; f++)
            {
                // Feature scales differ by orders of magnitude: standardisation inside the network must cope.
                features[f] = (float)(((f % 3 == c ? 3.0 : 0.0) + random.NextDouble()) * Math.Pow(10, f - 2));
            }

            rows.Add(new Row
            {
                Features = features,
                Category = classes[c],
                IsPositive = c == 1,
                Target = (float)((3 * features[0] * 100) - (features[1] * 10) + (0.5 * features[4] / 100) + (random.NextDouble() * 0.1)),
            });
        }

        return rows;
    }

    public static IDataView Load(MLContext context, IEnumerable<Row> rows) => context.Data.LoadFromEnumerable(rows);

    public static IEstimator<ITransformer> KeyLabel(MLContext context) =>
        context.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Category));
}
