using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Tests.Vision.Datasets;

[TestClass]
public sealed class IdxReaderTests
{
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-idx-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ImageFileIsReadItemByItemInRowMajorOrder(bool gzip)
    {
        string path = IdxFiles.Write(_directory, "images", IdxFiles.Build([3, 2, 4], IdxFiles.ImagePixels(3, 2, 4)), gzip);

        using var reader = IdxReader.OpenImages(path);
        var item = new byte[reader.ItemLength];
        var items = new List<byte[]>();
        while (reader.ReadItem(item))
        {
            items.Add(item.ToArray());
        }

        Assert.AreEqual(gzip, reader.IsCompressed);
        CollectionAssert.AreEqual(new[] { 3, 2, 4 }, reader.Dimensions.ToArray());
        Assert.AreEqual(3, reader.ItemCount);
        Assert.AreEqual(8, reader.ItemLength);
        Assert.AreEqual(3, reader.ItemsRead);
        Assert.HasCount(3, items);
        CollectionAssert.AreEqual(new byte[] { 14, 15, 16, 17, 18, 19, 20, 21 }, items[2], "image 2 starts at 2 * 7");
    }

    [TestMethod]
    public void CompressionIsDetectedFromTheContentNotTheName()
    {
        string gzipWithoutExtension = IdxFiles.Write(_directory, "labels.idx", IdxFiles.Build([2], [5, 6]), gzip: true);
        string plainNamedGz = IdxFiles.Write(_directory, "labels.gz", IdxFiles.Build([2], [5, 6]), gzip: false);

        using var compressed = IdxReader.OpenLabels(gzipWithoutExtension);
        using var plain = IdxReader.OpenLabels(plainNamedGz);

        Assert.IsTrue(compressed.IsCompressed);
        Assert.IsFalse(plain.IsCompressed);
        var label = new byte[1];
        Assert.IsTrue(compressed.ReadItem(label));
        Assert.AreEqual(5, label[0]);
        Assert.IsTrue(plain.ReadItem(label));
        Assert.IsTrue(plain.ReadItem(label));
        Assert.AreEqual(6, label[0]);
        Assert.IsFalse(plain.ReadItem(label));
    }

