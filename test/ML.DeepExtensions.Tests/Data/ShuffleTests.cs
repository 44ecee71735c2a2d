using Microsoft.ML.Data;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.Tests.Data;

[TestClass]
public sealed class ShuffleTests
{
    private static GeneratedDataView Ids(long rows, bool reportsCount = true) =>
        new(rows, GeneratedColumn.Scalar("Id", NumberDataViewType.Single, r => (float)r)) { ReportsRowCount = reportsCount };

    private static float[] Order(DataViewBatchSource source, int epoch) => EpochData.Read(source, epoch).F("id");

    private static DataViewBatchSource Source(GeneratedDataView view, BatchSourceOptions options) =>
        new(view, [new BatchColumn("id", "Id")], options);

    private static void AssertEveryRowOnce(float[] order, int rows)
    {
        Assert.HasCount(rows, order);
        CollectionAssert.AreEqual(Enumerable.Range(0, rows).Select(i => (float)i).ToArray(), order.Order().ToArray());
    }

    [TestMethod]
    public void SameSeedAndEpochGiveTheSameOrder()
    {
        var options = new BatchSourceOptions { BatchSize = 16, Seed = 7 };
        var first = Order(Source(Ids(200), options), epoch: 3);
        var again = Order(Source(Ids(200), options), epoch: 3);

        CollectionAssert.AreEqual(first, again);
        CollectionAssert.AreNotEqual(Enumerable.Range(0, 200).Select(i => (float)i).ToArray(), first, "shuffled");
    }

    [TestMethod]
    public void DifferentEpochsAndSeedsGiveDifferentOrders()
    {
        var source = Source(Ids(200), new BatchSourceOptions { BatchSize = 16, Seed = 7 });
        var epoch0 = Order(source, 0);

        CollectionAssert.AreNotEqual(epoch0, Order(source, 1));
        CollectionAssert.AreNotEqual(epoch0, Order(Source(Ids(200), new BatchSourceOptions { BatchSize = 16, Seed = 8 }), 0));
    }

    [TestMethod]
    public void EveryRowAppearsExactlyOncePerEpoch()
    {
        var source = Source(Ids(1000), new BatchSourceOptions { BatchSize = 32, Seed = 1 });
        Assert.AreEqual(1000, source.ShuffleBufferSize, "the buffer is capped by the known row count");

        for (int epoch = 0; epoch < 3; epoch++)
        {
            AssertEveryRowOnce(Order(source, epoch), 1000);
        }
    }

    [TestMethod]
    public void BufferSmallerThanDataStillCoversEveryRowOnce()
    {
        var source = Source(Ids(5000, reportsCount: false), new BatchSourceOptions { BatchSize = 64, ShuffleBufferSize = 50, Seed = 3 });
        var order = Order(source, 0);

        AssertEveryRowOnce(order, 5000);
        // The mixing is local: no row can come out before the buffer has seen it.
        for (int i = 0; i < order.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(i + 50, (int)order[i], $"row {order[i]} emitted at {i}");
        }

        CollectionAssert.AreNotEqual(Enumerable.Range(0, 5000).Select(i => (float)i).ToArray(), order);
    }

    [TestMethod]
    public void ShuffleOffKeepsSourceOrder()
    {
        var order = Order(Source(Ids(100), new BatchSourceOptions { BatchSize = 7, Shuffle = false }), 5);

        CollectionAssert.AreEqual(Enumerable.Range(0, 100).Select(i => (float)i).ToArray(), order);
    }

    [TestMethod]
    public void ShuffleBufferHoldingAllRowsGivesUniformPositions()
    {
        // Every row should land in every position equally often: 4 rows, 40,000 epochs, 10,000 expected per cell.
        const int rows = 4;
        const int epochs = 40_000;
        var counts = new int[rows, rows];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var buffer = new ShuffleBuffer(rows, SplitMix64.ForEpoch(0, epoch));
            for (int row = 0; row < rows; row++)
            {
                Assert.AreEqual(-1, buffer.Add(row), "nothing is emitted while the buffer fills");
            }

            int position = 0;
            while (buffer.TryDrain(out int emitted))
            {
                counts[emitted, position++]++;
            }
        }

        foreach (int count in counts)
        {
            Assert.IsInRange(9_500, 10_500, count);
        }
    }

    [TestMethod]
    public void FullShuffleBufferEmitsARandomBufferedRowForEachNewOne()
    {
        var buffer = new ShuffleBuffer(3, SplitMix64.ForEpoch(1, 0));
        var emitted = new List<int>();
        for (int row = 0; row < 10; row++)
        {
            int slot = buffer.Add(row);
            if (slot >= 0)
            {
                Assert.IsLessThan(row, slot, "only rows already buffered come out");
                emitted.Add(slot);
            }
        }

        while (buffer.TryDrain(out int slot))
        {
            emitted.Add(slot);
        }

        CollectionAssert.AreEquivalent(Enumerable.Range(0, 10).ToList(), emitted);
    }

    [TestMethod]
    public void GeneratorMatchesTheSplitMix64ReferenceSequence()
    {
        // The reference implementation's first outputs for seed 1234567.
        var random = new SplitMix64(1234567);

        Expect.Values(
            Enumerable.Range(0, 5).Select(_ => random.NextUInt64()),
            6457827717110365317UL, 3203168211198807973UL, 9817491932198370423UL, 4593380528125082431UL, 16408922859458223821UL);
    }

    [TestMethod]
    public void EpochOrderIsPinnedAcrossVersions()
    {
        // A change here would silently change the data order of every resumed run.
        var random = SplitMix64.ForEpoch(seed: 0, epoch: 0);

        Expect.Values(Enumerable.Range(0, 6).Select(_ => random.NextInt32(1000)), 40, 197, 134, 577, 530, 413);
    }
}
