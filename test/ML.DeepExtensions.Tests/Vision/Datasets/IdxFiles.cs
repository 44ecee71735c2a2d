using System.Buffers.Binary;
using System.IO.Compression;

namespace ML.DeepExtensions.Tests.Vision.Datasets;

/// <summary>Writes small IDX files for tests, plain or gzip-compressed, well-formed or deliberately broken.</summary>
internal static class IdxFiles
{
    /// <summary>Bytes of an IDX file: magic 0x000008DD, the sizes, then <paramref name="data"/>.</summary>
    public static byte[] Build(int[] dimensions, byte[] data, int? magic = null)
    {
        var bytes = new byte[4 + (4 * dimensions.Length) + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic ?? (0x0800 | dimensions.Length));
        for (int i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dimensions[i]);
        }

        data.CopyTo(bytes, 4 + (4 * dimensions.Length));
        return bytes;
    }

    /// <summary>Image bytes where pixel p of image i is (i * 7 + p) mod 256: every image differs, and every pixel is predictable.</summary>
    public static byte[] ImagePixels(int count, int rows, int columns)
    {
        var pixels = new byte[count * rows * columns];
        for (int i = 0; i < count; i++)
        {
            for (int p = 0; p < rows * columns; p++)
            {
                pixels[(i * rows * columns) + p] = (byte)(((i * 7) + p) % 256);
            }
        }

        return pixels;
    }

    public static string Write(string directory, string name, byte[] content, bool gzip)
    {
        string path = Path.Combine(directory, name);
        if (!gzip)
        {
            File.WriteAllBytes(path, content);
            return path;
        }

        using var file = File.Create(path);
        using var compressor = new GZipStream(file, CompressionLevel.Fastest);
        compressor.Write(content);
        return path;
    }

    /// <summary>Writes an image file and a label file of <paramref name="count"/> items; returns their paths.</summary>
    public static (string Images, string Labels) WritePair(string directory, int count, int rows, int columns, byte[] labels, bool gzip, string prefix = "data")
    {
        string images = Write(directory, $"{prefix}-images", Build([count, rows, columns], ImagePixels(count, rows, columns)), gzip);
        string labelPath = Write(directory, $"{prefix}-labels", Build([labels.Length], labels), gzip);
        return (images, labelPath);
    }
}
