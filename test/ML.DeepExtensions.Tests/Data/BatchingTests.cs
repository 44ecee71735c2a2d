using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Data;

[TestClass]
public sealed class BatchingTests
{
    private static GeneratedDataView Ids(long rows, bool reportsCount = true) =>
        new(rows, GeneratedColumn.Scalar("Id", NumberDataViewType.Single, r => (float)r)) { ReportsRowCount = reportsCount };

    [TestMethod]
    public void LastPartialBatchIsKeptByDefault()
    {
        var source = new DataViewBatchSource(Ids(10), [new BatchColumn("id", "Id")], new BatchSourceOptions { BatchSize = 4 });
        var epoch = EpochData.Read(source);

        Expect.Values(epoch.BatchSizes, 4, 4, 2);
        Assert.AreEqual(10L, source.RowCount);
        Assert.AreEqual(3L, source.BatchesPerEpoch);
    }

    [TestMethod]
    public void DropLastPartialBatchLeavesItOut()
    {
        var source = new DataViewBatchSource(Ids(10), [new BatchColumn("id", "Id")],
            new BatchSourceOptions { BatchSize = 4, DropLastPartialBatch = true });
        var epoch = EpochData.Read(source);

        Expect.Values(epoch.BatchSizes, 4, 4);
        Assert.AreEqual(2L, source.BatchesPerEpoch);
    }

    [TestMethod]
    public void ExactMultipleOfBatchSizeHasNoPartialBatch()
    {
        var source = new DataViewBatchSource(Ids(12), [new BatchColumn("id", "Id")],
            new BatchSourceOptions { BatchSize = 4, DropLastPartialBatch = true });

        Expect.Values(EpochData.Read(source).BatchSizes, 4, 4, 4);
        Assert.AreEqual(3L, source.BatchesPerEpoch);
    }

    [TestMethod]
    public void RowCountIsUnknownForALazyViewUntilAnEpochCompletes()
    {
        var options = new BatchSourceOptions { BatchSize = 10, Shuffle = false, PrefetchBatches = 4 };
        var source = new DataViewBatchSource(Ids(1005, reportsCount: false), [new BatchColumn("id", "Id")], options);
        Assert.IsNull(source.RowCount);
        Assert.IsNull(source.BatchesPerEpoch);

        // An epoch abandoned before the reader reached the end does not count.
        using (NewDisposeScope())
        {
            foreach (var batch in source.GetBatches(0))
            {
                break;
            }
        }

        Assert.IsNull(source.RowCount);
        EpochData.Read(source);
        Assert.AreEqual(1005L, source.RowCount);
        Assert.AreEqual(101L, source.BatchesPerEpoch);
    }

    [TestMethod]
    public void EmptyDataViewYieldsNoBatches()
    {
        var source = new DataViewBatchSource(Ids(0), [new BatchColumn("id", "Id")]);

        Assert.IsEmpty(EpochData.Read(source).BatchSizes);
        Assert.AreEqual(0L, source.RowCount);
        Assert.AreEqual(0L, source.BatchesPerEpoch);
    }

    [TestMethod]
    public void CountRowsCountsWithOnePassAndRemembers()
    {
        var view = Ids(25, reportsCount: false);
        var source = new DataViewBatchSource(view, [new BatchColumn("id", "Id")]);

        Assert.AreEqual(25L, source.CountRows());
        Assert.AreEqual(25L, source.RowCount);
        long produced = view.RowsProduced;
        Assert.AreEqual(25L, source.CountRows());
        Assert.AreEqual(produced, view.RowsProduced, "the count is remembered");
    }

    [TestMethod]
    public void OptionsRejectInvalidValues()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchSourceOptions { BatchSize = 0 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchSourceOptions { BatchSize = -3 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchSourceOptions { ShuffleBufferSize = 0 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchSourceOptions { PrefetchBatches = 0 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchSourceOptions { PrefetchBatches = 257 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchSourceOptions { MissingValues = (MissingValuePolicy)7 });
    }

    [TestMethod]
    public void OptionsHaveDocumentedDefaults()
    {
        var options = new BatchSourceOptions();

        Assert.AreEqual(32, options.BatchSize);
        Assert.IsTrue(options.Shuffle);
        Assert.IsNull(options.ShuffleBufferSize);
        Assert.AreEqual(0, options.Seed);
        Assert.IsFalse(options.DropLastPartialBatch);
        Assert.AreEqual(MissingValuePolicy.Error, options.MissingValues);
        Assert.IsNull(options.PrefetchBatches);
    }

    [TestMethod]
    public void AutomaticShuffleBufferIsBoundedByBytesPerRow()
    {
        var narrow = new GeneratedDataView(1, GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => 0f)) { ReportsRowCount = false };
        var wide = new GeneratedDataView(1, GeneratedColumn.Dense<float>("x", NumberDataViewType.Single, 3 * 32 * 32, (r, v) => { })) { ReportsRowCount = false };

        Assert.AreEqual(BatchSourceOptions.MaximumAutomaticShuffleBufferRows, new DataViewBatchSource(narrow, [BatchColumn.Features("x")]).ShuffleBufferSize);
        Assert.AreEqual(5461, new DataViewBatchSource(wide, [BatchColumn.Features("x")]).ShuffleBufferSize);
    }

    [TestMethod]
    public void AutomaticPrefetchDepthIsBoundedByBytesPerBatch()
    {
        var narrow = new GeneratedDataView(1, GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => 0f));
        var image = new GeneratedDataView(1, GeneratedColumn.Dense<float>("x", NumberDataViewType.Single, 784, (r, v) => { }));
        var large = new GeneratedDataView(1, GeneratedColumn.Dense<float>("x", NumberDataViewType.Single, 3 * 224 * 224, (r, v) => { }));

        Assert.AreEqual(64, new DataViewBatchSource(narrow, [BatchColumn.Features("x")]).PrefetchBatches);
        // 8 MiB / (64 rows x 3,136 bytes) = 41 batches.
        Assert.AreEqual(41, new DataViewBatchSource(image, [BatchColumn.Features("x")], new BatchSourceOptions { BatchSize = 64 }).PrefetchBatches);
        Assert.AreEqual(2, new DataViewBatchSource(large, [BatchColumn.Features("x")]).PrefetchBatches);
        Assert.AreEqual(5, new DataViewBatchSource(large, [BatchColumn.Features("x")], new BatchSourceOptions { PrefetchBatches = 5 }).PrefetchBatches);
    }
}
