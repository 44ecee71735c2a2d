using System.Collections;
using System.Globalization;

namespace ML.DeepExtensions.Vision.Datasets;

/// <summary>One row as ML.NET reads it: the 1-based key of the label, and the pixels in row-major order.</summary>
internal sealed class IdxImageRow
{
    // Public fields: ML.NET's LoadFromEnumerable reads public members of the row type.
    public uint Label;
    public float[] Features = [];
}

/// <summary>
/// The rows of an image file and its label file, decoded afresh on every enumeration (ML.NET starts
/// one per cursor) and one row at a time: only the current image is ever in memory.
/// </summary>
/// <remarks>
/// Each enumeration hands out a single row object, overwritten on every step. That is safe here
/// because ML.NET's streaming cursor reads only its current row, through its getters.
/// </remarks>
internal sealed class IdxImageRows : IEnumerable<IdxImageRow>
{
    private readonly IdxFileHeaders _headers;

    public IdxImageRows(IdxFileHeaders headers, int rowCount, int classCount)
    {
        _headers = headers;
        RowCount = rowCount;
        ClassCount = classCount;
    }

    public int RowCount { get; }

    public int ClassCount { get; }

    public IEnumerator<IdxImageRow> GetEnumerator()
    {
        using var images = IdxReader.OpenImages(_headers.ImagesPath);
        using var labels = IdxReader.OpenLabels(_headers.LabelsPath);
        _headers.CheckUnchanged(images, labels);

        var pixels = new byte[images.ItemLength];
        var label = new byte[1];
        var row = new IdxImageRow { Features = new float[images.ItemLength] };
        for (int i = 0; i < RowCount; i++)
        {
            // Both headers declare at least RowCount items, so a false here cannot happen; a short file throws.
            images.ReadItem(pixels);
            labels.ReadItem(label);
            if (label[0] >= ClassCount)
            {
                throw IdxLabels.OutOfRange(_headers.LabelsPath, i, label[0], ClassCount);
            }

            row.Label = label[0] + 1u;
            var features = row.Features;
            for (int p = 0; p < pixels.Length; p++)
            {
                features[p] = pixels[p];
            }

            yield return row;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>The headers of an image file and its label file, read and cross-checked once at load time.</summary>
internal sealed record IdxFileHeaders(string ImagesPath, string LabelsPath, int ItemCount, int Rows, int Columns)
{
    public static IdxFileHeaders Read(string imagesPath, string labelsPath)
    {
        using var images = IdxReader.OpenImages(imagesPath);
        using var labels = IdxReader.OpenLabels(labelsPath);
        if (images.ItemCount != labels.ItemCount)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX image file '{imagesPath}' declares {images.ItemCount} images but label file '{labelsPath}' declares {labels.ItemCount} labels; they must match."));
        }

        return new IdxFileHeaders(imagesPath, labelsPath, images.ItemCount, images.Dimensions[1], images.Dimensions[2]);
    }

    /// <summary>Fails when a file was replaced by a different one after the data view was created.</summary>
    public void CheckUnchanged(IdxReader images, IdxReader labels)
    {
        if (images.ItemCount != ItemCount || images.Dimensions[1] != Rows || images.Dimensions[2] != Columns)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX image file '{ImagesPath}' changed after the data view was created: it now declares {string.Join(" x ", images.Dimensions)} instead of {ItemCount} x {Rows} x {Columns}."));
        }

        if (labels.ItemCount != ItemCount)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX label file '{LabelsPath}' changed after the data view was created: it now declares {labels.ItemCount} labels instead of {ItemCount}."));
        }
    }
}

/// <summary>The one pass over the labels done at load time (one byte per row, so it costs next to nothing).</summary>
internal static class IdxLabels
{
    /// <summary>Reads the first <paramref name="rowCount"/> labels and returns the largest, or -1 when there are none.</summary>
    /// <param name="labelsPath">The label file.</param>
    /// <param name="rowCount">How many labels to check.</param>
    /// <param name="classCount">The number of class names, or null to accept any byte.</param>
    public static int ScanMaximum(string labelsPath, int rowCount, int? classCount)
    {
        using var labels = IdxReader.OpenLabels(labelsPath);
        Span<byte> label = stackalloc byte[1];
        int maximum = -1;
        for (int i = 0; i < rowCount && labels.ReadItem(label); i++)
        {
            if (classCount is { } count && label[0] >= count)
            {
                throw OutOfRange(labelsPath, i, label[0], count);
            }

            maximum = Math.Max(maximum, label[0]);
        }

        return maximum;
    }

    public static InvalidDataException OutOfRange(string labelsPath, int item, int label, int classCount) =>
        new(string.Create(
            CultureInfo.InvariantCulture,
            $"IDX label file '{labelsPath}' has label {label} at item {item}, but only {classCount} class names were given (labels 0 to {classCount - 1})."));
}
