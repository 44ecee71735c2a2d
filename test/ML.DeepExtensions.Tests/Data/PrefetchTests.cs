using System.Diagnostics;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Data;

[TestClass]
public sealed class PrefetchTests
{
    private static readonly BatchColumn[] IdColumn = [new BatchColumn("id", "Id")];

    private static GeneratedDataView Ids(long rows, Action<long>? beforeRow = null) =>
        new(rows, GeneratedColumn.Scalar("Id", NumberDataViewType.Single, r => (float)r)) { ReportsRowCount = false, BeforeRow = beforeRow };

    [TestMethod]
    public void NothingIsReadBeforeTheFirstMoveNext()
    {
        var view = Ids(100);
        var source = new DataViewBatchSource(view, IdColumn);
        var batches = source.GetBatches(0);
        using var enumerator = batches.GetEnumerator();

        Assert.IsNull(view.LastCursorThread);
        Assert.AreEqual(0L, view.RowsProduced);
    }

    [TestMethod]
    public void TheCursorIsReadOnABackgroundThread()
    {
        var view = Ids(10);
        EpochData.Read(new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { PrepareNextEpoch = false }));

        Assert.IsNotNull(view.LastCursorThread);
        Assert.AreNotEqual(Environment.CurrentManagedThreadId, view.LastCursorThread.ManagedThreadId);
        Assert.IsTrue(view.LastCursorThreadWasBackground);
        Assert.IsFalse(view.LastCursorThread.IsAlive);
        Assert.AreEqual(0, view.OpenCursors);
    }

    [TestMethod]
    public void ReaderExceptionSurfacesWithItsTypeAndMessageAfterEarlierBatches()
    {
        var view = Ids(100, r =>
        {
            if (r == 50)
            {
                throw new TimeZoneNotFoundException("storage went away at row 50");
            }
        });
        var source = new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { BatchSize = 10, Shuffle = false });
        int rows = 0;

        using var scope = NewDisposeScope();
        var error = Assert.ThrowsExactly<TimeZoneNotFoundException>(() =>
        {
            foreach (var batch in source.GetBatches(0))
            {
                rows += batch.RowCount;
            }
        });

        Assert.AreEqual("storage went away at row 50", error.Message);
        Assert.AreEqual(50, rows, "the five batches read before the failure are delivered first");
        Assert.AreEqual(0, view.OpenCursors);
    }

    [TestMethod]
    public void CancellationEndsTheEpochWithOperationCanceledAndStopsTheReader()
    {
        var view = Ids(1_000_000);
        var source = new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { BatchSize = 100 });
        using var cancellation = new CancellationTokenSource();
        int batches = 0;

        using var scope = NewDisposeScope();
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var batch in source.GetBatches(0, cancellation.Token))
            {
                if (++batches == 3)
                {
                    cancellation.Cancel();
                }
            }
        });

        Assert.AreEqual(3, batches);
        Assert.IsFalse(view.LastCursorThread!.IsAlive);
        Assert.AreEqual(0, view.OpenCursors);
        Assert.IsLessThan(1_000_000L, view.RowsProduced);
    }

    [TestMethod]
    public void CancellationWhileWaitingForSlowDataIsPrompt()
    {
        var view = Ids(100_000, r => Thread.Sleep(1));
        var source = new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { BatchSize = 10_000, Shuffle = false });
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var watch = Stopwatch.StartNew();

        using var scope = NewDisposeScope();
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var batch in source.GetBatches(0, cancellation.Token))
            {
                Assert.Fail("no batch can be ready this soon");
            }
        });

        Assert.IsLessThan(5_000L, watch.ElapsedMilliseconds);
        Assert.IsFalse(view.LastCursorThread!.IsAlive);
        Assert.AreEqual(0, view.OpenCursors);
    }

    [TestMethod]
    public void AlreadyCancelledTokenThrowsOnTheFirstMoveNextWithoutReading()
    {
        var view = Ids(100);
        var source = new DataViewBatchSource(view, IdColumn);

        Assert.Throws<OperationCanceledException>(() => source.GetBatches(0, new CancellationToken(canceled: true)).First());
        Assert.IsNull(view.LastCursorThread);
    }

    [TestMethod]
    public void LeavingAForeachEarlyStopsTheReaderAndClosesTheCursor()
    {
        var view = Ids(1_000_000);
        var source = new DataViewBatchSource(view, IdColumn, new BatchSourceOptions { BatchSize = 100 });

        using (NewDisposeScope())
        {
            foreach (var batch in source.GetBatches(0))
            {
                break;
            }
        }

        Assert.IsFalse(view.LastCursorThread!.IsAlive);
        Assert.AreEqual(0, view.OpenCursors);
        Assert.IsLessThan(1_000_000L, view.RowsProduced);
    }

    [TestMethod]
    public void DisposingTheEnumeratorJoinsTheProducerThread()
    {
        var source = new DataViewBatchSource(Ids(1_000_000), IdColumn, new BatchSourceOptions { BatchSize = 10 });
        using var scope = NewDisposeScope();
        var enumerator = (PrefetchingBatchEnumerator)source.GetBatches(0).GetEnumerator();
        Assert.IsTrue(enumerator.MoveNext());
        var producer = enumerator.ProducerThread!;
        Assert.IsTrue(producer.IsAlive, "the reader is waiting for a free buffer");

        enumerator.Dispose();

        Assert.IsFalse(producer.IsAlive);
        Assert.IsFalse(enumerator.MoveNext(), "a disposed enumeration has ended");
    }

    [TestMethod]
    public void TensorsAreCreatedInTheCallersDisposeScope()
    {
        var source = new DataViewBatchSource(Ids(50), IdColumn, new BatchSourceOptions { BatchSize = 8 });
        var tensors = new List<Tensor>();

        using (var scope = NewDisposeScope())
        {
            foreach (var batch in source.GetBatches(0))
            {
                tensors.Add(batch["id"]);
                Assert.IsTrue(scope.Contains(batch["id"]));
            }

            Assert.IsTrue(tensors.TrueForAll(t => !t.IsInvalid));
        }

        Assert.HasCount(7, tensors);
        Assert.IsTrue(tensors.TrueForAll(t => t.IsInvalid), "disposed with the scope");
    }

    [TestMethod]
    public void EpochsCanBeReadRepeatedlyAndIndependently()
    {
        var source = new DataViewBatchSource(Ids(300), IdColumn, new BatchSourceOptions { BatchSize = 16, Seed = 4 });

        using var scope = NewDisposeScope();
        using var first = source.GetBatches(1).GetEnumerator();
        using var second = source.GetBatches(1).GetEnumerator();
        var a = new List<float>();
        var b = new List<float>();
        while (first.MoveNext() & second.MoveNext())
        {
            a.AddRange(first.Current["id"].data<float>().ToArray());
            b.AddRange(second.Current["id"].data<float>().ToArray());
        }

        CollectionAssert.AreEqual(a, b);
        Assert.HasCount(300, a);
    }

    [TestMethod]
    public void MillionRowLazyViewStreamsWithBoundedReadAheadAndAllocation()
    {
        const long rows = 1_000_000;
        const int features = 16;
        const int batchSize = 1000;
        const int buffer = 4096;
        var view = new GeneratedDataView(
            rows,
            GeneratedColumn.Dense<float>("x", NumberDataViewType.Single, features, (r, v) => v.Fill(r % 1000)),
            GeneratedColumn.Scalar("y", BooleanDataViewType.Instance, r => r % 2 == 0))
        { ReportsRowCount = false };
        var options = new BatchSourceOptions { BatchSize = batchSize, ShuffleBufferSize = buffer, PrefetchBatches = 2, PrepareNextEpoch = false };
        var source = new DataViewBatchSource(view, [BatchColumn.Features("x"), BatchColumn.BinaryLabel("y")], options);

        long consumed = 0, maxAhead = 0, positives = 0;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using (var enumerator = source.GetBatches(0).GetEnumerator())
        {
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!enumerator.MoveNext())
                {
                    break;
                }

                var batch = enumerator.Current;
                consumed += batch.RowCount;
                positives += (long)batch.Label.sum().item<float>();
                maxAhead = Math.Max(maxAhead, view.RowsProduced - consumed);
            }
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.AreEqual(rows, consumed);
        Assert.AreEqual(rows / 2, positives);
        // The reader is never further ahead than the shuffle buffer plus the prefetch pool.
        Assert.IsLessThanOrEqualTo(buffer + 1 + (batchSize * (options.PrefetchBatches!.Value + 2)), maxAhead);
        // Materialising the features alone would take 64 MB; streaming allocates a small fraction.
        Assert.IsLessThan(16L * 1024 * 1024, allocated, $"allocated {allocated:N0} bytes");
    }
}
