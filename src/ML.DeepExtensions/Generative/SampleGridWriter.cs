using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>Writes generated images as one PNG grid (SkiaSharp, which ImageAnalytics and the plots use too).</summary>
internal static class SampleGridWriter
{
    /// <summary>
    /// A grid from fixed noise (its own random generator, so writing it does not change training):
    /// a conditional model shows one class per row, an unconditional one <see cref="SampleGridOptions.Rows"/> rows.
    /// </summary>
    public static void Write(string path, nn.Module<Tensor, Tensor> generator, ImageGanOptions options, long[] imageShape, string[]? classNames, int seed, Device device)
    {
        var grid = options.SampleGrid!;
        int rows = classNames?.Length ?? grid.Rows;
        int columns = grid.Columns;
        float[] pixels;
        bool wasTraining = generator.training;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            generator.eval();
            using var random = new Generator((ulong)seed);
            var noise = randn([rows * columns, options.NoiseSize], generator: random).to(device);
            if (classNames is not null)
            {
                var classes = arange(rows, dtype: ScalarType.Float32).repeat_interleave(columns).unsqueeze(1).to(device);
                noise = cat([noise, classes], 1);
            }

            pixels = generator.forward(noise).cpu().contiguous().data<float>().ToArray();
        }

        generator.train(wasTraining);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        WritePng(path, pixels, rows * columns, imageShape, columns, minimum: -1, maximum: 1);
    }

    /// <summary>Writes <paramref name="count"/> images [C, H, W] (1 or 3 channels), scaled from [minimum, maximum], <paramref name="columns"/> per row with a 2-pixel gap.</summary>
    public static void WritePng(string path, float[] pixels, int count, long[] imageShape, int columns, float minimum, float maximum)
    {
        int channels = (int)imageShape[0], height = (int)imageShape[1], width = (int)imageShape[2];
        if (channels is not (1 or 3))
        {
            throw new ArgumentException($"A sample grid shows images of 1 or 3 channels; these have {channels}.", nameof(imageShape));
        }

        const int Gap = 2;
        int rows = (count + columns - 1) / columns;
        using var bitmap = new SKBitmap((columns * (width + Gap)) + Gap, (rows * (height + Gap)) + Gap, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(SKColors.White);
        int plane = height * width;
        for (int i = 0; i < count; i++)
        {
            int left = Gap + ((i % columns) * (width + Gap));
            int top = Gap + ((i / columns) * (height + Gap));
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    int at = (i * channels * plane) + (y * width) + x;
                    byte r = Byte(pixels[at], minimum, maximum);
                    byte g = channels == 3 ? Byte(pixels[at + plane], minimum, maximum) : r;
                    byte b = channels == 3 ? Byte(pixels[at + (2 * plane)], minimum, maximum) : r;
                    bitmap.SetPixel(left + x, top + y, new SKColor(r, g, b));
                }
            }
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        string temporary = path + ".tmp";
        using (var file = File.Create(temporary))
        {
            data.SaveTo(file);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static byte Byte(float value, float minimum, float maximum) =>
        (byte)Math.Clamp(Math.Round((value - minimum) / (maximum - minimum) * 255.0), 0, 255);
}
