using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.Tests.Data;

[TestClass]
public sealed class StatisticsTests
{
    public sealed class Row
    {
        public string Label { get; set; } = "";

        [VectorType(2)]
        public float[] Features { get; set; } = [];
    }

    private static readonly Row[] Rows =
    [
        new() { Label = "a", Features = [1f, 10f] },
        new() { Label = "b", Features = [2f, 10f] },
        new() { Label = "a", Features = [4f, 10f] },
        new() { Label = "c", Features = [8f, 10f] },
        new() { Label = "a", Features = [-5f, 10f] },
    ];

    private static IDataView Keyed()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows);
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    [TestMethod]
    public void ClassCountsAndKeyNamesAreRead()
    {
        var stats = DataViewStatistics.Compute(Keyed(), [BatchColumn.Features(), BatchColumn.ClassLabel()]);
        var label = stats[BatchRoles.Label];

        Assert.AreEqual(5L, stats.RowCount);
        Expect.Values(label.ClassCounts!.ToArray(), 3, 1, 1);
        Assert.AreEqual(3, label.ClassCount);
        Assert.AreEqual(3, label.ObservedClassCount);
        Expect.Values(label.ClassNames!.ToArray(), "a", "b", "c");
        Assert.IsNull(label.Mean);
    }

    [TestMethod]
    public void MeanAndStandardDeviationMatchAHandComputation()
    {
        var stats = DataViewStatistics.Compute(Keyed(), [BatchColumn.Features()]);
        var features = stats[BatchRoles.Features];

        double[] x = [1, 2, 4, 8, -5];
        double mean = x.Average();
        double std = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / x.Length);
        Assert.AreEqual(2, features.ValuesPerRow);
        Assert.AreEqual(mean, features.Mean![0], 1e-12);
        Assert.AreEqual(std, features.StandardDeviation![0], 1e-12);
        Assert.AreEqual(10.0, features.Mean[1], 1e-12);
        Assert.AreEqual(0.0, features.StandardDeviation[1], 1e-12);
        Expect.Values(features.GetMeanAsSingle(), (float)mean, 10f);
        Assert.IsNull(features.ClassCounts);
    }

    [TestMethod]
    public void WelfordAccumulationIsStableWithALargeOffset()
    {
        var view = new GeneratedDataView(10_000, GeneratedColumn.Scalar("x", NumberDataViewType.Double, r => 1e6 + (r % 2 == 0 ? 0.5 : -0.5)));
        var stats = DataViewStatistics.Compute(view, [BatchColumn.Features("x")]);

        Assert.AreEqual(1e6, stats[BatchRoles.Features].Mean![0], 1e-6);
        Assert.AreEqual(0.5, stats[BatchRoles.Features].StandardDeviation![0], 1e-6);
    }

    [TestMethod]
    public void TrainingSideStatisticsExcludeValidationRows()
    {
        var view = new GeneratedDataView(
            3000,
            GeneratedColumn.Scalar("Id", NumberDataViewType.Single, r => (float)r),
            GeneratedColumn.Scalar("Label", BooleanDataViewType.Instance, r => r % 3 == 0));
        var columns = new[] { BatchColumn.Features("Id"), BatchColumn.ClassLabel() };
        var (train, validation) = DataViewBatchSource.CreateTrainValidation(view, columns, new BatchSourceOptions { Seed = 11 }, 0.25);

        var stats = DataViewStatistics.Compute(train);
        var trainRows = EpochData.Read(train);
        var ids = trainRows.F(BatchRoles.Features);
        var labels = trainRows.L(BatchRoles.Label);

        Assert.AreEqual(ids.Length, stats.RowCount);
        Assert.AreEqual((long)ids.Length, train.RowCount);
        Assert.AreEqual(ids.Average(v => (double)v), stats[BatchRoles.Features].Mean![0], 1e-9);
        Expect.Values(stats[BatchRoles.Label].ClassCounts!.ToArray(), labels.LongCount(l => l == 0), labels.LongCount(l => l == 1));
        Assert.AreEqual(3000L, stats.RowCount + DataViewStatistics.Compute(validation).RowCount);
    }

    [TestMethod]
    public void MissingValuesFollowThePolicy()
    {
        var view = new GeneratedDataView(4, GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => r == 2 ? float.NaN : r));

        var error = Assert.ThrowsExactly<DataValidationException>(() => DataViewStatistics.Compute(view, [BatchColumn.Features("x")]));
        Assert.Contains("row 2", error.Message);

        var stats = DataViewStatistics.Compute(view, [BatchColumn.Features("x")], MissingValuePolicy.SkipRow);
        Assert.AreEqual(3L, stats.RowCount);
        Assert.AreEqual(1L, stats.SkippedRowCount);
        Assert.AreEqual((0 + 1 + 3) / 3.0, stats[BatchRoles.Features].Mean![0], 1e-12);
    }

    [TestMethod]
    public void SingleClassBooleanLabelHasOneObservedClass()
    {
        var view = new GeneratedDataView(6, GeneratedColumn.Scalar("Label", BooleanDataViewType.Instance, r => true));
        var label = DataViewStatistics.Compute(view, [BatchColumn.ClassLabel()])[BatchRoles.Label];

        Expect.Values(label.ClassCounts!.ToArray(), 0, 6);
        Assert.AreEqual(1, label.ObservedClassCount);
        Assert.IsNull(label.ClassNames);
    }

    [TestMethod]
    public void BooleanFeatureHasMeansButNoClassCounts()
    {
        var view = new GeneratedDataView(4, GeneratedColumn.Scalar("flag", BooleanDataViewType.Instance, r => r == 0));
        var flag = DataViewStatistics.Compute(view, [BatchColumn.Features("flag")])[BatchRoles.Features];

        Assert.AreEqual(0.25, flag.Mean![0], 1e-12);
        Assert.IsNull(flag.ClassCounts);
        Assert.AreEqual(0, flag.ObservedClassCount);
    }

    [TestMethod]
    public void BinaryTargetGivesCountsAndPositiveRate()
    {
        var view = new GeneratedDataView(8, GeneratedColumn.Scalar("Label", NumberDataViewType.Double, r => r < 2 ? 1.0 : 0.0));
        var label = DataViewStatistics.Compute(view, [BatchColumn.BinaryLabel()])[BatchRoles.Label];

        Expect.Values(label.ClassCounts!.ToArray(), 6, 2);
        Assert.AreEqual(0.25, label.Mean![0], 1e-12);
    }

    [TestMethod]
    public void EmptyDataHasZeroRowsAndNaNMeans()
    {
        var view = new GeneratedDataView(0, GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => 1f));
        var stats = DataViewStatistics.Compute(view, [BatchColumn.Features("x")]);

        Assert.AreEqual(0L, stats.RowCount);
        Assert.IsTrue(double.IsNaN(stats[BatchRoles.Features].Mean![0]));
    }

    [TestMethod]
    public void ClassIndexColumnHasNoMeansForStandardization()
    {
        var stats = DataViewStatistics.Compute(Keyed(), [BatchColumn.ClassLabel()]);

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => stats[BatchRoles.Label].GetMeanAsSingle());
        Assert.Contains("'Label'", error.Message);
        Assert.ThrowsExactly<KeyNotFoundException>(() => stats[BatchRoles.Features]);
    }
}
