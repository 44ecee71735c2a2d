using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>Tuned settings for <see cref="A2cOptions(A2cPreset)"/>.</summary>
public enum A2cPreset
{
    /// <summary>Stable-Baselines3's A2C defaults.</summary>
    Default,

    /// <summary>rl-baselines3-zoo's CartPole-v1 settings (8 copies; zoo budget 500,000 steps).</summary>
    CartPole,
}

/// <summary>
/// Options of <see cref="A2cAgent"/>: synchronous advantage actor-critic (Mnih et al. 2016) as
/// Stable-Baselines3's A2C: short rollouts, one full-batch gradient step per rollout on the policy
/// gradient, the value loss and the entropy bonus; RMSprop (α 0.99, ε 1e-5) at 7e-4, gradient norm
/// clipped to 0.5. Networks as PPO's.
/// </summary>
public sealed class A2cOptions : AgentOptions
{
    /// <summary>Stable-Baselines3's defaults.</summary>
    public A2cOptions()
        : this(A2cPreset.Default)
    {
    }

    /// <summary>Starts from <paramref name="preset"/>.</summary>
    public A2cOptions(A2cPreset preset)
    {
        GradientClipNorm = 0.5;
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.RmsProp, LearningRate = 7e-4, Alpha = 0.99, Epsilon = 1e-5 };
        switch (preset)
        {
            case A2cPreset.Default:
                break;
            case A2cPreset.CartPole:
                MaxSteps = 500_000;
                EnvironmentCount = 8;
                EntropyCoefficient = 0;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(preset), preset, $"Unknown A2C preset {preset}.");
        }
    }

    /// <summary>Copies of the environment stepped together. Default 1.</summary>
    public int EnvironmentCount { get; init; } = 1;

    /// <summary>Steps per copy in each rollout. Default 5.</summary>
    public int RolloutSteps { get; init; } = 5;

    /// <summary>The discount factor γ. Default 0.99.</summary>
    public double Gamma { get; init; } = 0.99;

    /// <summary>GAE's λ; 1 gives n-step returns. Default 1.</summary>
    public double GaeLambda { get; init; } = 1.0;

    /// <summary>Weight of the entropy bonus. Default 0.</summary>
    public double EntropyCoefficient { get; init; }

    /// <summary>Weight of the value loss. Default 0.5.</summary>
    public double ValueCoefficient { get; init; } = 0.5;

    /// <summary>Normalise advantages per update. Default false.</summary>
    public bool NormalizeAdvantages { get; init; }

    /// <summary>Normalise observations with running statistics, as <see cref="PpoOptions.NormalizeObservations"/>. Default false.</summary>
    public bool NormalizeObservations { get; init; }

    /// <summary>Anneal the learning rate linearly to 0 over the budget. Default false.</summary>
    public bool LinearDecay { get; init; }

    /// <summary>The initial log standard deviation of a continuous policy. Default 0.</summary>
    public double LogStdInit { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(EnvironmentCount > 0, nameof(EnvironmentCount), EnvironmentCount, "must be positive");
        OptionChecks.Require(RolloutSteps > 0, nameof(RolloutSteps), RolloutSteps, "must be positive");
        OptionChecks.Require(Gamma is >= 0 and <= 1, nameof(Gamma), Gamma, "must be in [0, 1]");
        OptionChecks.Require(GaeLambda is >= 0 and <= 1, nameof(GaeLambda), GaeLambda, "must be in [0, 1]");
        OptionChecks.Require(EntropyCoefficient >= 0, nameof(EntropyCoefficient), EntropyCoefficient, "must be zero or positive");
        OptionChecks.Require(ValueCoefficient >= 0, nameof(ValueCoefficient), ValueCoefficient, "must be zero or positive");
        OptionChecks.Require(double.IsFinite(LogStdInit), nameof(LogStdInit), LogStdInit, "must be finite");
    }
}

/// <summary>
/// Advantage actor-critic on the shared <see cref="TrainingRun"/>: PPO's loop (<see cref="PpoAgent"/>)
/// with one full-batch update per rollout on <c>−A·log π(a|s)</c> instead of the clipped ratio.
/// Discrete (categorical) and continuous (diagonal Gaussian) actions; resumes exactly.
/// </summary>
public sealed class A2cAgent
{
    /// <summary>Creates the agent; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is invalid; the message names it.</exception>
    public A2cAgent(A2cOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>Creates the agent with SB3's defaults, <paramref name="maxSteps"/> environment steps and a seed.</summary>
    public A2cAgent(long maxSteps = 100_000, int? seed = null)
        : this(new A2cOptions { MaxSteps = maxSteps, Seed = seed })
    {
    }

    /// <summary>The options.</summary>
    public A2cOptions Options { get; }

    /// <summary>Trains a categorical policy; returns the greedy policy.</summary>
    /// <exception cref="ArgumentException">The environment's actions are not a <see cref="DiscreteSpace"/>.</exception>
    public DiscretePolicy Train(Func<IEnvironment<int>> createEnvironment) => OnPolicyLoop.TrainDiscrete(Options, Settings, createEnvironment, nameof(A2cAgent));

    /// <summary>Trains a diagonal Gaussian policy; returns the mean-action policy.</summary>
    /// <exception cref="ArgumentException">The environment's actions are not a <see cref="BoxSpace"/>.</exception>
    public ContinuousPolicy Train(Func<IEnvironment<float[]>> createEnvironment) => OnPolicyLoop.TrainContinuous(Options, Settings, createEnvironment, nameof(A2cAgent));

    private OnPolicySettings Settings => new(
        "a2c", Options.EnvironmentCount, Options.RolloutSteps, BatchSize: Options.EnvironmentCount * Options.RolloutSteps, OptimizationEpochs: 1, Shuffle: false,
        Options.Gamma, Options.GaeLambda, ClipRange: null, Options.LinearDecay, Options.EntropyCoefficient, Options.ValueCoefficient, Options.NormalizeAdvantages,
        Options.NormalizeObservations, Options.LogStdInit);
}
