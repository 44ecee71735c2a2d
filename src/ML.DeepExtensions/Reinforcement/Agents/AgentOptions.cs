using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// What every agent shares on top of the <see cref="TrainingOptions"/> of the run: the network
/// sizes and the evaluation during training. <see cref="TrainingOptions.MaxSteps"/> is the budget
/// in environment steps (all copies of a vector environment together); <see cref="TrainingOptions.Epochs"/>
/// counts evaluations and is unlimited by default.
/// </summary>
public abstract class AgentOptions : TrainingOptions
{
    /// <summary>Sets the agent defaults of the run: an unlimited number of evaluations and a budget of 100,000 steps.</summary>
    protected AgentOptions()
    {
        Epochs = int.MaxValue;
        MaxSteps = 100_000;
    }

    /// <summary>Widths of the hidden layers (ReLU) of each network. Default 64, 64 (SB3's MlpPolicy).</summary>
    public IReadOnlyList<int> HiddenLayers { get; init; } = [64, 64];

    /// <summary>Evaluate the greedy (deterministic) policy every this many environment steps. Default 10,000.</summary>
    public int EvaluationFrequency { get; init; } = 10_000;

    /// <summary>Episodes per evaluation. Default 10.</summary>
    public int EvaluationEpisodes { get; init; } = 10;

    /// <summary>Evaluation episode <c>i</c> starts from <c>Reset(EvaluationSeed + i)</c> on its own environment, so every evaluation plays the same start states. Default 1,000,000.</summary>
    public int EvaluationSeed { get; init; } = 1_000_000;

    /// <summary>Stop when an evaluation's mean return reaches this value; null to spend the whole budget.</summary>
    public double? RewardThreshold { get; init; }

    /// <summary>An episode longer than this that neither terminates nor is truncated is an error (an environment without a time limit would otherwise never end). Default 100,000.</summary>
    public int MaxEpisodeSteps { get; init; } = EnvironmentChecker<int>.DefaultMaxEpisodeSteps;

    /// <summary>Keep the weights of the best evaluation (rather than the last) in the returned policy. Default true.</summary>
    public bool KeepBestPolicy { get; init; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(MaxSteps is not null, nameof(MaxSteps), "null", "must be set: it is the agent's budget in environment steps");
        ArgumentNullException.ThrowIfNull(HiddenLayers, nameof(HiddenLayers));
        for (int i = 0; i < HiddenLayers.Count; i++)
        {
            OptionChecks.Require(HiddenLayers[i] > 0, $"{nameof(HiddenLayers)}[{i}]", HiddenLayers[i], "must be positive");
        }

        OptionChecks.Require(MaxEpisodeSteps > 0, nameof(MaxEpisodeSteps), MaxEpisodeSteps, "must be positive");
        OptionChecks.Require(EvaluationFrequency > 0, nameof(EvaluationFrequency), EvaluationFrequency, "must be positive");
        OptionChecks.Require(EvaluationEpisodes > 0, nameof(EvaluationEpisodes), EvaluationEpisodes, "must be positive");
        OptionChecks.Require(EvaluationSeed >= 0, nameof(EvaluationSeed), EvaluationSeed, "must be zero or positive");
        OptionChecks.Require(RewardThreshold is null || double.IsFinite(RewardThreshold.Value), nameof(RewardThreshold), RewardThreshold ?? 0, "must be finite");
    }
}
