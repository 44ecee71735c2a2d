using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>Tuned settings for <see cref="DqnOptions(DqnPreset)"/>.</summary>
public enum DqnPreset
{
    /// <summary>Stable-Baselines3's DQN defaults.</summary>
    Default,

    /// <summary>rl-baselines3-zoo's CartPole-v1 settings (zoo budget 50,000 steps).</summary>
    CartPole,

    /// <summary>rl-baselines3-zoo's Acrobot-v1 settings (zoo budget 100,000 steps).</summary>
    Acrobot,

    /// <summary>rl-baselines3-zoo's MountainCar-v0 settings (zoo budget 120,000 steps).</summary>
    MountainCar,
}

/// <summary>
/// Options of <see cref="DqnAgent"/>: deep Q-learning (Mnih et al. 2015) with a replay buffer, a
/// target network, a linear ε-greedy schedule and the Huber loss, optionally double Q-learning and a
/// dueling head. Defaults are Stable-Baselines3's; <see cref="DqnOptions(DqnPreset)"/> starts from a
/// tuned preset, and an object initializer overrides any setting:
/// <code>var options = new DqnOptions(DqnPreset.CartPole) { Seed = 1, RewardThreshold = 500 };</code>
/// </summary>
public sealed class DqnOptions : AgentOptions
{
    /// <summary>Stable-Baselines3's defaults: Adam at 1e-4, gradient norm clipped to 10.</summary>
    public DqnOptions()
        : this(DqnPreset.Default)
    {
    }

    /// <summary>Starts from <paramref name="preset"/>; the zoo's step budget becomes <see cref="TrainingOptions.MaxSteps"/>.</summary>
    public DqnOptions(DqnPreset preset)
    {
        GradientClipNorm = 10;
        Optimizer = new OptimizerOptions { LearningRate = 1e-4 };
        switch (preset)
        {
            case DqnPreset.Default:
                break;
            case DqnPreset.CartPole:
                MaxSteps = 50_000;
                Optimizer = new OptimizerOptions { LearningRate = 2.3e-3 };
                BatchSize = 64;
                BufferSize = 100_000;
                LearningStarts = 1000;
                Gamma = 0.99;
                TargetUpdateInterval = 10;
                TrainFrequency = 256;
                GradientSteps = 128;
                ExplorationFraction = 0.16;
                ExplorationFinalEpsilon = 0.04;
                HiddenLayers = [256, 256];
                break;
            case DqnPreset.Acrobot:
                MaxSteps = 100_000;
                Optimizer = new OptimizerOptions { LearningRate = 6.3e-4 };
                BatchSize = 128;
                BufferSize = 50_000;
                LearningStarts = 0;
                Gamma = 0.99;
                TargetUpdateInterval = 250;
                TrainFrequency = 4;
                GradientSteps = -1;
                ExplorationFraction = 0.12;
                ExplorationFinalEpsilon = 0.1;
                HiddenLayers = [256, 256];
                break;
            case DqnPreset.MountainCar:
                MaxSteps = 120_000;
                Optimizer = new OptimizerOptions { LearningRate = 4e-3 };
                BatchSize = 128;
                BufferSize = 10_000;
                LearningStarts = 1000;
                Gamma = 0.98;
                TargetUpdateInterval = 600;
                TrainFrequency = 16;
                GradientSteps = 8;
                ExplorationFraction = 0.2;
                ExplorationFinalEpsilon = 0.07;
                HiddenLayers = [256, 256];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(preset), preset, $"Unknown DQN preset {preset}.");
        }
    }

    /// <summary>Transitions the replay buffer holds (the oldest are overwritten). Default 1,000,000.</summary>
    public int BufferSize { get; init; } = 1_000_000;

    /// <summary>Steps of uniformly random actions before learning starts. Default 100.</summary>
    public int LearningStarts { get; init; } = 100;

    /// <summary>Transitions per gradient step. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The discount factor γ. Default 0.99.</summary>
    public double Gamma { get; init; } = 0.99;

    /// <summary>Train after every this many environment steps. Default 4.</summary>
    public int TrainFrequency { get; init; } = 4;

    /// <summary>Gradient steps each time it trains; −1 for as many as environment steps since the last training. Default 1.</summary>
    public int GradientSteps { get; init; } = 1;

    /// <summary>Copy the online network into the target network every this many environment steps. Default 10,000.</summary>
    public int TargetUpdateInterval { get; init; } = 10_000;

    /// <summary>The fraction of <see cref="TrainingOptions.MaxSteps"/> over which ε falls linearly from its initial to its final value. Default 0.1.</summary>
    public double ExplorationFraction { get; init; } = 0.1;

    /// <summary>ε at the start. Default 1.</summary>
    public double ExplorationInitialEpsilon { get; init; } = 1.0;

    /// <summary>ε after the exploration fraction. Default 0.05.</summary>
    public double ExplorationFinalEpsilon { get; init; } = 0.05;

    /// <summary>Double Q-learning (van Hasselt et al.): the online network picks the next action, the target network values it. Default false (as SB3).</summary>
    public bool DoubleQ { get; init; }

    /// <summary>A dueling head (Wang et al.): Q = V + A − mean(A). Default false.</summary>
    public bool Dueling { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(BufferSize > 0, nameof(BufferSize), BufferSize, "must be positive");
        OptionChecks.Require(LearningStarts >= 0, nameof(LearningStarts), LearningStarts, "must be zero or positive");
        OptionChecks.Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        OptionChecks.Require(Gamma is >= 0 and <= 1, nameof(Gamma), Gamma, "must be in [0, 1]");
        OptionChecks.Require(TrainFrequency > 0, nameof(TrainFrequency), TrainFrequency, "must be positive");
        OptionChecks.Require(GradientSteps is -1 or > 0, nameof(GradientSteps), GradientSteps, "must be positive or -1");
        OptionChecks.Require(TargetUpdateInterval > 0, nameof(TargetUpdateInterval), TargetUpdateInterval, "must be positive");
        OptionChecks.Require(ExplorationFraction is > 0 and <= 1, nameof(ExplorationFraction), ExplorationFraction, "must be in (0, 1]");
        OptionChecks.Require(ExplorationInitialEpsilon is >= 0 and <= 1, nameof(ExplorationInitialEpsilon), ExplorationInitialEpsilon, "must be in [0, 1]");
        OptionChecks.Require(ExplorationFinalEpsilon is >= 0 and <= 1, nameof(ExplorationFinalEpsilon), ExplorationFinalEpsilon, "must be in [0, 1]");
    }

    /// <summary>ε after <paramref name="step"/> of <paramref name="totalSteps"/> steps (SB3's linear schedule).</summary>
    internal double Epsilon(long step, long totalSteps)
    {
        double progress = (double)step / totalSteps;
        return progress > ExplorationFraction
            ? ExplorationFinalEpsilon
            : ExplorationInitialEpsilon + ((ExplorationFinalEpsilon - ExplorationInitialEpsilon) * progress / ExplorationFraction);
    }
}
