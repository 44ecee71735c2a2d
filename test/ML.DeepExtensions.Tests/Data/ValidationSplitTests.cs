using Microsoft.ML.Data;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.Tests.Data;

[TestClass]
public sealed class ValidationSplitTests
{
    private static readonly BatchColumn[] IdColumn = [new BatchColumn("id", "Id")];

    private static GeneratedDataView Ids(long rows) =>
        new(rows, GeneratedColumn.Scalar("Id", NumberDataViewType.Single, r => (float)r));

    [TestMethod]
    public void SplitIsDisjointCompleteAndNearTheFraction()
    {
        var (train, validation) = DataViewBatchSource.CreateTrainValidation(Ids(10_000), IdColumn, new BatchSourceOptions { BatchSize = 100 }, 0.2);
        var trainRows = EpochData.Read(train).F("id");
        var validationRows = EpochData.Read(validation).F("id");

        Assert.IsEmpty(trainRows.Intersect(validationRows));
        CollectionAssert.AreEqual(Enumerable.Range(0, 10_000).Select(i => (float)i).ToArray(), trainRows.Concat(validationRows).Order().ToArray());
        // Binomial(10,000, 0.2): standard deviation 40 rows; allow five of them.
        Assert.IsInRange(1800, 2200, validationRows.Length);
        Assert.AreEqual(RowSubset.Training, train.Subset);
        Assert.AreEqual(RowSubset.Validation, validation.Subset);
        Assert.AreEqual(0.2, validation.ValidationFraction);
    }

    [TestMethod]
    public void SplitIsDeterministicForASeedAndChangesWithIt()
    {
        float[] ValidationRows(int seed) =>
            EpochData.Read(DataViewBatchSource.CreateTrainValidation(Ids(2000), IdColumn, new BatchSourceOptions { Seed = seed }, 0.25).Validation).F("id");

        CollectionAssert.AreEqual(ValidationRows(5), ValidationRows(5));
        CollectionAssert.AreNotEqual(ValidationRows(5), ValidationRows(6));
    }

    [TestMethod]
    public void SplitDoesNotDependOnShuffleOrEpoch()
    {
        var (train, _) = DataViewBatchSource.CreateTrainValidation(Ids(3000), IdColumn, new BatchSourceOptions { Seed = 2 }, 0.3);

        CollectionAssert.AreEquivalent(EpochData.Read(train, 0).F("id"), EpochData.Read(train, 1).F("id"));
    }

    [TestMethod]
    public void ValidationSourceNeverShufflesAndKeepsItsLastPartialBatch()
    {
        var options = new BatchSourceOptions { BatchSize = 64, Shuffle = true, DropLastPartialBatch = true };
        var (_, validation) = DataViewBatchSource.CreateTrainValidation(Ids(1000), IdColumn, options, 0.5);
        var epoch = EpochData.Read(validation, epoch: 4);
        var rows = epoch.F("id");

        CollectionAssert.AreEqual(rows.Order().ToArray(), rows, "source order");
        Assert.AreEqual(rows.Length, epoch.BatchSizes.Sum());
        Assert.AreNotEqual(0, rows.Length % 64, "this split happens to leave a partial batch");
        Assert.IsFalse(validation.Options.Shuffle);
        Assert.IsFalse(validation.Options.DropLastPartialBatch);
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1.0)]
    [DataRow(-0.1)]
    [DataRow(1.5)]
    [DataRow(double.NaN)]
    public void FractionOutsideTheOpenUnitIntervalThrows(double fraction)
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            DataViewBatchSource.CreateTrainValidation(Ids(10), IdColumn, new BatchSourceOptions(), fraction));
    }

    [TestMethod]
    public void SplitRowCountsAreKnownAfterCounting()
    {
        var (train, validation) = DataViewBatchSource.CreateTrainValidation(Ids(500), IdColumn, new BatchSourceOptions { BatchSize = 10 }, 0.1);

        Assert.IsNull(train.RowCount, "a split's size is only known after a pass");
        Assert.AreEqual(500L, train.CountRows() + validation.CountRows());
        Assert.AreEqual((train.RowCount + 9) / 10, train.BatchesPerEpoch);
    }
}
