using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Options of <see cref="OfflineLearner"/>: where the logged transitions are (column names), the
/// networks, the method settings (CQL, TD3+BC) and the run. <see cref="TrainingOptions.MaxSteps"/> counts gradient steps (default
/// 10,000); <see cref="TrainingOptions.Epochs"/> is unlimited.
/// </summary>
public sealed class OfflineOptions : TrainingOptions
{
    /// <summary>Sets the offline defaults: 10,000 gradient steps, Adam at 1e-3.</summary>
    public OfflineOptions()
    {
        Epochs = int.MaxValue;
        MaxSteps = 10_000;
        Optimizer = new OptimizerOptions { LearningRate = 1e-3 };
    }

    /// <summary>The observation column: a known-size vector of Single. Default <c>Observation</c>.</summary>
    public string ObservationColumnName { get; init; } = "Observation";

    /// <summary>The action column: a key, or an integer-valued Int32, Int64 or Single (0-based); for <see cref="OfflineLearner.TrainTd3PlusBc"/> a known-size vector of Single as wide as the action space. Default <c>Action</c>.</summary>
    public string ActionColumnName { get; init; } = "Action";

    /// <summary>The reward column: Single or Double. Default <c>Reward</c>.</summary>
    public string RewardColumnName { get; init; } = "Reward";

    /// <summary>The next-observation column, the same width as the observation. Default <c>NextObservation</c>.</summary>
    public string NextObservationColumnName { get; init; } = "NextObservation";

    /// <summary>The Boolean terminated column (no bootstrapping). Default <c>Terminated</c>.</summary>
    public string TerminatedColumnName { get; init; } = "Terminated";

    /// <summary>The Boolean truncated column (the episode was cut: bootstrap, but a new episode starts in the next row); null when the logs have none. Default <c>Truncated</c>.</summary>
    public string? TruncatedColumnName { get; init; } = "Truncated";

    /// <summary>The number of actions; null to take it from the key type, or else from the largest logged action.</summary>
    public int? ActionCount { get; init; }

    /// <summary>Widths of the hidden ReLU layers. Default 64, 64.</summary>
    public IReadOnlyList<int> HiddenLayers { get; init; } = [64, 64];

    /// <summary>Transitions per gradient step. Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>The discount factor γ (CQL, TD3+BC and fitted Q evaluation). Default 0.99.</summary>
    public double Gamma { get; init; } = 0.99;

    /// <summary>Copy the Q network into its target every this many gradient steps (CQL, FQE). Default 500.</summary>
    public int TargetUpdateInterval { get; init; } = 500;

    /// <summary>The weight α of CQL's conservative term <c>logsumexp Q(s, ·) − Q(s, a)</c>. Default 1.</summary>
    public double ConservativeWeight { get; init; } = 1.0;

    /// <summary>TD3+BC's α: the actor maximises λ·Q − (a − a_logged)² with λ = α / mean |Q| over the batch; smaller stays closer to the logged actions. Default 2.5 (Fujimoto and Gu 2021).</summary>
    public double BehaviorCloningAlpha { get; init; } = 2.5;

    /// <summary>TD3's target policy smoothing: the standard deviation of the Gaussian noise added to the target actor's action, in units of half the action range. Default 0.2.</summary>
    public double TargetPolicyNoise { get; init; } = 0.2;

    /// <summary>TD3's clip of the target policy noise, in units of half the action range. Default 0.5.</summary>
    public double TargetNoiseClip { get; init; } = 0.5;

    /// <summary>TD3's delayed policy updates: the actor and the target networks are updated every this many critic updates. Default 2.</summary>
    public int PolicyDelay { get; init; } = 2;

    /// <summary>The Polyak coefficient of TD3+BC's target networks (updated with the actor). Default 0.005.</summary>
    public double Tau { get; init; } = 0.005;

    /// <summary>Whether TD3+BC normalises observations with the logs' mean and standard deviation (the statistics are part of the exported policy). Default true.</summary>
    public bool NormalizeObservations { get; init; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(MaxSteps is not null, nameof(MaxSteps), "null", "must be set: it is the number of gradient steps");
        ArgumentException.ThrowIfNullOrWhiteSpace(ObservationColumnName, nameof(ObservationColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(ActionColumnName, nameof(ActionColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(RewardColumnName, nameof(RewardColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(NextObservationColumnName, nameof(NextObservationColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(TerminatedColumnName, nameof(TerminatedColumnName));
        OptionChecks.Require(ActionCount is null or > 0, nameof(ActionCount), ActionCount ?? 0, "must be positive when set");
        ArgumentNullException.ThrowIfNull(HiddenLayers, nameof(HiddenLayers));
        for (int i = 0; i < HiddenLayers.Count; i++)
        {
            OptionChecks.Require(HiddenLayers[i] > 0, $"{nameof(HiddenLayers)}[{i}]", HiddenLayers[i], "must be positive");
        }

        OptionChecks.Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        OptionChecks.Require(Gamma is >= 0 and <= 1, nameof(Gamma), Gamma, "must be in [0, 1]");
        OptionChecks.Require(TargetUpdateInterval > 0, nameof(TargetUpdateInterval), TargetUpdateInterval, "must be positive");
        OptionChecks.Require(ConservativeWeight >= 0, nameof(ConservativeWeight), ConservativeWeight, "must be zero or positive");
        OptionChecks.Require(BehaviorCloningAlpha >= 0 && double.IsFinite(BehaviorCloningAlpha), nameof(BehaviorCloningAlpha), BehaviorCloningAlpha, "must be zero or positive");
        OptionChecks.Require(TargetPolicyNoise >= 0 && double.IsFinite(TargetPolicyNoise), nameof(TargetPolicyNoise), TargetPolicyNoise, "must be zero or positive");
        OptionChecks.Require(TargetNoiseClip >= 0 && double.IsFinite(TargetNoiseClip), nameof(TargetNoiseClip), TargetNoiseClip, "must be zero or positive");
        OptionChecks.Require(PolicyDelay > 0, nameof(PolicyDelay), PolicyDelay, "must be positive");
        OptionChecks.Require(Tau is > 0 and <= 1, nameof(Tau), Tau, "must be in (0, 1]");
    }
}
