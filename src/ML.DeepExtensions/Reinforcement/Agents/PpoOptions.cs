using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>Tuned settings for <see cref="PpoOptions(PpoPreset)"/>.</summary>
public enum PpoPreset
{
    /// <summary>Stable-Baselines3's PPO defaults.</summary>
    Default,

    /// <summary>rl-baselines3-zoo's CartPole-v1 settings (zoo budget 100,000 steps).</summary>
    CartPole,

    /// <summary>rl-baselines3-zoo's Pendulum-v1 settings (zoo budget 100,000 steps), without its state-dependent exploration (gSDE, <c>use_sde</c> with <c>sde_sample_freq</c> 4), which this library implements for SAC only (<see cref="SacOptions.StateDependentExploration"/>).</summary>
    Pendulum,
}

/// <summary>
/// Options of <see cref="PpoAgent"/>: proximal policy optimisation (Schulman et al. 2017) with the
/// clipped objective, generalised advantage estimation, a value loss and an entropy bonus, trained
/// in minibatch epochs over rollouts of a <see cref="VectorEnvironment{TAction}"/>. Separate policy
/// and value networks (Tanh, orthogonal initialisation) as SB3's MlpPolicy; a categorical policy for
/// discrete actions and a diagonal Gaussian with a state-independent log standard deviation for
/// continuous ones. Defaults are Stable-Baselines3's; <see cref="PpoOptions(PpoPreset)"/> starts
/// from a tuned preset.
/// </summary>
public sealed class PpoOptions : AgentOptions
{
    /// <summary>Stable-Baselines3's defaults: Adam at 3e-4 with ε 1e-5, gradient norm clipped to 0.5.</summary>
    public PpoOptions()
        : this(PpoPreset.Default)
    {
    }

    /// <summary>Starts from <paramref name="preset"/>; the zoo's step budget becomes <see cref="TrainingOptions.MaxSteps"/>.</summary>
    public PpoOptions(PpoPreset preset)
    {
        GradientClipNorm = 0.5;
        Optimizer = new OptimizerOptions { LearningRate = 3e-4, Epsilon = 1e-5 };
        switch (preset)
        {
            case PpoPreset.Default:
                break;
            case PpoPreset.CartPole:
                MaxSteps = 100_000;
                EnvironmentCount = 8;
                RolloutSteps = 32;
                BatchSize = 256;
                GaeLambda = 0.8;
                Gamma = 0.98;
                OptimizationEpochs = 20;
                EntropyCoefficient = 0;
                Optimizer = new OptimizerOptions { LearningRate = 1e-3, Epsilon = 1e-5 };
                ClipRange = 0.2;
                LinearDecay = true;
                break;
            case PpoPreset.Pendulum:
                MaxSteps = 100_000;
                EnvironmentCount = 4;
                RolloutSteps = 1024;
                GaeLambda = 0.95;
                Gamma = 0.9;
                OptimizationEpochs = 10;
                EntropyCoefficient = 0;
                Optimizer = new OptimizerOptions { LearningRate = 1e-3, Epsilon = 1e-5 };
                ClipRange = 0.2;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(preset), preset, $"Unknown PPO preset {preset}.");
        }
    }

    /// <summary>Copies of the environment stepped together. Default 1.</summary>
    public int EnvironmentCount { get; init; } = 1;

    /// <summary>Steps per copy in each rollout (a rollout holds <c>RolloutSteps × EnvironmentCount</c> transitions). Default 2048.</summary>
    public int RolloutSteps { get; init; } = 2048;

    /// <summary>Transitions per minibatch. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Passes over each rollout. Default 10.</summary>
    public int OptimizationEpochs { get; init; } = 10;

    /// <summary>The discount factor γ. Default 0.99.</summary>
    public double Gamma { get; init; } = 0.99;

    /// <summary>GAE's λ. Default 0.95.</summary>
    public double GaeLambda { get; init; } = 0.95;

    /// <summary>The clipping range ε of the probability ratio. Default 0.2.</summary>
    public double ClipRange { get; init; } = 0.2;

    /// <summary>Anneal the learning rate and the clip range linearly to 0 over the budget (the zoo's <c>lin_</c> schedules). Default false.</summary>
    public bool LinearDecay { get; init; }

    /// <summary>Weight of the entropy bonus. Default 0.</summary>
    public double EntropyCoefficient { get; init; }

    /// <summary>Weight of the value loss. Default 0.5.</summary>
    public double ValueCoefficient { get; init; } = 0.5;

    /// <summary>Normalise each minibatch's advantages to mean 0, standard deviation 1. Default true.</summary>
    public bool NormalizeAdvantages { get; init; } = true;

    /// <summary>
    /// Normalise observations with running statistics over training (SB3's VecNormalize for
    /// observations: <c>clip((x − mean) / √(var + 1e-8), −10, 10)</c>). The statistics freeze when
    /// training ends and travel inside the policy's network and its ONNX graph. Default false.
    /// </summary>
    public bool NormalizeObservations { get; init; }

    /// <summary>The initial log standard deviation of a continuous policy. Default 0.</summary>
    public double LogStdInit { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(EnvironmentCount > 0, nameof(EnvironmentCount), EnvironmentCount, "must be positive");
        OptionChecks.Require(RolloutSteps > 0, nameof(RolloutSteps), RolloutSteps, "must be positive");
        OptionChecks.Require(BatchSize > 1, nameof(BatchSize), BatchSize, "must be at least 2");
        OptionChecks.Require(OptimizationEpochs > 0, nameof(OptimizationEpochs), OptimizationEpochs, "must be positive");
        OptionChecks.Require(Gamma is >= 0 and <= 1, nameof(Gamma), Gamma, "must be in [0, 1]");
        OptionChecks.Require(GaeLambda is >= 0 and <= 1, nameof(GaeLambda), GaeLambda, "must be in [0, 1]");
        OptionChecks.Require(ClipRange > 0, nameof(ClipRange), ClipRange, "must be positive");
        OptionChecks.Require(EntropyCoefficient >= 0, nameof(EntropyCoefficient), EntropyCoefficient, "must be zero or positive");
        OptionChecks.Require(ValueCoefficient >= 0, nameof(ValueCoefficient), ValueCoefficient, "must be zero or positive");
        OptionChecks.Require(double.IsFinite(LogStdInit), nameof(LogStdInit), LogStdInit, "must be finite");
    }
}
