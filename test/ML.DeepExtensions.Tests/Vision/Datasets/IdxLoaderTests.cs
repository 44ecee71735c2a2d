using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Tests.Vision.Datasets;

[TestClass]
public sealed class IdxLoaderTests
{
    private static readonly string[] ThreeClasses = ["cat", "dog", "bird"];

    private readonly MLContext _context = new(seed: 1);
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-idxload-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void RowsHaveKeyLabelsAndImageShapedFeatures(bool gzip)
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 4, 3, 5, [2, 0, 1, 2], gzip);

        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses);

        var label = data.Schema["Label"].Type as KeyDataViewType;
        var features = data.Schema["Features"].Type as VectorDataViewType;
        Assert.IsNotNull(label);
        Assert.AreEqual(3UL, label.Count);
        Assert.AreEqual(typeof(uint), label.RawType);
        Assert.IsNotNull(features);
        Assert.AreEqual(NumberDataViewType.Single, features.ItemType);
        CollectionAssert.AreEqual(new[] { 1, 3, 5 }, features.Dimensions.ToArray());
        CollectionAssert.AreEqual(ThreeClasses, KeyValues(data));

        var rows = ReadRows(data);
        CollectionAssert.AreEqual(new uint[] { 3, 1, 2, 3 }, rows.Select(r => r.Label).ToArray(), "file label + 1 (ML.NET keys are 1-based)");
        var expectedPixels = IdxFiles.ImagePixels(4, 3, 5).Select(b => (float)b).ToArray();
        CollectionAssert.AreEqual(expectedPixels, rows.SelectMany(r => r.Pixels).ToArray());
    }

    [TestMethod]
    public void WithoutClassNamesTheClassesAreNumberedUpToTheLargestLabel()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 3, 2, 2, [4, 0, 2], gzip: false);

        var data = _context.Data.LoadFromIdxFiles(images, labels);

        Assert.AreEqual(5UL, ((KeyDataViewType)data.Schema["Label"].Type).Count);
        CollectionAssert.AreEqual(new[] { "0", "1", "2", "3", "4" }, KeyValues(data));
    }

    [TestMethod]
    public void MaxRowsKeepsTheFirstRows()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 5, 2, 2, [0, 1, 2, 0, 1], gzip: true);

        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses, maxRows: 2);

        var rows = ReadRows(data);
        Assert.HasCount(2, rows);
        CollectionAssert.AreEqual(new uint[] { 1, 2 }, rows.Select(r => r.Label).ToArray());
        CollectionAssert.AreEqual(new float[] { 7, 8, 9, 10 }, rows[1].Pixels);
    }

    [TestMethod]
    public void MaxRowsBeyondTheFileGivesEveryRowAndZeroGivesNone()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 3, 2, 2, [0, 1, 2], gzip: false);

        Assert.HasCount(3, ReadRows(_context.Data.LoadFromIdxFiles(images, labels, ThreeClasses, maxRows: 1000)));
        Assert.IsEmpty(ReadRows(_context.Data.LoadFromIdxFiles(images, labels, ThreeClasses, maxRows: 0)));
    }

    [TestMethod]
    public void EachCursorDecodesTheFilesAgain()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 3, 2, 2, [0, 1, 2], gzip: true);
        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses);

        var first = ReadRows(data);
        var second = ReadRows(data);

        Assert.HasCount(3, second);
        CollectionAssert.AreEqual(first.SelectMany(r => r.Pixels).ToArray(), second.SelectMany(r => r.Pixels).ToArray());
        CollectionAssert.AreEqual(first.Select(r => r.Label).ToArray(), second.Select(r => r.Label).ToArray());
    }

    [TestMethod]
    public void ImagesAreDecodedOnlyWhenACursorReachesThem()
    {
        // The image data breaks off after one image; creating the view reads only the headers and labels.
        string images = IdxFiles.Write(_directory, "images", IdxFiles.Build([3, 2, 2], new byte[5]), gzip: true);
        string labels = IdxFiles.Write(_directory, "labels", IdxFiles.Build([3], [0, 1, 2]), gzip: true);

        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses);
        using var cursor = data.GetRowCursor(data.Schema);

        Assert.IsTrue(cursor.MoveNext());
        var error = Assert.ThrowsExactly<InvalidDataException>(() => cursor.MoveNext());
        Assert.Contains(images, error.Message);
        Assert.Contains("ends inside item 1", error.Message);
    }

    [TestMethod]
    public void RowCountIsKnownWithoutAPass()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 6, 2, 2, [0, 1, 2, 0, 1, 2], gzip: true);

        Assert.AreEqual(6L, _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses).GetRowCount());
        Assert.AreEqual(4L, _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses, maxRows: 4).GetRowCount());
    }

    [TestMethod]
    public void ACursorClosesItsFilesWhenDisposedEarly()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 5, 2, 2, [0, 1, 2, 0, 1], gzip: true);
        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses);

        using (var cursor = data.GetRowCursor(data.Schema))
        {
            Assert.IsTrue(cursor.MoveNext());
            Assert.AreEqual(2, OpenHandles(images, labels), "both files open while the cursor runs");
        }

        Assert.AreEqual(0, OpenHandles(images, labels), "both files closed after Dispose");
    }

    [TestMethod]
    public void ACursorOpensOnlyTheFilesOfItsColumns()
    {
        // Image data that breaks off: a cursor over Label alone never touches it.
        string images = IdxFiles.Write(_directory, "images", IdxFiles.Build([3, 2, 2], new byte[5]), gzip: true);
        string labels = IdxFiles.Write(_directory, "labels", IdxFiles.Build([3], [0, 1, 2]), gzip: true);
        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses);

        var keys = data.GetColumn<uint>("Label").ToArray();

        CollectionAssert.AreEqual(new uint[] { 1, 2, 3 }, keys);
        using var cursor = data.GetRowCursor([data.Schema["Label"]]);
        Assert.IsFalse(cursor.IsColumnActive(data.Schema["Features"]));
        Assert.ThrowsExactly<InvalidOperationException>(() => cursor.GetGetter<VBuffer<float>>(data.Schema["Features"]));
        Assert.ThrowsExactly<InvalidOperationException>(() => cursor.GetGetter<float>(data.Schema["Label"]), "a key is read as uint");
    }

    [TestMethod]
    public void ThePipelineCanPreviewAndCacheTheView()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 4, 2, 2, [0, 1, 2, 1], gzip: false);
        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses);

        var mapped = _context.Transforms.Conversion.MapKeyToValue("LabelName", "Label").Fit(data).Transform(data);
        var names = mapped.GetColumn<ReadOnlyMemory<char>>("LabelName").Select(n => n.ToString()).ToArray();
        var preview = _context.Data.Cache(data).Preview(maxRows: 2);

        CollectionAssert.AreEqual(new[] { "cat", "dog", "bird", "dog" }, names);
        Assert.HasCount(2, preview.RowView);
    }

    [TestMethod]
    public void DifferentImageAndLabelCountsNameBothFiles()
    {
        string images = IdxFiles.Write(_directory, "images", IdxFiles.Build([3, 2, 2], new byte[12]), gzip: false);
        string labels = IdxFiles.Write(_directory, "labels", IdxFiles.Build([2], [0, 1]), gzip: true);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => _context.Data.LoadFromIdxFiles(images, labels));

        Assert.Contains(images, error.Message);
        Assert.Contains(labels, error.Message);
        Assert.Contains("3 images", error.Message);
        Assert.Contains("2 labels", error.Message);
    }

    [TestMethod]
    public void LabelBeyondTheClassNamesNamesTheLabelFileAndItem()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 3, 2, 2, [0, 7, 1], gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses));

        Assert.Contains(labels, error.Message);
        Assert.Contains("label 7 at item 1", error.Message);
    }

    [TestMethod]
    public void SwappedFilesAreReportedAsWrongDimensionCounts()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 3, 2, 2, [0, 1, 2], gzip: false);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => _context.Data.LoadFromIdxFiles(labels, images));

        Assert.Contains(labels, error.Message);
        Assert.Contains("dimension", error.Message);
    }

    [TestMethod]
    public void MissingImageFileNamesThePath()
    {
        string labels = IdxFiles.Write(_directory, "labels", IdxFiles.Build([1], [0]), gzip: false);
        string images = Path.Combine(_directory, "no-such-images");

        var error = Assert.ThrowsExactly<FileNotFoundException>(() => _context.Data.LoadFromIdxFiles(images, labels));

        Assert.Contains(images, error.Message);
    }

    [TestMethod]
    public void InvalidArgumentsAreRejected()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 1, 2, 2, [0], gzip: false);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => _context.Data.LoadFromIdxFiles(images, labels, maxRows: -1));
        Assert.ThrowsExactly<ArgumentException>(() => _context.Data.LoadFromIdxFiles(images, labels, classNames: []));
        Assert.ThrowsExactly<ArgumentException>(() => _context.Data.LoadFromIdxFiles(images, labels, classNames: ["a", ""]));
    }

    [TestMethod]
    public void BatchSourceTurnsTheViewIntoImageTensors()
    {
        var (images, labels) = IdxFiles.WritePair(_directory, 5, 3, 4, [0, 1, 2, 0, 1], gzip: true);
        var data = _context.Data.LoadFromIdxFiles(images, labels, ThreeClasses);
        var source = new DataViewBatchSource(data, [BatchColumn.Features(shape: [1, 3, 4]), BatchColumn.ClassLabel()],
            new BatchSourceOptions { BatchSize = 5, Shuffle = false });

        using var scope = TorchSharp.torch.NewDisposeScope();
        var batch = source.GetBatches(epoch: 0).Single();

        CollectionAssert.AreEqual(new long[] { 5, 1, 3, 4 }, batch.Features.shape);
        CollectionAssert.AreEqual(new long[] { 0, 1, 2, 0, 1 }, batch.Label.data<long>().ToArray());
        Assert.AreEqual(7f, batch.Features[1, 0, 0, 0].item<float>());
    }

    // Linux only (/proc): how many of this process's file descriptors point at the given files.
    private static int OpenHandles(params string[] paths)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("Counting open files needs /proc.");
        }

        var targets = paths.Select(Path.GetFullPath).ToHashSet();
        return new DirectoryInfo("/proc/self/fd").GetFileSystemInfos()
            .Count(fd => fd.LinkTarget is { } target && targets.Contains(target));
    }

    internal static string[] KeyValues(IDataView data)
    {
        var values = default(VBuffer<ReadOnlyMemory<char>>);
        data.Schema["Label"].GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    internal static List<(uint Label, float[] Pixels)> ReadRows(IDataView data)
    {
        var rows = new List<(uint, float[])>();
        using var cursor = data.GetRowCursor(data.Schema);
        var labelGetter = cursor.GetGetter<uint>(data.Schema["Label"]);
        var featuresGetter = cursor.GetGetter<VBuffer<float>>(data.Schema["Features"]);
        uint label = 0;
        var features = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            labelGetter(ref label);
            featuresGetter(ref features);
            rows.Add((label, features.DenseValues().ToArray()));
        }

        return rows;
    }
}
