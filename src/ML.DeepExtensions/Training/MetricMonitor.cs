namespace ML.DeepExtensions.Training;

/// <summary>Whether a larger or a smaller monitored value is better.</summary>
public enum MonitorMode
{
    /// <summary>Decided from the metric name: accuracy, AUC, F1, R² and similar are maximised, the rest minimised.</summary>
    Auto,

    /// <summary>Smaller is better (losses, errors).</summary>
    Min,

    /// <summary>Larger is better (accuracy, AUC).</summary>
    Max,
}

/// <summary>
/// Tracks the best value of one logged metric and how many epochs passed without improvement.
/// Early stopping, reduce-on-plateau and best-model checkpointing all decide through this one piece.
/// </summary>
public sealed class MetricMonitor
{
    private static readonly string[] MaximisedNames = ["acc", "auc", "f1", "precision", "recall", "r2", "rsquared", "reward"];

    /// <summary>Creates a monitor.</summary>
    /// <param name="metric">Log key, for example <c>val_loss</c> or <c>val_accuracy</c>.</param>
    /// <param name="mode">Direction of improvement.</param>
    /// <param name="minDelta">Smallest change that counts as an improvement.</param>
    public MetricMonitor(string metric, MonitorMode mode = MonitorMode.Auto, double minDelta = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(metric);
        ArgumentOutOfRangeException.ThrowIfNegative(minDelta);
        Metric = metric;
        Maximise = mode == MonitorMode.Max
            || (mode == MonitorMode.Auto && MaximisedNames.Any(n => metric.Contains(n, StringComparison.OrdinalIgnoreCase)));
        MinDelta = minDelta;
        Best = Maximise ? double.NegativeInfinity : double.PositiveInfinity;
    }

    /// <summary>The monitored log key.</summary>
    public string Metric { get; }

    /// <summary>True when larger values are better.</summary>
    public bool Maximise { get; }

    /// <summary>Smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Best value seen so far.</summary>
    public double Best { get; private set; }

    /// <summary>Epoch of the best value, or -1.</summary>
    public int BestEpoch { get; private set; } = -1;

    /// <summary>Consecutive observations without improvement.</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>
    /// Records the metric from an epoch's logs and returns whether it improved on the best value.
    /// </summary>
    /// <exception cref="InvalidOperationException">The logs lack the metric; the message lists the available keys.</exception>
    public bool Observe(int epoch, TrainingLogs logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        if (!logs.TryGetValue(Metric, out var value))
        {
            throw new InvalidOperationException(
                $"Cannot monitor '{Metric}': this epoch logged only {string.Join(", ", logs.Keys)}. "
                + "Validation metrics (val_*) need validation data or a validation fraction.");
        }

        bool improved = Maximise ? value > Best + MinDelta : value < Best - MinDelta;
        if (improved)
        {
            Best = value;
            BestEpoch = epoch;
            EpochsWithoutImprovement = 0;
        }
        else
        {
            EpochsWithoutImprovement++;
        }

        return improved;
    }

    /// <summary>Resets the "without improvement" counter (after a learning-rate reduction, for example).</summary>
    public void ResetWait() => EpochsWithoutImprovement = 0;

    internal MonitorState GetState() => new(Best, BestEpoch, EpochsWithoutImprovement);

    internal void SetState(MonitorState state)
    {
        Best = state.Best;
        BestEpoch = state.BestEpoch;
        EpochsWithoutImprovement = state.EpochsWithoutImprovement;
    }

    internal sealed record MonitorState(double Best, int BestEpoch, int EpochsWithoutImprovement);
}
