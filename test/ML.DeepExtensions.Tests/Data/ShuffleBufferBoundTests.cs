using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Tabular;

namespace ML.DeepExtensions.Tests.Data;

/// <summary>The automatic shuffle buffer's memory bound is an option with a documented default (issue 12, memory).</summary>
[TestClass]
public sealed class ShuffleBufferBoundTests
{
    [TestMethod]
    public void TheDefaultBoundIs64MiBForBothTheSourceAndTheTrainers()
    {
        Assert.AreEqual(64L * 1024 * 1024, new BatchSourceOptions().ShuffleBufferBytes);
        Assert.AreEqual(64L * 1024 * 1024, new MlpMulticlassOptions().Data.ShuffleBufferBytes);
    }

    [TestMethod]
    public void TheAutomaticBufferHoldsAsManyRowsAsFitInTheBound()
    {
        // 100 floats = 400 bytes per row.
        var view = Uncounted(100);

        Assert.AreEqual(2621, Buffer(view, 1024L * 1024), "1 MiB / 400 bytes");
        Assert.AreEqual(BatchSourceOptions.MinimumAutomaticShuffleBufferRows, Buffer(view, 4096), "never fewer than the minimum rows");
        Assert.AreEqual(BatchSourceOptions.MaximumAutomaticShuffleBufferRows, Buffer(view, 1L << 40), "never more than the maximum rows");
        Assert.AreEqual(40, new DataViewBatchSource(Uncounted(100, reportsCount: true), [BatchColumn.Features("x")]).ShuffleBufferSize, "never more rows than the data has");
    }

    [TestMethod]
    public void AnExplicitRowCountOverridesTheBound()
    {
        var source = new DataViewBatchSource(Uncounted(100), [BatchColumn.Features("x")], new BatchSourceOptions { ShuffleBufferBytes = 4096, ShuffleBufferSize = 10 });

        Assert.AreEqual(10, source.ShuffleBufferSize);
    }

    [TestMethod]
    public void ANonPositiveBoundIsRejectedByName()
    {
        Assert.AreEqual("ShuffleBufferBytes", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BatchSourceOptions { ShuffleBufferBytes = 0 }).ParamName);
        Assert.AreEqual("Data.ShuffleBufferBytes", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MlpMulticlassOptions { Data = { ShuffleBufferBytes = -1 } }.Validate()).ParamName);
    }

    private static int Buffer(GeneratedDataView view, long bytes) =>
        new DataViewBatchSource(view, [BatchColumn.Features("x")], new BatchSourceOptions { ShuffleBufferBytes = bytes }).ShuffleBufferSize;

    private static GeneratedDataView Uncounted(int width, bool reportsCount = false) =>
        new(40, GeneratedColumn.Dense<float>("x", NumberDataViewType.Single, width, (r, v) => { })) { ReportsRowCount = reportsCount };
}
