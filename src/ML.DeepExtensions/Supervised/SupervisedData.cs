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
            ShuffleBufferBytes = data.ShuffleBufferBytes,
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

        if (options.ResumeFromCheckpoint is null)
        {
            // The first epoch fills its shuffle buffer while the statistics pass reads, rather than
            // holding back the first step until it has read the buffer's worth of rows.
            train.PrepareEpoch(0);
        }

        try
        {
            var statistics = DataViewStatistics.Compute(train, options.CancellationToken);
            if (statistics.RowCount == 0)
            {
                string skipped = statistics.SkippedRowCount > 0 ? $" ({statistics.SkippedRowCount} rows were skipped for missing values)" : "";
                throw new ArgumentException($"The training data has no rows{skipped}; there is nothing to train on.", nameof(trainData));
            }

            head.ValidateStatistics(statistics, options.LabelColumnName);
            if (data.DropLastPartialBatch && statistics.RowCount < data.BatchSize)
            {
                // Every batch would be the partial last one: the run would take no step and return the untrained network.
                throw new ArgumentException(
                    $"DropLastPartialBatch is set and Data.BatchSize ({data.BatchSize}) is larger than the {statistics.RowCount} training rows, "
                    + "so every batch would be dropped and nothing would train. Use a BatchSize of at most the row count, or turn DropLastPartialBatch off.",
                    nameof(options));
            }

            long? validationRows = validation?.CountRows(options.CancellationToken);
            if (validationRows == 0)
            {
                throw data.ValidationFraction > 0
                    ? new ArgumentException(
                        $"ValidationFraction {data.ValidationFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)} held out none of the "
                        + $"{statistics.RowCount} training rows for validation (each row is held out with that probability). "
                        + "Raise ValidationFraction, or pass validation data to Fit instead.", nameof(options))
                    : new ArgumentException("The validation data passed to Fit has no rows.", nameof(validationData));
            }

            return new SupervisedData(train, validation, statistics, validationRows);
        }
        catch
        {
            train.DiscardPreparedEpoch();
            throw;
        }
    }
}
