using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tests.TestData;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Tests.Vision.Datasets;

/// <summary>The real Fashion-MNIST test split (first 100 rows), checked against the raw file bytes.</summary>
[TestClass]
public sealed class FashionMnistLoaderTests
{
    private const int Rows = 100;

    private static readonly string[] ExpectedClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private readonly MLContext _context = new(seed: 1);

    [TestMethod]
    public void TestSplitHasTheImageAnalyticsSchemaAndTheClassNames()
    {
        var data = LoadTestSplit();

        var features = (VectorDataViewType)data.Schema["Features"].Type;
        Assert.AreEqual(NumberDataViewType.Single, features.ItemType);
        CollectionAssert.AreEqual(new[] { 1, 28, 28 }, features.Dimensions.ToArray());
        Assert.AreEqual(784, features.Size);
        Assert.AreEqual("Vector<Single, 1, 28, 28>", features.ToString());

        var label = (KeyDataViewType)data.Schema["Label"].Type;
        Assert.AreEqual(10UL, label.Count);
        CollectionAssert.AreEqual(ExpectedClassNames, IdxLoaderTests.KeyValues(data));
        CollectionAssert.AreEqual(ExpectedClassNames, FashionMnist.ClassNames.ToArray());
    }

    [TestMethod]
    public void FirstHundredRowsMatchTheFileBytes()
    {
        var rows = IdxLoaderTests.ReadRows(LoadTestSplit());

        byte[] labels = ReadRawBytes("t10k-labels-idx1-ubyte.gz", headerLength: 8, Rows);
        byte[] pixels = ReadRawBytes("t10k-images-idx3-ubyte.gz", headerLength: 16, Rows * 784);
        Assert.HasCount(Rows, rows);
        CollectionAssert.AreEqual(labels.Select(l => l + 1u).ToArray(), rows.Select(r => r.Label).ToArray());
        CollectionAssert.AreEqual(pixels.Select(p => (float)p).ToArray(), rows.SelectMany(r => r.Pixels).ToArray());

        var all = rows.SelectMany(r => r.Pixels).ToArray();
        Assert.IsTrue(all.All(p => p >= 0 && p <= 255 && p == MathF.Round(p)), "raw whole pixel values 0..255");
        Assert.AreEqual(255f, all.Max(), "unscaled, like ExtractPixels' defaults");
        Assert.IsGreaterThan(5, rows.Select(r => r.Label).Distinct().Count(), "a mix of classes, not one repeated row");
    }

    [TestMethod]
    public void EnumeratingTwiceGivesTheSameRows()
    {
        var data = LoadTestSplit();

        var first = _context.Data.CreateEnumerable<Row>(data, reuseRowObject: false).ToList();
        var second = _context.Data.CreateEnumerable<Row>(data, reuseRowObject: false).ToList();

        Assert.HasCount(Rows, first);
        Assert.HasCount(Rows, second);
        for (int i = 0; i < Rows; i++)
        {
            Assert.AreEqual(first[i].Label, second[i].Label);
            CollectionAssert.AreEqual(first[i].Features, second[i].Features, $"row {i}");
        }
    }

    [TestMethod]
    public void MissingDirectorySaysHowToGetTheData()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"mldx-no-fashion-{Guid.NewGuid():N}");

        var error = Assert.ThrowsExactly<FileNotFoundException>(() => _context.Data.LoadFashionMnist(FashionMnistSplit.Train, directory));

        string expectedPath = Path.Combine(directory, "train-images-idx3-ubyte.gz");
        Assert.AreEqual(expectedPath, error.FileName);
        Assert.Contains(expectedPath, error.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message);
        Assert.Contains("t10k-labels-idx1-ubyte.gz", error.Message, "lists the files the folder must hold");
    }

    [TestMethod]
    public void DecompressedFilesInAnyFolderAreFound()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-fashion-").FullName;
        try
        {
            IdxFiles.WritePair(directory, 2, 28, 28, [9, 0], gzip: false, prefix: "t10k");
            File.Move(Path.Combine(directory, "t10k-images"), Path.Combine(directory, "t10k-images-idx3-ubyte"));
            File.Move(Path.Combine(directory, "t10k-labels"), Path.Combine(directory, "t10k-labels-idx1-ubyte"));

            var rows = IdxLoaderTests.ReadRows(_context.Data.LoadFashionMnist(FashionMnistSplit.Test, directory));

            CollectionAssert.AreEqual(new uint[] { 10, 1 }, rows.Select(r => r.Label).ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void ImagesOfAnotherSizeAreNotFashionMnist()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-fashion-").FullName;
        try
        {
            var (images, labels) = IdxFiles.WritePair(directory, 2, 8, 8, [1, 2], gzip: true, prefix: "train");
            File.Move(images, Path.Combine(directory, "train-images-idx3-ubyte.gz"));
            File.Move(labels, Path.Combine(directory, "train-labels-idx1-ubyte.gz"));

            var error = Assert.ThrowsExactly<InvalidDataException>(() => _context.Data.LoadFashionMnist(FashionMnistSplit.Train, directory));

            Assert.Contains("train-images-idx3-ubyte.gz", error.Message);
            Assert.Contains("8 x 8", error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private IDataView LoadTestSplit()
    {
        // Both files are located the way the other real-data tests find theirs (.data/ or the Debian path).
        string directory = Path.GetDirectoryName(DebianDatasets.FashionMnist("t10k-images-idx3-ubyte.gz"))!;
        return _context.Data.LoadFashionMnist(FashionMnistSplit.Test, directory, maxRows: Rows);
    }

    // Independent of IdxReader: the bytes after the header, straight from the decompressor.
    private static byte[] ReadRawBytes(string fileName, int headerLength, int count)
    {
        using var stream = new GZipStream(File.OpenRead(DebianDatasets.FashionMnist(fileName)), CompressionMode.Decompress);
        var bytes = new byte[headerLength + count];
        stream.ReadExactly(bytes);
        return bytes[headerLength..];
    }

    private sealed class Row
    {
        [KeyType(10)]
        public uint Label { get; set; }

        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];
    }
}
