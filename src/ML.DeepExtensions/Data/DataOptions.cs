using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Data;

/// <summary>
/// How a trainer reads an <see cref="Microsoft.ML.IDataView"/> into mini-batches: batch size,
/// shuffling, the last partial batch, the validation split and missing values. Families that read
/// rows (supervised, sequence, GAN) hold one as their <c>Data</c> property; set single values with a
/// nested initializer so the family's other defaults stay: <c>Data = { BatchSize = 128 }</c>
/// (which is why these properties have setters rather than init accessors).
/// </summary>
public sealed record DataOptions
{
    /// <summary>Rows per mini-batch. Default 32 (families may set another default).</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Shuffle the training rows each epoch. Default true.</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>
    /// Rows held by the streaming shuffle buffer; 0 (the default) sizes it automatically within
    /// <see cref="ShuffleBufferBytes"/>. Memory of a Fit grows with this bound, not with the data's row count.
    /// </summary>
    public int ShuffleBufferSize { get; set; }

    /// <summary>
    /// The memory bound of the automatic shuffle buffer: at most this many bytes of row data (4 per
    /// float value), at most 65,536 rows and at least 1,024. Default 64 MiB. Training reads the next
    /// epoch ahead, so shuffled rows peak at twice this; see <see cref="BatchSourceOptions.ShuffleBufferBytes"/>.
    /// </summary>
    public long ShuffleBufferBytes { get; set; } = BatchSourceOptions.AutomaticShuffleBufferBytes;

    /// <summary>Drop the last, smaller batch of each epoch. Default false (keep it).</summary>
    public bool DropLastPartialBatch { get; set; }

    /// <summary>
    /// Fraction of the training rows held out for validation (0 for none) when no validation data
    /// is passed to Fit. The split is a seeded hash of each row's position, so no data is copied.
    /// </summary>
    public double ValidationFraction { get; set; }

    /// <summary>Skip rows with missing values (NaN) instead of failing. Default false: fail naming the column and row.</summary>
    public bool SkipRowsWithMissingValues { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        OptionChecks.Require(BatchSize > 0, "Data." + nameof(BatchSize), BatchSize, "must be at least 1");
        OptionChecks.Require(ShuffleBufferSize >= 0, "Data." + nameof(ShuffleBufferSize), ShuffleBufferSize, "must be zero or positive");
        OptionChecks.Require(ShuffleBufferBytes > 0, "Data." + nameof(ShuffleBufferBytes), ShuffleBufferBytes, "must be positive");
        OptionChecks.Require(ValidationFraction is >= 0 and < 1, "Data." + nameof(ValidationFraction), ValidationFraction, "must be in [0, 1)");
    }
}
