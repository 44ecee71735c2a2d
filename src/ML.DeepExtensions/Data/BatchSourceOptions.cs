namespace ML.DeepExtensions.Data;

/// <summary>What a batch source does with a row whose value is missing or invalid.</summary>
public enum MissingValuePolicy
{
    /// <summary>
    /// Stop with a <see cref="DataValidationException"/> naming the column and the row position. The
    /// default: silently dropping rows changes what a model learns.
    /// </summary>
    Error,

    /// <summary>
    /// Leave the row out of every batch (and out of statistics). Rows are skipped for NaN, for
    /// infinity in a <see cref="BatchColumnConversion.Float32"/> column and for key value 0.
    /// A value that is present but wrong (a binary target of 2, a key beyond the key count) is still
    /// an error.
    /// </summary>
    SkipRow,
}

/// <summary>Which rows of the data view a batch source reads.</summary>
public enum RowSubset
{
    /// <summary>Every row.</summary>
    All,

    /// <summary>The rows not assigned to validation by the deterministic split.</summary>
    Training,

    /// <summary>The rows assigned to validation by the deterministic split.</summary>
    Validation,
}

/// <summary>Options of a <see cref="DataViewBatchSource"/>. Invalid values are rejected when set.</summary>
public sealed record BatchSourceOptions
{
    /// <summary>
    /// The default of <see cref="ShuffleBufferBytes"/>: 64 MiB, which holds 65,536 rows of up to 256
    /// float features, about 21,000 MNIST images or 5,400 CIFAR images.
    /// </summary>
    public const long AutomaticShuffleBufferBytes = 64L * 1024 * 1024;

    /// <summary>The automatic shuffle buffer never holds fewer rows than this, even for very wide rows.</summary>
    public const int MinimumAutomaticShuffleBufferRows = 1024;

    /// <summary>The automatic shuffle buffer never holds more rows than this.</summary>
    public const int MaximumAutomaticShuffleBufferRows = 65_536;

    /// <summary>The automatic prefetch depth aims at this many bytes of prepared batches (8 MiB).</summary>
    public const long AutomaticPrefetchBytes = 8L * 1024 * 1024;

    private readonly int _batchSize = 32;
    private readonly int? _shuffleBufferSize;
    private readonly long _shuffleBufferBytes = AutomaticShuffleBufferBytes;
    private readonly int? _prefetchBatches;
    private readonly MissingValuePolicy _missingValues = MissingValuePolicy.Error;

