using System.Buffers.Binary;
using System.IO.Compression;

namespace ML.DeepExtensions.Tests.TestData;

[TestClass]
public sealed class DebianDatasetsTests
{
    [TestMethod]
    public void IrisCsvHasItsHeaderAndOneHundredFiftyRows()
    {
        var lines = File.ReadAllLines(DebianDatasets.SklearnCsv("iris.csv"));

        // scikit-learn's header line: sample count, feature count, class names.
        Assert.StartsWith("150,4,", lines[0]);
        Assert.HasCount(151, lines.Where(line => line.Length > 0));
    }

    [TestMethod]
    public void FashionMnistTestLabelsAreAnIdxFileOfTenThousandItems()
    {
        using var stream = new GZipStream(File.OpenRead(DebianDatasets.FashionMnist("t10k-labels-idx1-ubyte.gz")), CompressionMode.Decompress);
        Span<byte> header = stackalloc byte[8];
        stream.ReadExactly(header);

        Assert.AreEqual(0x00000801, BinaryPrimitives.ReadInt32BigEndian(header), "IDX magic of a 1-D unsigned-byte file");
        Assert.AreEqual(10_000, BinaryPrimitives.ReadInt32BigEndian(header[4..]));
    }

    [TestMethod]
    public void MissingFileNamesTheFetchScript()
    {
        var error = Assert.ThrowsExactly<FileNotFoundException>(() => DebianDatasets.SklearnCsv("no_such_data_set.csv"));

        Assert.Contains("scripts/fetch-data.sh", error.Message);
    }

    [TestMethod]
    public void PathsAreRejectedWhereAFileNameIsExpected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => DebianDatasets.FashionMnist("../secret.gz"));
    }
}
