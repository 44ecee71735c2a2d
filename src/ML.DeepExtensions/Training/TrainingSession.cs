using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// What callbacks see of a running training: the model, its optimizers, the clock and the history,
/// plus the one thing they may change, <see cref="StopTraining"/>.
/// </summary>
public sealed class TrainingSession
{
    /// <summary>
    /// Creates a session. The engine makes one per run; a custom training loop (reinforcement
    /// learning, say) makes its own and passes it to a <see cref="CallbackList"/>.
    /// </summary>
    public TrainingSession(ITrainStep step, TrainingOptions options, Device device, TrainingHistory history)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(history);
        Step = step;
        Options = options;
        Device = device;
        History = history;
    }

    /// <summary>The train step (its model and optimizers).</summary>
    public ITrainStep Step { get; }

    /// <summary>The network being trained.</summary>
    public nn.Module Model => Step.Model;

    /// <summary>The options of this run.</summary>
    public TrainingOptions Options { get; }

    /// <summary>The device tensors are trained on.</summary>
    public Device Device { get; }

    /// <summary>Logs of the completed epochs.</summary>
    public TrainingHistory History { get; }

    /// <summary>Current 0-based epoch.</summary>
    public int Epoch { get; set; }

    /// <summary>Global index of the next training batch.</summary>
    public long GlobalStep { get; set; }

    /// <summary>Batches per epoch.</summary>
    public long StepsPerEpoch { get; set; }

    /// <summary>Current learning rate of the first optimizer.</summary>
    public double LearningRate { get; set; }

    /// <summary>Set to true to end training after the current epoch.</summary>
    public bool StopTraining { get; set; }
}

/// <summary>Progress reported through <see cref="TrainingOptions.Progress"/> after each epoch.</summary>
/// <param name="Epoch">The completed epoch, 1-based.</param>
/// <param name="Epochs">Epochs requested.</param>
/// <param name="GlobalStep">Batches trained so far.</param>
/// <param name="Logs">The epoch's metrics.</param>
/// <param name="Elapsed">Wall time since training began.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, long GlobalStep, TrainingLogs Logs, TimeSpan Elapsed)
{
    /// <summary>A one-line summary, e.g. <c>epoch 3/10 loss=0.41 val_loss=0.45</c>.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"epoch {Epoch}/{Epochs} {Logs} ({Elapsed.TotalSeconds:F1}s)");
}
