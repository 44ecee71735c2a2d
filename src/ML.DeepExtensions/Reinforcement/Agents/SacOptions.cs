using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>Tuned settings for <see cref="SacOptions(SacPreset)"/>.</summary>
public enum SacPreset
{
    /// <summary>Stable-Baselines3's SAC defaults.</summary>
    Default,

    /// <summary>rl-baselines3-zoo's Pendulum-v1 settings (zoo budget 20,000 steps).</summary>
    Pendulum,

    /// <summary>rl-baselines3-zoo's MountainCarContinuous-v0 settings (zoo budget 50,000 steps), with its generalized state-dependent exploration (gSDE, log σ starting at −3.67).</summary>
    MountainCarContinuous,
}

/// <summary>
/// Options of <see cref="SacAgent"/>: soft actor-critic (Haarnoja et al. 2018) as Stable-Baselines3's
/// SAC: a tanh-squashed Gaussian actor, twin Q critics with Polyak-averaged targets, and the entropy
/// temperature tuned automatically towards a target entropy of −(action size) unless
/// <see cref="EntropyCoefficient"/> fixes it. Adam at 3e-4 for the actor, the critics and the
/// temperature; networks 256, 256 (ReLU).
/// </summary>
public sealed class SacOptions : AgentOptions
{
    /// <summary>Stable-Baselines3's defaults.</summary>
    public SacOptions()
        : this(SacPreset.Default)
    {
    }

    /// <summary>Starts from <paramref name="preset"/>.</summary>
    public SacOptions(SacPreset preset)
    {
        Optimizer = new OptimizerOptions { LearningRate = 3e-4 };
        HiddenLayers = [256, 256];
        switch (preset)
        {
            case SacPreset.Default:
                break;
            case SacPreset.Pendulum:
                MaxSteps = 20_000;
                Optimizer = new OptimizerOptions { LearningRate = 1e-3 };
                break;
            case SacPreset.MountainCarContinuous:
                MaxSteps = 50_000;
                BufferSize = 50_000;
                BatchSize = 512;
                EntropyCoefficient = 0.1;
                TrainFrequency = 32;
                GradientSteps = 32;
                Gamma = 0.9999;
                Tau = 0.01;
                LearningStarts = 0;
                HiddenLayers = [64, 64];
                StateDependentExploration = true;
                LogStdInit = -3.67;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(preset), preset, $"Unknown SAC preset {preset}.");
        }
    }

    /// <summary>Transitions the replay buffer holds. Default 1,000,000.</summary>
    public int BufferSize { get; init; } = 1_000_000;

    /// <summary>Steps of uniformly random actions before learning starts. Default 100.</summary>
    public int LearningStarts { get; init; } = 100;

    /// <summary>Transitions per gradient step. Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>The discount factor γ. Default 0.99.</summary>
    public double Gamma { get; init; } = 0.99;

    /// <summary>The Polyak coefficient of the target critics' update. Default 0.005.</summary>
    public double Tau { get; init; } = 0.005;

    /// <summary>Train after every this many environment steps. Default 1.</summary>
    public int TrainFrequency { get; init; } = 1;

    /// <summary>Gradient steps each time it trains. Default 1.</summary>
    public int GradientSteps { get; init; } = 1;

    /// <summary>Update the target critics every this many gradient steps. Default 1.</summary>
    public int TargetUpdateInterval { get; init; } = 1;

    /// <summary>A fixed entropy coefficient α; null (the default) tunes it automatically, starting from 1.</summary>
    public double? EntropyCoefficient { get; init; }

    /// <summary>The target entropy of the automatic tuning; null (the default) for −(action size).</summary>
    public double? TargetEntropy { get; init; }

    /// <summary>
    /// Explore with generalized state-dependent exploration (gSDE, SB3's <c>use_sde</c>) instead of
    /// independent Gaussian noise per step: the actor learns a log-σ matrix over its last hidden
    /// features, and the exploration noise is those features times a noise matrix that is resampled
    /// only at the start of each rollout (every <see cref="TrainFrequency"/> steps) and every
    /// <see cref="StateDependentSampleFrequency"/> steps, so actions change smoothly along an episode.
    /// The mean is clipped to [−2, 2] before the tanh. The exported policy is still the deterministic
    /// (mean) action. Default false.
    /// </summary>
    public bool StateDependentExploration { get; init; }

    /// <summary>With gSDE, also resample the noise matrix every this many environment steps of a rollout; −1 (the default) only at the start of each rollout (SB3's <c>sde_sample_freq</c>).</summary>
    public int StateDependentSampleFrequency { get; init; } = -1;

    /// <summary>With gSDE, the initial value of every entry of the log-σ matrix (SB3's <c>log_std_init</c>). Default −3.</summary>
    public double LogStdInit { get; init; } = -3;

    /// <summary>With gSDE, learn one σ per (feature, action) pair; false learns one per feature, shared by the actions (SB3's <c>full_std</c>). Default true.</summary>
    public bool FullStd { get; init; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(BufferSize > 0, nameof(BufferSize), BufferSize, "must be positive");
        OptionChecks.Require(LearningStarts >= 0, nameof(LearningStarts), LearningStarts, "must be zero or positive");
        OptionChecks.Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        OptionChecks.Require(Gamma is >= 0 and <= 1, nameof(Gamma), Gamma, "must be in [0, 1]");
        OptionChecks.Require(Tau is > 0 and <= 1, nameof(Tau), Tau, "must be in (0, 1]");
        OptionChecks.Require(TrainFrequency > 0, nameof(TrainFrequency), TrainFrequency, "must be positive");
        OptionChecks.Require(GradientSteps > 0, nameof(GradientSteps), GradientSteps, "must be positive");
        OptionChecks.Require(TargetUpdateInterval > 0, nameof(TargetUpdateInterval), TargetUpdateInterval, "must be positive");
        OptionChecks.Require(EntropyCoefficient is null or > 0, nameof(EntropyCoefficient), EntropyCoefficient ?? 0, "must be positive when set");
        OptionChecks.Require(TargetEntropy is null || double.IsFinite(TargetEntropy.Value), nameof(TargetEntropy), TargetEntropy ?? 0, "must be finite");
        OptionChecks.Require(StateDependentSampleFrequency is -1 or > 0, nameof(StateDependentSampleFrequency), StateDependentSampleFrequency, "must be -1 (only at the start of each rollout) or positive");
        OptionChecks.Require(double.IsFinite(LogStdInit), nameof(LogStdInit), LogStdInit, "must be finite");
    }
}
