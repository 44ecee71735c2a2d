using System.Diagnostics;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>A training callback that times each epoch from its begin to its end: the training loop's own time, without setup or export.</summary>
internal sealed class EpochTimer : ITrainingCallback
{
    private readonly Stopwatch _stopwatch = new();

    /// <summary>Each finished epoch's seconds, in order.</summary>
    public List<double> Epochs { get; } = [];

    /// <summary>The last finished epoch's seconds.</summary>
    public double Seconds => Epochs[^1];

    public void OnEpochBegin(TrainingRun run, int epoch) => _stopwatch.Restart();

    public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs) => Epochs.Add(_stopwatch.Elapsed.TotalSeconds);
}
