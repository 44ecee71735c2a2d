using System.Globalization;

namespace ML.DeepExtensions.Vision.Datasets;

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

    public IdxReader OpenImages()
    {
        var images = IdxReader.OpenImages(ImagesPath);
        if (images.ItemCount != ItemCount || images.Dimensions[1] != Rows || images.Dimensions[2] != Columns)
        {
            string now = string.Join(" x ", images.Dimensions);
            images.Dispose();
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX image file '{ImagesPath}' changed after the data view was created: it now declares {now} instead of {ItemCount} x {Rows} x {Columns}."));
        }

        return images;
    }

    public IdxReader OpenLabels()
    {
        var labels = IdxReader.OpenLabels(LabelsPath);
        if (labels.ItemCount != ItemCount)
        {
            int now = labels.ItemCount;
            labels.Dispose();
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX label file '{LabelsPath}' changed after the data view was created: it now declares {now} labels instead of {ItemCount}."));
        }

        return labels;
    }

    /// <summary>
    /// Reads the first <paramref name="rowCount"/> labels and returns the largest, or -1 when there are
    /// none. One byte per row, so this pass at load time costs next to nothing.
    /// </summary>
    /// <param name="rowCount">How many labels to check.</param>
    /// <param name="classCount">The number of class names, or null to accept any byte.</param>
    public int ScanLargestLabel(int rowCount, int? classCount)
    {
        using var labels = OpenLabels();
        Span<byte> label = stackalloc byte[1];
        int largest = -1;
        for (int i = 0; i < rowCount && labels.ReadItem(label); i++)
        {
            if (classCount is { } count && label[0] >= count)
            {
                throw LabelOutOfRange(i, label[0], count);
            }

            largest = Math.Max(largest, label[0]);
        }

        return largest;
    }

    public InvalidDataException LabelOutOfRange(long item, int label, int classCount) =>
        new(string.Create(
            CultureInfo.InvariantCulture,
            $"IDX label file '{LabelsPath}' has label {label} at item {item}, but only {classCount} class names were given (labels 0 to {classCount - 1})."));
}
