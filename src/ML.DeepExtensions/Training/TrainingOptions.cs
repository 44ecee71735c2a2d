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

    /// <summary>Write a checkpoint every this many epochs; 0 for none. Default 1.</summary>
    public int EveryEpochs { get; init; } = 1;

    /// <summary>
    /// Write a checkpoint every this many steps; 0 (the default) for none. For loops driven by
    /// <see cref="TrainingRun.EndStep"/> (reinforcement learning, adversarial loops); the supervised
    /// trainers checkpoint at epoch ends.
    /// </summary>
    public int EverySteps { get; init; }
}

/// <summary>
/// Options of the training run shared by every model family: how long, how to optimise, what to
/// watch, when to checkpoint, where to run. How rows become batches is a family's
/// <see cref="Data.DataOptions"/>; what the network is, the family's own options. Trainer options
/// derive from this class, so an MLP, a CNN or a GAN run is configured the same way.
/// </summary>
public class TrainingOptions
{
    /// <summary>Passes over the training data. Default 20.</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>A step budget: the run ends after this many steps (optimizer updates) even mid-epoch; null for none.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>The optimizer (a GAN's options add a second one). Default Adam with learning rate 0.001.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>The learning-rate schedule of <see cref="Optimizer"/>, or null for a constant rate.</summary>
    public LearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>
    /// Parameter groups with their own learning-rate factor or weight decay, e.g. a lower rate for a
    /// pretrained backbone than for a new head. Parameters that no group selects keep the optimizer's settings.
    /// </summary>
    public IReadOnlyList<ParameterGroupOptions> ParameterGroups { get; init; } = [];

    /// <summary>Layers whose parameters are not trained (fine-tuning); see <see cref="LayerSelector"/>.</summary>
    public IReadOnlyList<LayerSelector> FrozenLayers { get; init; } = [];

    /// <summary>
    /// Keep batch normalisation inside <see cref="FrozenLayers"/> in inference mode while the rest
    /// trains, so their running statistics stay as they were. Default true.
    /// </summary>
    public bool FreezeBatchNormStatistics { get; init; } = true;

    /// <summary>Clip the global gradient L2 norm to this value; null for no clipping.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Early stopping on any logged metric, or null to train all epochs.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; init; }

    /// <summary>Periodic checkpoints, or null for none.</summary>
    public CheckpointOptions? Checkpoints { get; init; }

    /// <summary>
    /// A checkpoint file to resume from; the run continues exactly where it stopped. Settings that
    /// change the result (optimizer, learning rate, batch size, schedule, ...) must equal the
    /// checkpoint's, or the resume is refused naming both values.
    /// </summary>
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

    /// <summary>Cancels training between steps with an <see cref="OperationCanceledException"/>.</summary>
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

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public virtual void Validate()
    {
        OptionChecks.Require(Epochs > 0, nameof(Epochs), Epochs, "must be at least 1");
        OptionChecks.Require(MaxSteps is null or > 0, nameof(MaxSteps), MaxSteps ?? 0, "must be positive when set");
        OptionChecks.Require(GradientClipNorm is null or > 0, nameof(GradientClipNorm), GradientClipNorm ?? 0, "must be positive when set");
        OptionChecks.Require(IntraOpThreads is null or > 0, nameof(IntraOpThreads), IntraOpThreads ?? 0, "must be positive when set");
        OptionChecks.Require(Checkpoints is null || Checkpoints.EveryEpochs >= 0, "Checkpoints.EveryEpochs", Checkpoints?.EveryEpochs ?? 0, "must be zero or positive");
        OptionChecks.Require(Checkpoints is null || Checkpoints.EverySteps >= 0, "Checkpoints.EverySteps", Checkpoints?.EverySteps ?? 0, "must be zero or positive");
        OptionChecks.Require(Checkpoints is null || Checkpoints.EveryEpochs > 0 || Checkpoints.EverySteps > 0, "Checkpoints",
            "EveryEpochs = 0, EverySteps = 0", "must set EveryEpochs or EverySteps");
        OptionChecks.Require(EarlyStopping is null || EarlyStopping.Patience >= 0, "EarlyStopping.Patience", EarlyStopping?.Patience ?? 0, "must be zero or positive");
        ArgumentNullException.ThrowIfNull(Optimizer, nameof(Optimizer));
        ArgumentNullException.ThrowIfNull(ParameterGroups, nameof(ParameterGroups));
        ArgumentNullException.ThrowIfNull(FrozenLayers, nameof(FrozenLayers));
        ArgumentNullException.ThrowIfNull(Callbacks, nameof(Callbacks));
        Optimizer.Validate();
        LearningRateSchedule?.Validate();
        for (int i = 0; i < ParameterGroups.Count; i++)
        {
            ParameterGroups[i].Validate($"{nameof(ParameterGroups)}[{i}]");
        }
    }
}
