namespace ML.DeepExtensions.Training;

/// <summary>
/// A hook into the training loop, Keras style. Every method has an empty default, so a callback
/// overrides only what it needs. Callbacks read the shared logs and talk back only through
/// <see cref="TrainingRun.StopTraining"/>.
/// </summary>
public interface ITrainingCallback
{
    /// <summary>Before the first epoch (after a resume, before the first remaining epoch).</summary>
    void OnTrainBegin(TrainingRun run)
    {
    }

    /// <summary>After the last epoch, also when training stopped early.</summary>
    void OnTrainEnd(TrainingRun run)
    {
    }

    /// <summary>At the start of an epoch (0-based).</summary>
    void OnEpochBegin(TrainingRun run, int epoch)
    {
    }

    /// <summary>After an epoch and its validation, with that epoch's logs.</summary>
    void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
    {
    }

    /// <summary>Before a training batch; <paramref name="globalStep"/> is the global batch index.</summary>
    void OnBatchBegin(TrainingRun run, long globalStep)
    {
    }

    /// <summary>
    /// After a training batch, with running values for the epoch so far. The engine computes these
    /// values (a device synchronisation per batch) only when some callback implements this method
    /// and <see cref="ReadsBatchLogs"/>; otherwise <paramref name="logs"/> is empty. The dictionary is
    /// reused for the next batch: copy what you keep.
    /// </summary>
    void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs)
    {
    }

    /// <summary>
    /// Whether this callback's <see cref="OnBatchEnd"/> reads its logs. A callback that only times or
    /// counts batches returns false so the engine does not synchronise with the device every batch.
    /// </summary>
    bool ReadsBatchLogs => true;
}

/// <summary>
/// Fans every event out to a list of callbacks in order. Custom training loops (reinforcement
/// learning, for instance) create one and call it by hand so that the standard callbacks still work.
/// </summary>
public sealed class CallbackList : ITrainingCallback
{
    private readonly List<ITrainingCallback> _callbacks;

    /// <summary>Creates the list.</summary>
    public CallbackList(IEnumerable<ITrainingCallback> callbacks)
    {
        ArgumentNullException.ThrowIfNull(callbacks);
        _callbacks = callbacks.ToList();
    }

    /// <summary>The callbacks, in call order.</summary>
    public IReadOnlyList<ITrainingCallback> Callbacks => _callbacks;

    /// <inheritdoc />
    public void OnTrainBegin(TrainingRun run) => _callbacks.ForEach(c => c.OnTrainBegin(run));

    /// <inheritdoc />
    public void OnTrainEnd(TrainingRun run) => _callbacks.ForEach(c => c.OnTrainEnd(run));

    /// <inheritdoc />
    public void OnEpochBegin(TrainingRun run, int epoch) => _callbacks.ForEach(c => c.OnEpochBegin(run, epoch));

    /// <inheritdoc />
    public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs) => _callbacks.ForEach(c => c.OnEpochEnd(run, epoch, logs));

    /// <inheritdoc />
    public void OnBatchBegin(TrainingRun run, long globalStep) => _callbacks.ForEach(c => c.OnBatchBegin(run, globalStep));

    /// <inheritdoc />
    public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs) => _callbacks.ForEach(c => c.OnBatchEnd(run, globalStep, logs));
}
