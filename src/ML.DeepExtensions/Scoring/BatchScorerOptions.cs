using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Scoring;

/// <summary>Options of <see cref="BatchScorer"/>.</summary>
public sealed record BatchScorerOptions
{
    /// <summary>Rows per ONNX Runtime call. Memory held is about two batches of inputs and outputs per open cursor (one with <see cref="ReadAhead"/> off). Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Threads ONNX Runtime uses inside one call; null for its default (one per physical core).</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Whether a cursor reads the next batch of rows on a second thread while ONNX Runtime scores the
    /// current one. Default true: reading the input then costs no time on the scoring thread, which for
    /// a small network is a tenth of the total or more. Turn it off where an extra thread per cursor is
    /// unwelcome (one core, many cursors open at once); the results are the same either way.
    /// </summary>
    public bool ReadAhead { get; init; } = true;

    internal void Validate()
    {
        OptionChecks.Require(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        OptionChecks.Require(IntraOpThreads is null or >= 1, nameof(IntraOpThreads), IntraOpThreads ?? 0, "must be at least 1, or null for ONNX Runtime's default");
    }
}
