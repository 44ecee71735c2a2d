namespace ML.DeepExtensions.Training;

/// <summary>
/// The shared logs dictionary of a training run: metric name → value (for example <c>loss</c>,
/// <c>accuracy</c>, <c>val_loss</c>, <c>lr</c>). Validation metrics carry the <c>val_</c> prefix.
/// </summary>
public sealed class TrainingLogs : Dictionary<string, double>
{
    /// <summary>Creates empty logs.</summary>
    public TrainingLogs()
        : base(StringComparer.Ordinal)
    {
    }

    /// <summary>Creates a copy of <paramref name="other"/>.</summary>
    public TrainingLogs(IDictionary<string, double> other)
        : base(other, StringComparer.Ordinal)
    {
    }

    /// <summary>The prefix of validation metrics.</summary>
    public const string ValidationPrefix = "val_";

    /// <summary>The key of the learning rate (of the first optimizer) in epoch logs.</summary>
    public const string LearningRate = "lr";

    /// <summary>The key of the mean training loss.</summary>
    public const string Loss = "loss";

    /// <summary>Formats the logs as <c>name=value</c> pairs, for progress lines.</summary>
    public override string ToString() =>
        string.Join(" ", this.Select(kv => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value:G5}")));
}

/// <summary>The metric history of a run, one <see cref="TrainingLogs"/> per completed epoch.</summary>
public sealed partial class TrainingHistory
{
    private readonly List<TrainingLogs> _epochs = [];

    /// <summary>Epoch logs in order.</summary>
    public IReadOnlyList<TrainingLogs> Epochs => _epochs;

    /// <summary>The values of one metric across epochs (NaN where an epoch did not log it).</summary>
    public IReadOnlyList<double> this[string metric] =>
        _epochs.Select(e => e.TryGetValue(metric, out var v) ? v : double.NaN).ToArray();

    /// <summary>The epoch whose weights the final model holds (differs from the last epoch when early stopping restored the best weights).</summary>
    public int? RestoredEpoch { get; set; }

    /// <summary>True when a callback (for example early stopping) ended training before the last epoch.</summary>
    public bool StoppedEarly { get; set; }

    /// <summary>Appends one epoch's logs (a copy); the engine does this, and so should custom loops.</summary>
    public void Add(TrainingLogs logs) => _epochs.Add(new TrainingLogs(logs));
}
