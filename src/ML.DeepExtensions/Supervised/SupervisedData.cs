using Microsoft.ML;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// The training (and validation) batch sources of a supervised trainer plus the statistics of the
/// training rows, gathered in one streaming pass before training.
/// </summary>
internal sealed class SupervisedData
{
    private SupervisedData(DataViewBatchSource train, DataViewBatchSource? validation, DataStatistics statistics, long? validationRows)
    {
        Train = train;
        Validation = validation;
        Statistics = statistics;
        ValidationRows = validationRows;
    }

    public DataViewBatchSource Train { get; }

    public DataViewBatchSource? Validation { get; }

    public DataStatistics Statistics { get; }

    public long TrainingRows => Statistics.RowCount;

    public long? ValidationRows { get; }

    public static SupervisedData Open(IDataView trainData, IDataView? validationData, SupervisedNetworkOptions options, BatchColumn features, IPredictionHead head, int seed)
    {
        var columns = new[] { features, head.LabelBinding(options.LabelColumnName) };
        var data = options.Data;
        var sourceOptions = new BatchSourceOptions
        {
            BatchSize = data.BatchSize,
            Shuffle = data.Shuffle,
            ShuffleBufferSize = data.ShuffleBufferSize > 0 ? data.ShuffleBufferSize : null,
            Seed = seed,
            DropLastPartialBatch = data.DropLastPartialBatch,
            MissingValues = data.SkipRowsWithMissingValues ? MissingValuePolicy.SkipRow : MissingValuePolicy.Error,
        };

        DataViewBatchSource train;
        DataViewBatchSource? validation = null;
        if (data.ValidationFraction > 0)
        {
            (train, validation) = DataViewBatchSource.CreateTrainValidation(trainData, columns, sourceOptions, data.ValidationFraction);
        }
        else
        {
            train = new DataViewBatchSource(trainData, columns, sourceOptions);
            if (validationData is not null)
            {
                validation = new DataViewBatchSource(validationData, columns, sourceOptions with { Shuffle = false, DropLastPartialBatch = false });
            }
        }

        var statistics = DataViewStatistics.Compute(train, options.CancellationToken);
        if (statistics.RowCount == 0)
        {
            string skipped = statistics.SkippedRowCount > 0 ? $" ({statistics.SkippedRowCount} rows were skipped for missing values)" : "";
            throw new ArgumentException($"The training data has no rows{skipped}; there is nothing to train on.", nameof(trainData));
        }

        head.ValidateStatistics(statistics, options.LabelColumnName);
        long? validationRows = validation?.CountRows(options.CancellationToken);
        if (validationRows == 0)
        {
            throw new ArgumentException("The validation data has no rows.", nameof(validationData));
        }

        return new SupervisedData(train, validation, statistics, validationRows);
    }
}
