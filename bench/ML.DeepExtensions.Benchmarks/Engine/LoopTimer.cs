using System.Diagnostics;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary>
/// Times the training engine's loop from outside, through the public callback hooks: the whole loop
/// (first OnEpochBegin to last OnEpochEnd, so a trainer's statistics pass, network building and ONNX
/// export are left out), split into where the time goes:
/// <list type="bullet">
/// <item>start of epoch: OnEpochBegin to the epoch's first OnBatchBegin (waiting for the first batch),
/// for the first epoch and, averaged, for the later ones;</item>
/// <item>between batches: OnBatchEnd to the next OnBatchBegin (freeing the batch's scope, fetching the next
/// batch from the source, the schedule);</item>
/// <item>in the step: OnBatchBegin to OnBatchEnd (forward, backward, optimizer, loss and metric reads, batch logs);</item>
/// <item>end of epoch: the last OnBatchEnd to OnEpochEnd (the end of the source's epoch, epoch logs).</item>
/// </list>
/// Each hook costs one timestamp, tens of nanoseconds against a step of hundreds of microseconds.
/// </summary>
internal sealed class LoopTimer : ITrainingCallback
{
    private long _last;
    private bool _firstBatchOfEpoch;

    public LoopClock Clock { get; } = new();

    public int EpochsTimed { get; private set; }

    public long Batches { get; private set; }

    public TimeSpan FirstEpochStart { get; private set; }

    public TimeSpan LaterEpochStarts { get; private set; }

    public TimeSpan BetweenBatches { get; private set; }

    public TimeSpan InStep { get; private set; }

    public TimeSpan EpochEnd { get; private set; }

    public void OnEpochBegin(TrainingRun run, int epoch)
    {
        if (epoch == 0)
        {
            Clock.Start();
        }

        _firstBatchOfEpoch = true;
        _last = Stopwatch.GetTimestamp();
    }

    public void OnBatchBegin(TrainingRun run, long globalStep)
    {
        var gap = Stopwatch.GetElapsedTime(_last);
        if (_firstBatchOfEpoch)
        {
            if (run.Epoch == 0)
            {
                FirstEpochStart = gap;
            }
            else
            {
                LaterEpochStarts += gap;
            }

            _firstBatchOfEpoch = false;
        }
        else
        {
            BetweenBatches += gap;
        }

        _last = Stopwatch.GetTimestamp();
    }

    public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs)
    {
        InStep += Stopwatch.GetElapsedTime(_last);
        Batches++;
        _last = Stopwatch.GetTimestamp();
    }

    /// <summary>Only timestamps are taken: the engine need not compute batch logs for this callback.</summary>
    public bool ReadsBatchLogs => false;

    public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
    {
        EpochEnd += Stopwatch.GetElapsedTime(_last);
        EpochsTimed = epoch + 1;
        if (epoch == run.Options.Epochs - 1)
        {
            Clock.Stop();
        }
    }

    public LoopSplit Split() => new(
        FirstEpochStart.TotalMilliseconds,
        EpochsTimed > 1 ? LaterEpochStarts.TotalMilliseconds / (EpochsTimed - 1) : double.NaN,
        BetweenBatches.TotalMicroseconds / Math.Max(1, Batches - EpochsTimed),
        InStep.TotalMicroseconds / Math.Max(1, Batches),
        EpochEnd.TotalMilliseconds / EpochsTimed);
}

/// <summary>Where one run's loop time went: per epoch (ms) at the edges, per batch (µs) inside.</summary>
internal readonly record struct LoopSplit(double FirstEpochStartMs, double LaterEpochStartMs, double BetweenBatchesUs, double InStepUs, double EpochEndMs);
