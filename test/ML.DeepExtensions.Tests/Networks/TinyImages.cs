using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>
/// Generated 1×8×8 (or 1×16×16) images whose class decides where a bright bar lies, so a small CNN learns
/// them in a few epochs: classes 0–3 are the four quadrants, 4–7 horizontal bars, 8–9 diagonals.
/// </summary>
internal static class TinyImages
{
    public const int Size = 8;

    public sealed class Image
    {
        [VectorType(1, Size, Size)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class LargeImage
    {
        [VectorType(1, 2 * Size, 2 * Size)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public static List<Image> Rows(int count, int[] classes, int seed) =>
        Pixels(count, classes, seed, Size).Select(p => new Image { Features = p.Pixels, Label = $"class{p.Class}" }).ToList();

    public static List<LargeImage> LargeRows(int count, int[] classes, int seed) =>
        Pixels(count, classes, seed, 2 * Size).Select(p => new LargeImage { Features = p.Pixels, Label = $"class{p.Class}" }).ToList();

    /// <summary>Loads the rows with a key label whose class names are in ascending order.</summary>
    public static IDataView Load(MLContext context, IEnumerable<object> rows, int[] classes)
    {
        var list = rows.ToList();
        var data = list[0] is Image ? context.Data.LoadFromEnumerable(list.Cast<Image>()) : context.Data.LoadFromEnumerable(list.Cast<LargeImage>());
        var keys = context.Data.LoadFromEnumerable(classes.Select(c => new KeyRow { Label = $"class{c}" }));
        return context.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(data).Transform(data);
    }

    private sealed class KeyRow
    {
        public string Label { get; set; } = "";
    }

    private static IEnumerable<(float[] Pixels, int Class)> Pixels(int count, int[] classes, int seed, int size)
    {
        var random = new Random(seed);
        int half = size / 2;
        for (int n = 0; n < count; n++)
        {
            int c = classes[random.Next(classes.Length)];
            var pixels = new float[size * size];
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    bool on = c switch
                    {
                        < 4 => (y < half) == (c < 2) && (x < half) == (c % 2 == 0),
                        < 8 => y * 4 / size == c - 4,
                        8 => x == y,
                        _ => x == size - 1 - y,
                    };
                    pixels[(y * size) + x] = (float)((on ? 200 : 30) + (random.NextDouble() * 40));
                }
            }

            yield return (pixels, c);
        }
    }
}
