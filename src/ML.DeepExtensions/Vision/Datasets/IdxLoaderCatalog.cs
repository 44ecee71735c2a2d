using System.Globalization;
using Microsoft.ML;

namespace ML.DeepExtensions.Vision.Datasets;

/// <summary>
/// Loads IDX image data sets (MNIST, Fashion-MNIST and others in that format) as ML.NET data views,
/// e.g. <c>mlContext.Data.LoadFashionMnist(FashionMnistSplit.Train)</c>.
/// </summary>
/// <remarks>
/// <para>The data view has two columns, in the form ML.NET's image transforms produce:</para>
/// <list type="table">
/// <listheader><term>Column</term><description>Type</description></listheader>
/// <item>
/// <term><c>Label</c></term>
/// <description>Key over the classes (<c>UInt32</c> key, 1-based as ML.NET keys are: label 0 in the file is key 1),
/// with the class names as its <c>KeyValues</c> annotation.</description>
/// </item>
/// <item>
/// <term><c>Features</c></term>
/// <description><c>Vector&lt;Single, 1, rows, columns&gt;</c> (for Fashion-MNIST <c>Vector&lt;Single, 1, 28, 28&gt;</c>):
/// the raw pixel values 0 to 255 in row-major order, as <c>ExtractPixels</c> yields for a grayscale image
/// with its default settings. Scale them (for example divide by 255) in the pipeline or the trainer.</description>
/// </item>
/// </list>
/// <para>
/// Nothing is materialised: creating the data view reads the two headers and one byte per label (to
/// check the labels and count the classes). Each cursor then opens the files of the columns it needs,
/// decodes one image at a time as it moves, and closes them when it ends or is disposed, so a pass over
/// all 60,000 Fashion-MNIST training images holds one image in memory. The row count is known up front.
/// Cursors do not shuffle; use <c>mlContext.Data.ShuffleRows</c> or a shuffling batch source.
/// </para>
/// </remarks>
public static class IdxLoaderCatalog
{
    /// <summary>
    /// Loads a split of Fashion-MNIST from its four IDX files, with the class names as key values.
    /// </summary>
    /// <param name="catalog">The data operations catalog (<c>mlContext.Data</c>).</param>
    /// <param name="split">The training (60,000 images) or test (10,000 images) split.</param>
    /// <param name="directory">
    /// The folder holding the files (<c>train-images-idx3-ubyte.gz</c> etc., or the same names without
    /// <c>.gz</c>); null for <see cref="FashionMnist.DefaultDirectory"/>, where the Debian package
    /// <c>dataset-fashion-mnist</c> installs them.
    /// </param>
    /// <param name="maxRows">Load only the first this many rows (for quick experiments and tests); null for all.</param>
    /// <returns>A lazy data view with columns <c>Label</c> (key, 10 classes) and <c>Features</c> (<c>Vector&lt;Single, 1, 28, 28&gt;</c>, 0 to 255).</returns>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it and says how to get the data.</exception>
    /// <exception cref="InvalidDataException">A file is not a valid IDX file of the expected kind, or the files do not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> is negative.</exception>
    /// <example>
    /// <code>
    /// var mlContext = new MLContext(seed: 1);
    /// IDataView train = mlContext.Data.LoadFashionMnist(FashionMnistSplit.Train);
    /// IDataView sample = mlContext.Data.LoadFashionMnist(FashionMnistSplit.Test, maxRows: 100);
    /// </code>
    /// </example>
    public static IDataView LoadFashionMnist(
        this DataOperationsCatalog catalog,
        FashionMnistSplit split,
        string? directory = null,
        int? maxRows = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        CheckMaxRows(maxRows);
        var (images, labels) = FashionMnist.Locate(split, directory ?? FashionMnist.DefaultDirectory);
        var headers = IdxFileHeaders.Read(images, labels);
        if (headers.Rows != FashionMnist.ImageSize || headers.Columns != FashionMnist.ImageSize)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX image file '{images}' holds {headers.Rows} x {headers.Columns} images; Fashion-MNIST images are {FashionMnist.ImageSize} x {FashionMnist.ImageSize}."));
        }

        return Load(headers, FashionMnist.ClassNames, maxRows);
    }

    /// <summary>
    /// Loads images and labels from a pair of IDX files: an image file (magic <c>0x00000803</c>: count,
    /// rows, columns) and a label file (magic <c>0x00000801</c>: count) with the same count. Either file
    /// may be gzip-compressed, which is detected from its content.
    /// </summary>
    /// <param name="catalog">The data operations catalog (<c>mlContext.Data</c>).</param>
    /// <param name="imagesPath">The image file.</param>
    /// <param name="labelsPath">The label file.</param>
    /// <param name="classNames">
    /// The class names in label order, which become the key values; every label must be below their
    /// count. Null: the classes are 0 to the largest label found, named by their numbers ("0", "1", ...).
    /// </param>
    /// <param name="maxRows">Load only the first this many rows; null for all.</param>
    /// <returns>A lazy data view with columns <c>Label</c> (key) and <c>Features</c> (<c>Vector&lt;Single, 1, rows, columns&gt;</c>, 0 to 255).</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// A file has a wrong magic number or dimension count or is truncated; the files' counts differ; or a
    /// label is not below the number of class names. The message names the file.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="classNames"/> is empty or holds a null or empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> is negative.</exception>
    /// <example>
    /// <code>
    /// IDataView digits = mlContext.Data.LoadFromIdxFiles(
    ///     "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", maxRows: 1000);
    /// </code>
    /// </example>
    public static IDataView LoadFromIdxFiles(
        this DataOperationsCatalog catalog,
        string imagesPath,
        string labelsPath,
        IReadOnlyList<string>? classNames = null,
        int? maxRows = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(imagesPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(labelsPath);
        if (classNames is not null)
        {
            if (classNames.Count == 0)
            {
                throw new ArgumentException("At least one class name is needed; pass null to number the classes.", nameof(classNames));
            }

            if (classNames.Any(string.IsNullOrEmpty))
            {
                throw new ArgumentException("Class names must not be null or empty.", nameof(classNames));
            }
        }

        CheckMaxRows(maxRows);
        return Load(IdxFileHeaders.Read(imagesPath, labelsPath), classNames, maxRows);
    }

    private static void CheckMaxRows(int? maxRows)
    {
        if (maxRows is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "maxRows must be zero or more; null loads every row.");
        }
    }

    // The catalog only marks where the loader lives: the view needs nothing from the MLContext.
    private static IdxDataView Load(IdxFileHeaders headers, IReadOnlyList<string>? classNames, int? maxRows)
    {
        int rowCount = Math.Min(headers.ItemCount, maxRows ?? int.MaxValue);
        int largestLabel = headers.ScanLargestLabel(rowCount, classNames?.Count);
        var names = classNames ?? Enumerable.Range(0, Math.Max(1, largestLabel + 1))
            .Select(i => i.ToString(CultureInfo.InvariantCulture))
            .ToArray();
        return new IdxDataView(headers, rowCount, names);
    }
}