    [TestMethod]
    public void GeneralOpenAcceptsAnyDimensionCount()
    {
        string path = IdxFiles.Write(_directory, "cube", IdxFiles.Build([2, 2, 2, 3], new byte[24]), gzip: false);

        using var reader = IdxReader.Open(path);

        Assert.AreEqual(12, reader.ItemLength);
        Assert.AreEqual(2, reader.ItemCount);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void WrongMagicNumberNamesTheFile(bool gzip)
    {
        string path = IdxFiles.Write(_directory, "not-idx", IdxFiles.Build([1, 2, 2], new byte[4], magic: unchecked((int)0x89504E47)), gzip);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("wrong magic number 0x89504E47", error.Message);
        Assert.Contains("0x00000803", error.Message);
    }

    [TestMethod]
    public void LabelFileOpenedAsImagesReportsTheDimensionCount()
    {
        string path = IdxFiles.Write(_directory, "labels", IdxFiles.Build([4], [0, 1, 2, 3]), gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("has 1 dimension(s)", error.Message);
        Assert.Contains("has 3", error.Message);
    }

    [TestMethod]
    public void ImageFileOpenedAsLabelsReportsTheDimensionCount()
    {
        string path = IdxFiles.Write(_directory, "images", IdxFiles.Build([1, 2, 2], new byte[4]), gzip: true);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenLabels(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("has 3 dimension(s)", error.Message);
    }

    [TestMethod]
    public void NonByteElementTypeIsRejectedByName()
    {
        // 0x0D: 32-bit floats, a valid IDX type this reader does not support.
        string path = IdxFiles.Write(_directory, "floats", IdxFiles.Build([1, 2, 2], new byte[16], magic: 0x00000D03), gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("type 0x0D", error.Message);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void FileEndingInsideTheHeaderNamesTheFile(bool gzip)
    {
        byte[] header = IdxFiles.Build([10, 28, 28], []);
        string path = IdxFiles.Write(_directory, "short-header", header[..10], gzip);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("ends inside its header", error.Message);
    }

    [TestMethod]
    public void EmptyFileIsNotAnIdxFile()
    {
        string path = IdxFiles.Write(_directory, "empty", [], gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenLabels(path));

        Assert.Contains(path, error.Message);
    }

    [TestMethod]
    public void TruncatedPlainFileFailsWhenOpened()
    {
        // The header promises 3 images of 4 pixels; the data stops after 1.5 images.
        string path = IdxFiles.Write(_directory, "truncated", IdxFiles.Build([3, 2, 2], new byte[6]), gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("enough for 1 items", error.Message);
    }

    [TestMethod]
    public void APlainFileLongerThanItsHeaderDeclaresIsRejected()
    {
        // A corrupt row count in the header (1 instead of 2) would otherwise read the pixels as other images.
        string path = IdxFiles.Write(_directory, "long", IdxFiles.Build([3, 2, 2], new byte[12]).Select((b, i) => i == 11 ? (byte)1 : b).ToArray(), gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("6 bytes after the 3 items of 2 bytes its header declares", error.Message);
    }

    [TestMethod]
    public void AGzipFileWithDataAfterTheDeclaredItemsIsRejectedAtTheLastItem()
    {
        string path = IdxFiles.Write(_directory, "long.gz", IdxFiles.Build([2, 2, 2], new byte[12]), gzip: true);
        using var reader = IdxReader.OpenImages(path);
        var item = new byte[4];

        Assert.IsTrue(reader.ReadItem(item));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => reader.ReadItem(item));

        Assert.Contains(path, error.Message);
        Assert.Contains("has data after the 2 items its header declares", error.Message);
    }

    [TestMethod]
    public void AGzipFileWhoseChecksumDoesNotMatchIsRejectedAtTheLastItem()
    {
        // The CRC-32 in the gzip trailer covers the data; only reading to the end makes the decompressor check it.
        string good = IdxFiles.Write(_directory, "good.gz", IdxFiles.Build([3, 2, 2], IdxFiles.ImagePixels(3, 2, 2)), gzip: true);
        byte[] bytes = File.ReadAllBytes(good);
        bytes[^8] ^= 0xFF;
        string path = Path.Combine(_directory, "bad-crc.gz");
        File.WriteAllBytes(path, bytes);

        var error = Assert.ThrowsExactly<InvalidDataException>(() =>
        {
            using var reader = IdxReader.OpenImages(path);
            var item = new byte[reader.ItemLength];
            while (reader.ReadItem(item))
            {
            }
        });

        Assert.Contains(path, error.Message);
        Assert.Contains("corrupt gzip data", error.Message);
    }

    [TestMethod]
    public void TruncatedGzipContentFailsAtTheMissingItem()
    {
        string path = IdxFiles.Write(_directory, "truncated", IdxFiles.Build([3, 2, 2], new byte[6]), gzip: true);
        using var reader = IdxReader.OpenImages(path);
        var item = new byte[4];

        Assert.IsTrue(reader.ReadItem(item));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => reader.ReadItem(item));

        Assert.Contains(path, error.Message);
        Assert.Contains("ends inside item 1 of the 3", error.Message);
    }

    [TestMethod]
    public void CutOffGzipStreamNamesTheFile()
    {
        // A download that stopped early: valid gzip bytes that end in the middle of the compressed data.
        string complete = IdxFiles.Write(_directory, "complete", IdxFiles.Build([50, 8, 8], IdxFiles.ImagePixels(50, 8, 8)), gzip: true);
        byte[] bytes = File.ReadAllBytes(complete);
        string path = Path.Combine(_directory, "cut-off");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Assert.ThrowsExactly<InvalidDataException>(() =>
        {
            using var reader = IdxReader.OpenImages(path);
            var item = new byte[reader.ItemLength];
            while (reader.ReadItem(item))
            {
            }
        });

        Assert.Contains(path, error.Message);
    }

    [TestMethod]
    public void ZeroImageSizeIsRejected()
    {
        string path = IdxFiles.Write(_directory, "zero", IdxFiles.Build([2, 0, 28], []), gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => IdxReader.OpenImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("invalid size 0 for dimension 1", error.Message);
    }

    [TestMethod]
    public void MissingFileIsFileNotFoundNamingThePath()
    {
        string path = Path.Combine(_directory, "absent.gz");

        var error = Assert.ThrowsExactly<FileNotFoundException>(() => IdxReader.OpenLabels(path));

        Assert.Contains(path, error.Message);
        Assert.AreEqual(path, error.FileName);
    }

    [TestMethod]
    public void TooSmallDestinationIsRejected()
    {
        string path = IdxFiles.Write(_directory, "images", IdxFiles.Build([1, 2, 2], new byte[4]), gzip: false);
        using var reader = IdxReader.OpenImages(path);

        Assert.ThrowsExactly<ArgumentException>(() => reader.ReadItem(new byte[3]));
    }
}
