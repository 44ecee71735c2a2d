namespace ML.DeepExtensions.Vision.Datasets;

/// <summary>Which part of Fashion-MNIST to load.</summary>
public enum FashionMnistSplit
{
    /// <summary>The 60,000 training images (<c>train-*</c> files).</summary>
    Train,

    /// <summary>The 10,000 test images (<c>t10k-*</c> files).</summary>
    Test,
}

/// <summary>
/// Facts about Fashion-MNIST (Zalando's 28×28 grayscale images of clothing in 10 classes) and where its
/// files are. Load it with <see cref="IdxLoaderCatalog.LoadFashionMnist"/>.
/// </summary>
public static class FashionMnist
{
    /// <summary>
    /// Where the Debian package <c>dataset-fashion-mnist</c> installs the four IDX files, and where
    /// <see cref="IdxLoaderCatalog.LoadFashionMnist"/> looks when no directory is given.
    /// </summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The Debian package that provides the files.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>The number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>The class names in label order: label 0 is <c>T-shirt/top</c>, label 9 <c>Ankle boot</c>.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    /// <summary>The names of a split's gzip-compressed image and label files, as published.</summary>
    /// <param name="split">The split.</param>
    /// <returns>For example <c>("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="split"/> is not a defined value.</exception>
    public static (string Images, string Labels) FileNames(FashionMnistSplit split)
    {
        string prefix = split switch
        {
            FashionMnistSplit.Train => "train",
            FashionMnistSplit.Test => "t10k",
            _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Unknown Fashion-MNIST split."),
        };
        return ($"{prefix}-images-idx3-ubyte.gz", $"{prefix}-labels-idx1-ubyte.gz");
    }

    /// <summary>
    /// Finds a split's files in <paramref name="directory"/>: the published <c>.gz</c> name, or the same
    /// name without <c>.gz</c> for a decompressed copy.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it and says how to get the data.</exception>
    internal static (string Images, string Labels) Locate(FashionMnistSplit split, string directory)
    {
        var (images, labels) = FileNames(split);
        return (LocateFile(directory, images), LocateFile(directory, labels));
    }

    private static string LocateFile(string directory, string gzipName)
    {
        string gzipPath = Path.Combine(directory, gzipName);
        if (File.Exists(gzipPath))
        {
            return gzipPath;
        }

        string plainPath = Path.Combine(directory, Path.GetFileNameWithoutExtension(gzipName));
        if (File.Exists(plainPath))
        {
            return plainPath;
        }

        var (trainImages, trainLabels) = FileNames(FashionMnistSplit.Train);
        var (testImages, testLabels) = FileNames(FashionMnistSplit.Test);
        throw new FileNotFoundException(
            $"Fashion-MNIST file '{gzipPath}' was not found. Install the data with 'apt-get install {DebianPackage}' "
            + $"(it puts the files in {DefaultDirectory}), or pass as directory the folder that contains the four files "
            + $"{trainImages}, {trainLabels}, {testImages} and {testLabels}.",
            gzipPath);
    }
}
