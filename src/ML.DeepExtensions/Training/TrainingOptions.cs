namespace ML.DeepExtensions.Training;

/// <summary>Where training runs.</summary>
public enum TrainingDevice
{
    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>A CUDA GPU; training fails with a clear error when no CUDA backend is loaded.</summary>
    Cuda,

    /// <summary>CUDA when a CUDA backend and device are present, otherwise the CPU.</summary>
    Auto,
}

/// <summary>Stop when a monitored metric stops improving, Keras style.</summary>
public sealed record EarlyStoppingOptions
{
    /// <summary>The log key to watch. Default <c>val_loss</c>.</summary>
    public string Monitor { get; init; } = "val_loss";

    /// <summary>Epochs without improvement before stopping. Default 5.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Smallest change that counts as improvement. Default 0.</summary>
    public double MinDelta { get; init; }

    /// <summary>Direction of improvement. Default: from the metric name.</summary>
    public MonitorMode Mode { get; init; } = MonitorMode.Auto;

    /// <summary>Put back the weights of the best epoch when training ends. Default true.</summary>
    public bool RestoreBestWeights { get; init; } = true;
}

/// <summary>Periodic checkpoints of the whole training state.</summary>
public sealed record CheckpointOptions
{
    /// <summary>Folder for checkpoint files; created if missing. Existing files are never overwritten.</summary>
    public required string Directory { get; init; }

    /// <summary>Write a checkpoint every this many epochs. Default 1.</summary>
    public int EveryEpochs { get; init; } = 1;
}

/// <summary>
/// Options of the training engine shared by every model family. Trainer options derive from this
/// class, so an MLP, a CNN or a GAN trainer is configured the same way.
/// </summary>
public class TrainingOptions
{
    /// <summary>Passes over the training data. Default 20.</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>Rows per mini-batch. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The optimizer. Default Adam with learning rate 0.001.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>The learning-rate schedule, or null for a constant rate.</summary>
    public LearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>Clip the global gradient L2 norm to this value; null for no clipping.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Early stopping, or null to train all epochs.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; init; }

    /// <summary>Periodic checkpoints, or null for none.</summary>
    public CheckpointOptions? Checkpoints { get; init; }

    /// <summary>A checkpoint file to resume from; the run continues exactly where it stopped.</summary>
    public string? ResumeFromCheckpoint { get; init; }

    /// <summary>
    /// Compute the metrics (accuracy, MAE...) on training batches too, as Keras does. Default true.
    /// The loss is always logged and validation metrics are always computed; turning this off saves a
    /// few tensor operations per batch, which matters only for very small networks.
    /// </summary>
    public bool ComputeTrainingMetrics { get; init; } = true;

    /// <summary>Extra callbacks, called in order after the built-in ones.</summary>
    public IReadOnlyList<ITrainingCallback> Callbacks { get; init; } = [];

    /// <summary>Receives one report per completed epoch.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Cancels training between batches with an <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Seed for weight initialisation, shuffling and dropout. Null: taken from the MLContext's seed
    /// (or random when the context has none). The same seed and data give bit-identical weights on CPU.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>Where to train. Default <see cref="TrainingDevice.Cpu"/>.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Cpu;

    /// <summary>libtorch intra-op threads (a process-wide setting); null leaves libtorch's default.</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>Shuffle the training rows each epoch. Default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Rows held by the streaming shuffle buffer; 0 (the default) sizes it automatically within
    /// <see cref="ShuffleBufferBytes"/>.
    /// </summary>
    public int ShuffleBufferSize { get; init; }

    /// <summary>
    /// The memory bound of the automatic shuffle buffer: at most this many bytes of row data (4 per
    /// float value), at most 65,536 rows and at least 1,024. Default 64 MiB. Training reads the next
    /// epoch ahead, so shuffled rows peak at twice this; see <see cref="Data.BatchSourceOptions.ShuffleBufferBytes"/>.
    /// </summary>
    public long ShuffleBufferBytes { get; init; } = Data.BatchSourceOptions.AutomaticShuffleBufferBytes;

    /// <summary>Drop the last, smaller batch of each epoch. Default false (keep it).</summary>
    public bool DropLastPartialBatch { get; init; }

    /// <summary>
    /// Fraction of the training rows held out for validation (0 for none) when no validation data
    /// is passed to Fit. The split is a seeded hash of each row's position, so no data is copied.
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>Skip rows with missing values (NaN) instead of failing. Default false: fail naming the column and row.</summary>
    public bool SkipRowsWithMissingValues { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public virtual void Validate()
    {
        OptionChecks.Require(Epochs > 0, nameof(Epochs), Epochs, "must be at least 1");
        OptionChecks.Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be at least 1");
        OptionChecks.Require(GradientClipNorm is null or > 0, nameof(GradientClipNorm), GradientClipNorm ?? 0, "must be positive when set");
        OptionChecks.Require(IntraOpThreads is null or > 0, nameof(IntraOpThreads), IntraOpThreads ?? 0, "must be positive when set");
        OptionChecks.Require(ShuffleBufferSize >= 0, nameof(ShuffleBufferSize), ShuffleBufferSize, "must be zero or positive");
        OptionChecks.Require(ShuffleBufferBytes > 0, nameof(ShuffleBufferBytes), ShuffleBufferBytes, "must be positive");
        OptionChecks.Require(ValidationFraction is >= 0 and < 1, nameof(ValidationFraction), ValidationFraction, "must be in [0, 1)");
        OptionChecks.Require(Checkpoints is null || Checkpoints.EveryEpochs > 0, "Checkpoints.EveryEpochs", Checkpoints?.EveryEpochs ?? 0, "must be at least 1");
        OptionChecks.Require(EarlyStopping is null || EarlyStopping.Patience >= 0, "EarlyStopping.Patience", EarlyStopping?.Patience ?? 0, "must be zero or positive");
        Optimizer.Validate();
        LearningRateSchedule?.Validate();
    }
}
