using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Data;

namespace ML.DeepExtensions.Tests.Supervised;

/// <summary>
/// A trainer reads its first epoch while the statistics pass runs, and reads no epoch after the last,
/// so neither the first step nor the last epoch waits for or competes with reading that nobody trains on.
/// </summary>
[TestClass]
public sealed class FirstEpochReadAheadTests
{
    private static GeneratedDataView Rows(long rows, Action<long>? beforeRow = null) =>
        new(rows,
            GeneratedColumn.Dense<float>("Features", NumberDataViewType.Single, 3, (row, values) => values.Fill(row % 7)),
            GeneratedColumn.Scalar("Label", NumberDataViewType.Single, row => (float)(row % 7)))
        { BeforeRow = beforeRow };

    [TestMethod]
    public void TheFirstEpochCursorOpensWhileTheStatisticsPassIsReading()
    {
        GeneratedDataView? view = null;
        int waited = 0;
        // The first cursor to reach a row waits, still open, until a second one has been opened: with
        // reading ahead, the first epoch's cursor and the statistics pass's cursor are open at once;
        // without, this times out. (The count of cursors ever opened, because the second may read its
        // few rows and close between two looks.)
        view = Rows(300, row =>
        {
            if (row == 0 && Interlocked.Exchange(ref waited, 1) == 0)
            {
                var clock = Stopwatch.StartNew();
                while (view!.CursorsOpened < 2)
                {
                    if (clock.ElapsedMilliseconds > 10_000)
                    {
                        throw new TimeoutException("Only one cursor was open while the first one read: the first epoch was not read during the statistics pass.");
                    }

                    Thread.Sleep(1);
                }
            }
        });

        var context = new MLContext(seed: 1);
        using var model = context.Regression.Trainers.Mlp(new MlpRegressionOptions { HiddenLayers = [4], Epochs = 2, Seed = 1 }).Fit(view);

        Assert.HasCount(2, model.History.Epochs);
    }

    [TestMethod]
    public void AOneEpochFitReadsTheDataOnceForStatisticsAndOnceForTheEpoch()
    {
        var view = Rows(300);
        var context = new MLContext(seed: 1);

        using var model = context.Regression.Trainers.Mlp(new MlpRegressionOptions { HiddenLayers = [4], Epochs = 1, Seed = 1 }).Fit(view);

        // Two full passes: the statistics and epoch 0 (no epoch 1 read ahead). Building the scoring
        // chain reads no rows.
        Assert.AreEqual(600L, view.RowsProduced);
        Assert.AreEqual(0, view.OpenCursors);
    }

    [TestMethod]
    public void ReadingAheadDoesNotChangeWhatIsTrained()
    {
        var context = new MLContext(seed: 1);
        var options = new MlpRegressionOptions { HiddenLayers = [4], Epochs = 3, Seed = 5 };
        using var first = context.Regression.Trainers.Mlp(options).Fit(Rows(300));
        using var second = context.Regression.Trainers.Mlp(options).Fit(Rows(300, row => Thread.SpinWait(row % 3 == 0 ? 2000 : 0)));

        CollectionAssert.AreEqual(first.History["loss"].ToArray(), second.History["loss"].ToArray());
    }
}
