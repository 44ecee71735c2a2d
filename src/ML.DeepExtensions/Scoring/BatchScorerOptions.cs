using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Scoring;

/// <summary>Options of <see cref="BatchScorer"/>.</summary>
public sealed record BatchScorerOptions
{
    /// <summary>Rows per ONNX Runtime call. Memory held is about one batch of inputs and outputs per open cursor (two with <see cref="ReadAhead"/>). Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// Threads ONNX Runtime uses inside one call; null for its default (one per physical core), or,
    /// with <see cref="ReadAhead"/>, one fewer than the logical cores (at least one), leaving a core to the reading thread.
    /// </summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Whether a cursor reads the next batch of rows on a second thread while ONNX Runtime scores the
    /// current one. Default false. It pays for small networks, whose batches take about as long to read
    /// as to score, when a core is free for the reading thread (hence the thread default of
    /// <see cref="IntraOpThreads"/>): on 2 cores the digits MLP scored 9% faster with it, and the
    /// SmallVgg CNN, which needs both cores for ONNX Runtime, at half speed (docs/benchmarks.md).
    /// The results are the same either way.
    /// </summary>
    public bool ReadAhead { get; init; }

    /// <summary>The thread count sessions are created with: <see cref="IntraOpThreads"/>, or its default as documented there.</summary>
    internal int? SessionThreads => IntraOpThreads ?? (ReadAhead ? Math.Max(1, Environment.ProcessorCount - 1) : null);

    internal void Validate()
    {
        OptionChecks.Require(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        OptionChecks.Require(IntraOpThreads is null or >= 1, nameof(IntraOpThreads), IntraOpThreads ?? 0, "must be at least 1, or null for ONNX Runtime's default");
    }
}
