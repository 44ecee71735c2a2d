using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Generative;

namespace ML.DeepExtensions.Tests.Generative;

/// <summary>Tiny 1x8x8 images of three classes (a bright top, left or diagonal), pixels 0 to 255.</summary>
internal static class GanFixtures
{
    public const int Size = 8;

    public static readonly string[] Classes = ["top", "left", "diagonal"];

    public sealed class ImageRow
    {
        [VectorType(1, Size, Size)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = string.Empty;
    }

    public sealed class FlatRow
    {
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = string.Empty;
    }

    public static ImageRow[] Rows(int count, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            int kind = i % Classes.Length;
            var pixels = new float[Size * Size];
            for (int y = 0; y < Size; y++)
            {
                for (int x = 0; x < Size; x++)
                {
                    bool on = kind switch { 0 => y < Size / 2, 1 => x < Size / 2, _ => Math.Abs(x - y) <= 1 };
                    pixels[(y * Size) + x] = Math.Clamp((on ? 220f : 30f) + (float)(random.NextDouble() * 30 - 15), 0, 255);
                }
            }

            return new ImageRow { Features = pixels, Label = Classes[kind] };
        }).ToArray();
    }

    /// <summary>The images with a key label whose key values are the class names.</summary>
    public static IDataView Keyed(MLContext context, int count = 48) =>
        context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(Rows(count))).Transform(context.Data.LoadFromEnumerable(Rows(count)));

    /// <summary>Small, fast settings: 4 base filters, noise 8, batches of 16.</summary>
    public static ImageGanOptions Options(string? label = "Label", int epochs = 2, int? seed = 7) => new()
    {
        LabelColumnName = label,
        NoiseSize = 8,
        BaseFilters = 4,
        LabelEmbeddingSize = 4,
        Epochs = epochs,
        Seed = seed,
        Data = { BatchSize = 16 },
    };
}
