using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Scoring;

/// <summary>Options of <see cref="BatchScorer"/>.</summary>
public sealed record BatchScorerOptions
{
    /// <summary>Rows per ONNX Runtime call. Memory held is about one batch of inputs and outputs per open cursor. Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Threads ONNX Runtime uses inside one call; null for its default (one per physical core).</summary>
    public int? IntraOpThreads { get; init; }

    internal void Validate()
    {
        OptionChecks.Require(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        OptionChecks.Require(IntraOpThreads is null or >= 1, nameof(IntraOpThreads), IntraOpThreads ?? 0, "must be at least 1, or null for ONNX Runtime's default");
    }
}