    /// <summary>Rows per batch. Default 32. Must be positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int BatchSize
    {
        get => _batchSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(BatchSize));
            _batchSize = value;
        }
    }

    /// <summary>
    /// Whether each epoch reads rows in a seeded random order. Default <see langword="true"/>.
    /// Validation sources never shuffle.
    /// </summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Rows held by the shuffle buffer, or <see langword="null"/> (the default) for an automatic size:
    /// as many rows as fit in <see cref="ShuffleBufferBytes"/> (64 MiB by default), clamped to
    /// [<see cref="MinimumAutomaticShuffleBufferRows"/>, <see cref="MaximumAutomaticShuffleBufferRows"/>],
    /// and never more than the data view's row count when it is known.
    /// </summary>
    /// <remarks>
    /// An <c>IDataView</c> only offers forward cursors, so shuffling streams rows through a buffer
    /// instead of loading the data set. When the data has no more rows than the buffer, every epoch is
    /// a uniformly random permutation; with more rows the mixing is local (a row moves at most about a
    /// buffer's length from its source position on average), so sort or group-ordered data needs a
    /// bigger buffer or a pre-shuffled source. The automatic size keeps memory bounded whatever the
    /// data set size while fully shuffling typical tabular data sets.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int? ShuffleBufferSize
    {
        get => _shuffleBufferSize;
        init
        {
            if (value is { } size)
            {
                ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size, nameof(ShuffleBufferSize));
            }

            _shuffleBufferSize = value;
        }
    }

    /// <summary>
    /// The memory bound of the automatic shuffle buffer (<see cref="ShuffleBufferSize"/> null): the
    /// buffer holds at most this many bytes of row data, and at most
    /// <see cref="MaximumAutomaticShuffleBufferRows"/> rows, but never fewer than
    /// <see cref="MinimumAutomaticShuffleBufferRows"/> rows (so rows wider than 1/1,024 of the bound
    /// exceed it). Default <see cref="AutomaticShuffleBufferBytes"/> (64 MiB). Ignored when
    /// <see cref="ShuffleBufferSize"/> is set, and when not shuffling.
    /// </summary>
    /// <remarks>
    /// A row costs the bytes of its bound columns: 4 per float value (8 for a class label).
    /// While <see cref="PrepareNextEpoch"/> reads the next epoch ahead, two buffers exist at once, so
    /// the shuffled row data of a source peaks at twice this bound, plus the prefetched batches
    /// (<see cref="AutomaticPrefetchBytes"/> by default). Memory therefore grows with the data set only
    /// until the data has more rows than the buffer, and stays flat beyond.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public long ShuffleBufferBytes
    {
        get => _shuffleBufferBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(ShuffleBufferBytes));
            _shuffleBufferBytes = value;
        }
    }

    /// <summary>
    /// Seed of the shuffle (combined with the epoch number) and of the validation split (combined with
    /// each row's position). Default 0, so runs are reproducible unless a seed is chosen.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>
    /// Whether to leave out the last batch of an epoch when it has fewer than <see cref="BatchSize"/>
    /// rows. Default <see langword="false"/>: every row is used. Validation sources always keep it.
    /// </summary>
    public bool DropLastPartialBatch { get; init; }

    /// <summary>What to do with NaN, infinity or a missing key. Default <see cref="MissingValuePolicy.Error"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined policy.</exception>
    public MissingValuePolicy MissingValues
    {
        get => _missingValues;
        init
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(MissingValues), value, "Unknown missing-value policy.");
            }

            _missingValues = value;
        }
    }

    /// <summary>
    /// Whether, when shuffling, the next epoch starts reading as soon as the current epoch's rows have
    /// all been read. Default <see langword="true"/>.
    /// </summary>
    /// <remarks>
    /// A shuffled epoch cannot emit its first row before its buffer is full, so its first batch would
    /// otherwise wait for a buffer's worth of reading. With this on, epoch <c>e + 1</c> fills its
    /// buffer while epoch <c>e</c> drains, and <c>GetBatches(e + 1)</c> takes it over. The order of
    /// every epoch is unchanged (it depends only on seed and epoch). The cost is a second buffer
    /// during the overlap, and after the last epoch one buffer's worth of rows read for nothing: call
    /// <see cref="DataViewBatchSource.DiscardPreparedEpoch"/> then, or a prepared epoch that nobody asks
    /// for stops and closes its cursor 10 seconds after filling its buffer. Asking for another epoch
    /// discards it. The library's trainers know their epoch count: they read no epoch past the last,
    /// and start the first epoch's buffer while their statistics pass reads the data.
    /// </remarks>
    public bool PrepareNextEpoch { get; init; } = true;

    /// <summary>
    /// Batches the background reader may prepare ahead of training, from 1 to 256, or
    /// <see langword="null"/> (the default) for an automatic depth: as many batches as fit in
    /// <see cref="AutomaticPrefetchBytes"/>, clamped to [2, 64].
    /// </summary>
    /// <remarks>
    /// A deeper queue costs only memory and lets training ride out moments when the reader thread
    /// is not scheduled (a few milliseconds on a busy machine, many steps of a small network). Small
    /// batches therefore get a deep queue and large ones (images) a shallow one.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [1, 256].</exception>
    public int? PrefetchBatches
    {
        get => _prefetchBatches;
        init
        {
            if (value is { } batches)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(batches, 1, nameof(PrefetchBatches));
                ArgumentOutOfRangeException.ThrowIfGreaterThan(batches, 256, nameof(PrefetchBatches));
            }

            _prefetchBatches = value;
        }
    }
}
