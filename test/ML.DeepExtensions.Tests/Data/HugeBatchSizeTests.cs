using Microsoft.ML.Data;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.Tests.Data;

/// <summary>A batch size beyond the data, up to int.MaxValue (issue 12, item 5): no bare OverflowException.</summary>
[TestClass]
public sealed class HugeBatchSizeTests
{
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void WithAKnownRowCountABatchOfIntMaxValueIsOneBatchOfEveryRow(bool shuffle)
    {
        var source = new DataViewBatchSource(View(40, reportsCount: true), [BatchColumn.Features("x")],
            new BatchSourceOptions { BatchSize = int.MaxValue, Shuffle = shuffle });

        var epoch = EpochData.Read(source);

        CollectionAssert.AreEqual(new[] { 40 }, epoch.BatchSizes);
        Assert.AreEqual(1L, source.BatchesPerEpoch);
    }

    [TestMethod]
    public void OnceTheRowCountIsKnownAnUncountedViewWorksToo()
    {
        var source = new DataViewBatchSource(View(40, reportsCount: false), [BatchColumn.Features("x")], new BatchSourceOptions { BatchSize = int.MaxValue, Shuffle = false });
        source.CountRows();

        CollectionAssert.AreEqual(new[] { 40 }, EpochData.Read(source).BatchSizes);
    }

    [TestMethod]
    public void WithoutARowCountTheErrorNamesTheBatchSize()
    {
        var source = new DataViewBatchSource(View(40, reportsCount: false), [BatchColumn.Features("x")], new BatchSourceOptions { BatchSize = int.MaxValue, Shuffle = false });

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => EpochData.Read(source));

        StringAssert.Contains(error.Message, "BatchSize 2147483647");
        StringAssert.Contains(error.Message, "Use a smaller BatchSize");
    }

    [TestMethod]
    public void DroppingTheLastPartialBatchOfABatchLargerThanTheDataLeavesNoBatch()
    {
        var source = new DataViewBatchSource(View(40, reportsCount: true), [BatchColumn.Features("x")],
            new BatchSourceOptions { BatchSize = int.MaxValue, DropLastPartialBatch = true });

        Assert.IsEmpty(EpochData.Read(source).BatchSizes);
        Assert.AreEqual(0L, source.BatchesPerEpoch);
    }

    private static GeneratedDataView View(long rows, bool reportsCount) =>
        new(rows, GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => (float)r)) { ReportsRowCount = reportsCount };
}
