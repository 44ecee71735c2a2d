using System.Diagnostics;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.Tests.Data;

[TestClass]
public sealed class NextEpochTests
{
    private static readonly BatchColumn[] IdColumn = [new BatchColumn("id", "Id")];

    private static GeneratedDataView Ids(long rows) =>
        new(rows, GeneratedColumn.Scalar("Id", NumberDataViewType.Single, r => (float)r)) { ReportsRowCount = false };

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.IsLessThan(10_000L, clock.ElapsedMilliseconds, $"timed out waiting until {what}");
            Thread.Sleep(5);
        }
    }

    [TestMethod]
    public void NextShuffledEpochIsReadWhileTheCurrentOneDrainsAndKeepsItsOrder()
    {
        var options = new BatchSourceOptions { BatchSize = 16, Seed = 3 };
        var view = Ids(500);
        var source = new DataViewBatchSource(view, IdColumn, options);

        EpochData.Read(source, 0);
        WaitUntil(() => view.CursorsOpened == 2, "epoch 1 is prepared");
        var prepared = source.PreparedEpoch;
        Assert.AreEqual(1, prepared?.Epoch);

        using (var enumerator = source.GetBatches(1).GetEnumerator())
        {
            Assert.AreSame(prepared, enumerator, "epoch 1 is taken over, not read again");
        }

        CollectionAssert.AreEqual(
            EpochData.Read(new DataViewBatchSource(Ids(500), IdColumn, options), 1).F("id"),
            EpochData.Read(new DataViewBatchSource(view, IdColumn, options), 1).F("id"));
    }

    [TestMethod]
    public void PreparedEpochGivesTheSameOrderAsAFreshRead()
    {
        var options = new BatchSourceOptions { BatchSize = 16, Seed = 3 };
        var view = Ids(500);
        var source = new DataViewBatchSource(view, IdColumn, options);

        EpochData.Read(source, 0);
        WaitUntil(() => source.PreparedEpoch is not null, "epoch 1 is prepared");
        var epoch1 = EpochData.Read(source, 1).F("id");

        CollectionAssert.AreEqual(EpochData.Read(new DataViewBatchSource(Ids(500), IdColumn, options), 1).F("id"), epoch1);
        WaitUntil(() => source.PreparedEpoch?.Epoch == 2, "epoch 2 is prepared in turn");
    }

    [TestMethod]
    public void PreparedEpochIsDiscardedWhenAnotherEpochIsAskedFor()
    {
        var options = new BatchSourceOptions { BatchSize = 16, Seed = 3 };
        var view = Ids(500);
        var source = new DataViewBatchSource(view, IdColumn, options);

        EpochData.Read(source, 0);
        WaitUntil(() => source.PreparedEpoch is not null, "epoch 1 is prepared");
        var discarded = source.PreparedEpoch!;
        var epoch5 = EpochData.Read(source, 5).F("id");

        CollectionAssert.AreEqual(EpochData.Read(new DataViewBatchSource(Ids(500), IdColumn, options), 5).F("id"), epoch5);
        Assert.IsFalse(discarded.ProducerThread!.IsAlive);
    }

    [TestMethod]
    public void DiscardingThePreparedEpochStopsItsReader()
    {
        var view = Ids(100_000);
        var source = new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { BatchSize = 10, ShuffleBufferSize = 100 });
        EpochData.Read(source, 0);
        WaitUntil(() => source.PreparedEpoch is not null, "epoch 1 is prepared");
        var prepared = source.PreparedEpoch!;

        source.DiscardPreparedEpoch();

        Assert.IsNull(source.PreparedEpoch);
        Assert.IsFalse(prepared.ProducerThread!.IsAlive);
        Assert.AreEqual(0, view.OpenCursors);
        source.DiscardPreparedEpoch();
    }

    [TestMethod]
    public void UnclaimedPreparedEpochStopsAndClosesItsCursor()
    {
        // The prepared epoch fills its small buffer and its batches, then waits for a consumer.
        var options = new BatchSourceOptions { BatchSize = 10, ShuffleBufferSize = 100, PrefetchBatches = 2, Seed = 1 };
        var view = Ids(10_000);
        var source = new DataViewBatchSource(view, IdColumn, options) { PreparedEpochLifetime = TimeSpan.FromMilliseconds(100) };

        EpochData.Read(source, 0);
        WaitUntil(() => view.CursorsOpened == 2 && view.OpenCursors == 0, "the prepared epoch gives up");
        Assert.IsLessThan(20_000L, view.RowsProduced, "the prepared epoch read only a buffer's worth");

        var epoch1 = EpochData.Read(source, 1).F("id");
        CollectionAssert.AreEqual(EpochData.Read(new DataViewBatchSource(Ids(10_000), IdColumn, options), 1).F("id"), epoch1);
    }

    [TestMethod]
    public void PreparingCanBeTurnedOffAndIsNeverDoneWithoutShuffling()
    {
        var off = Ids(200);
        EpochData.Read(new DataViewBatchSource(off, IdColumn, new BatchSourceOptions { PrepareNextEpoch = false }), 0);
        var unshuffled = Ids(200);
        EpochData.Read(new DataViewBatchSource(unshuffled, IdColumn, new BatchSourceOptions { Shuffle = false }), 0);
        Thread.Sleep(100);

        Assert.AreEqual(1, off.CursorsOpened);
        Assert.AreEqual(1, unshuffled.CursorsOpened);
    }

    [TestMethod]
    public void AdoptedEpochHonoursTheNewCallersCancellation()
    {
        var view = Ids(50_000);
        var source = new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { BatchSize = 10, ShuffleBufferSize = 1000 });
        EpochData.Read(source, 0);
        WaitUntil(() => view.CursorsOpened == 2, "epoch 1 is prepared");
        using var cancellation = new CancellationTokenSource();

        using var scope = TorchSharp.torch.NewDisposeScope();
        int batches = 0;
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var batch in source.GetBatches(1, cancellation.Token))
            {
                if (++batches == 2)
                {
                    cancellation.Cancel();
                }
            }
        });

        Assert.AreEqual(2, batches);
        WaitUntil(() => view.OpenCursors == 0, "the cursor is closed");
    }

    [TestMethod]
    public void NoEpochAfterTheLastIsReadAhead()
    {
        var view = Ids(500);
        var source = new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { BatchSize = 16, Seed = 3 }) { LastEpoch = 1 };

        EpochData.Read(source, 0);
        WaitUntil(() => source.PreparedEpoch?.Epoch == 1, "epoch 1, the last, is prepared");
        EpochData.Read(source, 1);

        // The producer decides when its cursor is exhausted, before the last batches are handed out.
        Assert.IsNull(source.PreparedEpoch);
        Assert.AreEqual(2, view.CursorsOpened);
    }
}
