using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Proximal policy optimisation on the shared <see cref="TrainingRun"/>, following Stable-Baselines3's
/// PPO: rollouts of <see cref="PpoOptions.RolloutSteps"/> steps on <see cref="PpoOptions.EnvironmentCount"/>
/// copies, GAE(λ), then <see cref="PpoOptions.OptimizationEpochs"/> passes of shuffled minibatches over
/// the clipped surrogate, the value loss and the entropy bonus. A truncated episode's last reward is
/// bootstrapped with γ·V(final observation); a terminated one is not.
/// </summary>
/// <remarks>
/// One run step is one step of the vector environment (<see cref="PpoOptions.EnvironmentCount"/>
/// environment steps): step checkpoints count those, and a checkpoint taken mid-rollout holds the
/// rollout. <see cref="TrainingOptions.MaxSteps"/> counts environment steps; training stops at the
/// first rollout boundary at or past it. Actions are sampled with the run's own generator, so a
/// resumed run equals an uninterrupted one bit for bit.
/// <code>
/// var policy = new PpoAgent(new PpoOptions(PpoPreset.CartPole) { Seed = 1 }).Train(ClassicControl.CartPole);
/// </code>
/// </remarks>
public sealed class PpoAgent
{
    /// <summary>Creates the agent; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is invalid; the message names it.</exception>
    public PpoAgent(PpoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>Creates the agent with SB3's defaults, <paramref name="maxSteps"/> environment steps and a seed.</summary>
    public PpoAgent(long maxSteps = 100_000, int? seed = null)
        : this(new PpoOptions { MaxSteps = maxSteps, Seed = seed })
    {
    }

    /// <summary>The options.</summary>
    public PpoOptions Options { get; }

    /// <summary>Trains a categorical policy on environments with discrete actions; returns the greedy (most probable action) policy.</summary>
    /// <param name="createEnvironment">Makes a new environment each call.</param>
    /// <exception cref="ArgumentException">The environment's actions are not a <see cref="DiscreteSpace"/>.</exception>
    public DiscretePolicy Train(Func<IEnvironment<int>> createEnvironment) => OnPolicyLoop.TrainDiscrete(Options, Settings, createEnvironment, nameof(PpoAgent));

    /// <summary>Trains a diagonal Gaussian policy on environments with continuous actions; returns the deterministic (mean action) policy.</summary>
    /// <param name="createEnvironment">Makes a new environment each call.</param>
    /// <exception cref="ArgumentException">The environment's actions are not a <see cref="BoxSpace"/>.</exception>
    public ContinuousPolicy Train(Func<IEnvironment<float[]>> createEnvironment) => OnPolicyLoop.TrainContinuous(Options, Settings, createEnvironment, nameof(PpoAgent));

    private OnPolicySettings Settings => new(
        "ppo", Options.EnvironmentCount, Options.RolloutSteps, Options.BatchSize, Options.OptimizationEpochs, Shuffle: true, Options.Gamma, Options.GaeLambda,
        Options.ClipRange, Options.LinearDecay, Options.EntropyCoefficient, Options.ValueCoefficient, Options.NormalizeAdvantages, Options.NormalizeObservations, Options.LogStdInit);
}
