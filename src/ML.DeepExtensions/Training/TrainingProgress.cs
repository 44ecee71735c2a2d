namespace ML.DeepExtensions.Training;

/// <summary>Progress reported through <see cref="TrainingOptions.Progress"/> after each epoch.</summary>
/// <param name="Epoch">The completed epoch, 1-based.</param>
/// <param name="Epochs">Epochs requested.</param>
/// <param name="GlobalStep">Steps trained so far.</param>
/// <param name="Logs">The epoch's metrics.</param>
/// <param name="Elapsed">Wall time since training began.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, long GlobalStep, TrainingLogs Logs, TimeSpan Elapsed)
{
    /// <summary>A one-line summary, e.g. <c>epoch 3/10 loss=0.41 val_loss=0.45</c>.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"epoch {Epoch}/{Epochs} {Logs} ({Elapsed.TotalSeconds:F1}s)");
}

/// <summary>
/// Training stopped because a loss, metric or gradient became NaN or infinite. The model of the
/// run is not returned; checkpoints written before the divergence are kept untouched.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public TrainingDivergedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The 0-based epoch in which the value diverged.</summary>
    public int Epoch { get; init; }

    /// <summary>The global step at which it was detected.</summary>
    public long Step { get; init; }

    /// <summary>The logged name of the value, e.g. <c>loss</c>.</summary>
    public string Metric { get; init; } = "";

    /// <summary>The last checkpoint written before the divergence, or null when none was.</summary>
    public string? LastCheckpoint { get; init; }
}
