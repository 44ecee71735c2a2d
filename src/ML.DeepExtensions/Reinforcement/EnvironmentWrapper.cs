using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// The base of wrappers: an environment that forwards to an inner one and changes part of its
/// behaviour (Gymnasium's <c>Wrapper</c>). Wrappers compose: <c>new NormalizeObservation&lt;int&gt;(new TimeLimit&lt;int&gt;(env, 500))</c>.
/// Override <see cref="Reset"/> or <see cref="Step"/>, and <see cref="SaveWrapperState"/> /
/// <see cref="LoadWrapperState"/> if the wrapper keeps state of its own.
/// </summary>
/// <typeparam name="TAction">The action type of the wrapped environment.</typeparam>
/// <remarks>
/// A wrapper's checkpoint holds the whole chain beneath it: its own state after the inner
/// environment's, so saving the outermost wrapper saves everything. Saving fails with a
/// <see cref="NotSupportedException"/> naming the environment if something in the chain does not
/// implement <see cref="ICheckpointState"/>.
/// </remarks>
public abstract class EnvironmentWrapper<TAction> : IEnvironment<TAction>, ICheckpointState
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    protected EnvironmentWrapper(IEnvironment<TAction> inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped environment.</summary>
    public IEnvironment<TAction> Inner { get; }

    /// <inheritdoc />
    public virtual string Name => Inner.Name;

    /// <inheritdoc />
    public virtual BoxSpace ObservationSpace => Inner.ObservationSpace;

    /// <inheritdoc />
    public virtual Space<TAction> ActionSpace => Inner.ActionSpace;

    /// <inheritdoc />
    public virtual string StateKey => "environment";

    /// <inheritdoc />
    public virtual ResetResult Reset(int? seed = null) => Inner.Reset(seed);

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "Step is the name every RL library gives this call (Gymnasium, SB3); VB callers can still call it.")]
    public virtual StepResult Step(TAction action) => Inner.Step(action);

    /// <summary>Writes the inner environment's state, then this wrapper's.</summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(GetType().Name);
        EnvironmentState.Save(Inner, writer);
        SaveWrapperState(writer);
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote; the chain of wrappers must be the same.</summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string saved = reader.ReadString();
        if (saved != GetType().Name)
        {
            throw new InvalidDataException($"The saved environment state was written by a {saved}, but it is being read into a {GetType().Name} around '{Name}': wrap the environment the same way as when it was saved.");
        }
        EnvironmentState.Load(Inner, reader);
        LoadWrapperState(reader);
    }

    /// <summary>Writes this wrapper's own state (nothing by default).</summary>
    protected virtual void SaveWrapperState(BinaryWriter writer)
    {
    }

    /// <summary>Reads what <see cref="SaveWrapperState"/> wrote.</summary>
    protected virtual void LoadWrapperState(BinaryReader reader)
    {
    }
}

/// <summary>Saves and loads any environment's state, with a clear error for one that cannot be checkpointed.</summary>
internal static class EnvironmentState
{
    public static void Save<TAction>(IEnvironment<TAction> environment, BinaryWriter writer)
        => AsCheckpoint(environment).SaveState(writer);

    public static void Load<TAction>(IEnvironment<TAction> environment, BinaryReader reader)
        => AsCheckpoint(environment).LoadState(reader);

    private static ICheckpointState AsCheckpoint<TAction>(IEnvironment<TAction> environment) =>
        environment as ICheckpointState ?? throw new NotSupportedException(
            $"The environment '{environment.Name}' ({environment.GetType().FullName}) cannot be checkpointed: implement ML.DeepExtensions.Training.ICheckpointState on it (save its state and its random generator, e.g. a Pcg64) so that a run can resume exactly.");
}

/// <summary>
/// Ends an episode with <see cref="StepResult.Truncated"/> after <see cref="MaxEpisodeSteps"/> steps
/// (Gymnasium's <c>TimeLimit</c>). Truncation is not termination: learners bootstrap through it.
/// If the last allowed step also terminates, both flags are set.
/// </summary>
/// <typeparam name="TAction">The action type.</typeparam>
public sealed class TimeLimit<TAction> : EnvironmentWrapper<TAction>
{
    private int _elapsedSteps;

    /// <summary>Limits <paramref name="inner"/>'s episodes to <paramref name="maxEpisodeSteps"/> steps.</summary>
    public TimeLimit(IEnvironment<TAction> inner, int maxEpisodeSteps)
        : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpisodeSteps);
        MaxEpisodeSteps = maxEpisodeSteps;
    }

    /// <summary>The number of steps after which an episode is truncated.</summary>
    public int MaxEpisodeSteps { get; }

    /// <summary>The steps taken in the current episode.</summary>
    public int ElapsedSteps => _elapsedSteps;

    /// <inheritdoc />
    public override ResetResult Reset(int? seed = null)
    {
        _elapsedSteps = 0;
        return Inner.Reset(seed);
    }

    /// <inheritdoc />
    public override StepResult Step(TAction action)
    {
        StepResult result = Inner.Step(action);
        _elapsedSteps++;
        return _elapsedSteps >= MaxEpisodeSteps ? result with { Truncated = true } : result;
    }

    /// <inheritdoc />
    protected override void SaveWrapperState(BinaryWriter writer) => writer.Write(_elapsedSteps);

    /// <inheritdoc />
    protected override void LoadWrapperState(BinaryReader reader) => _elapsedSteps = reader.ReadInt32();
}

/// <summary>
/// Normalises each observation element to zero mean and unit variance with running statistics
/// (Gymnasium's <c>NormalizeObservation</c>): <c>(obs − mean) / sqrt(var + Epsilon)</c>, the statistics
/// updated with every observation (of resets and steps) before it is normalised. The statistics start
/// at mean 0, variance 1 with a pseudo-count of 1e-4, and are kept in float64 (Gymnasium keeps them in
/// float32). Set <see cref="UpdateStatistics"/> to false to freeze them, e.g. for evaluation.
/// </summary>
/// <typeparam name="TAction">The action type.</typeparam>
public sealed class NormalizeObservation<TAction> : EnvironmentWrapper<TAction>
{
    private readonly RunningMeanVariance _statistics;
    private readonly BoxSpace _space;

    /// <summary>Normalises <paramref name="inner"/>'s observations.</summary>
    /// <param name="inner">The environment.</param>
    /// <param name="epsilon">Added to the variance under the square root; must be positive.</param>
    public NormalizeObservation(IEnvironment<TAction> inner, double epsilon = 1e-8)
        : base(inner)
    {
        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        }
        Epsilon = epsilon;
        _statistics = new RunningMeanVariance(inner.ObservationSpace.Size);
        _space = new BoxSpace(float.NegativeInfinity, float.PositiveInfinity, inner.ObservationSpace.Size);
    }

    /// <summary>The stabilising constant under the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Whether observations update the running statistics (true by default).</summary>
    public bool UpdateStatistics { get; set; } = true;

    /// <summary>The running mean of each element.</summary>
    public IReadOnlyList<double> Mean => _statistics.Mean;

    /// <summary>The running variance of each element.</summary>
    public IReadOnlyList<double> Variance => _statistics.Variance;

    /// <summary>Unbounded: normalised values have no fixed range.</summary>
    public override BoxSpace ObservationSpace => _space;

    /// <inheritdoc />
    public override ResetResult Reset(int? seed = null)
    {
        ResetResult result = Inner.Reset(seed);
        return result with { Observation = Normalize(result.Observation) };
    }

    /// <inheritdoc />
    public override StepResult Step(TAction action)
    {
        StepResult result = Inner.Step(action);
        return result with { Observation = Normalize(result.Observation) };
    }

    /// <inheritdoc />
    protected override void SaveWrapperState(BinaryWriter writer)
    {
        writer.Write(UpdateStatistics);
        _statistics.Save(writer);
    }

    /// <inheritdoc />
    protected override void LoadWrapperState(BinaryReader reader)
    {
        UpdateStatistics = reader.ReadBoolean();
        _statistics.Load(reader, Name);
    }

    private float[] Normalize(float[] observation)
    {
        if (observation is null || observation.Length != _statistics.Size)
        {
            throw new EnvironmentException(Name, $"returned an observation of length {observation?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}; its observation space {Inner.ObservationSpace} has {_statistics.Size} elements.");
        }
        if (UpdateStatistics)
        {
            _statistics.Update(observation);
        }
        var normalized = new float[observation.Length];
        for (int i = 0; i < normalized.Length; i++)
        {
            normalized[i] = (float)((observation[i] - _statistics.Mean[i]) / Math.Sqrt(_statistics.Variance[i] + Epsilon));
        }
        return normalized;
    }
}

/// <summary>
/// Scales rewards so that the discounted return has roughly unit variance (Gymnasium's
/// <c>NormalizeReward</c>, as in SB3's VecNormalize): a running discounted return
/// <c>G = G·γ·(1 − terminated) + r</c> feeds running statistics, and each reward is divided by
/// <c>sqrt(var(G) + Epsilon)</c> (not centred). As in Gymnasium, <c>G</c> carries over a truncation and
/// a reset; only termination clears it.
/// </summary>
/// <typeparam name="TAction">The action type.</typeparam>
public sealed class NormalizeReward<TAction> : EnvironmentWrapper<TAction>
{
    private readonly RunningMeanVariance _statistics = new(1);
    private double _discountedReturn;

    /// <summary>Normalises <paramref name="inner"/>'s rewards.</summary>
    /// <param name="inner">The environment.</param>
    /// <param name="gamma">The discount of the running return, in [0, 1].</param>
    /// <param name="epsilon">Added to the variance under the square root; must be positive.</param>
    public NormalizeReward(IEnvironment<TAction> inner, double gamma = 0.99, double epsilon = 1e-8)
        : base(inner)
    {
        if (!(gamma >= 0 && gamma <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must lie in [0, 1].");
        }
        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        }
        Gamma = gamma;
        Epsilon = epsilon;
    }

    /// <summary>The discount of the running return.</summary>
    public double Gamma { get; }

    /// <summary>The stabilising constant under the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Whether rewards update the running statistics (true by default).</summary>
    public bool UpdateStatistics { get; set; } = true;

    /// <summary>The running variance of the discounted return.</summary>
    public double ReturnVariance => _statistics.Variance[0];

    /// <inheritdoc />
    public override StepResult Step(TAction action)
    {
        StepResult result = Inner.Step(action);
        _discountedReturn = (_discountedReturn * Gamma * (result.Terminated ? 0.0 : 1.0)) + result.Reward;
        if (UpdateStatistics)
        {
            _statistics.Update([_discountedReturn]);
        }
        return result with { Reward = result.Reward / Math.Sqrt(_statistics.Variance[0] + Epsilon) };
    }

    /// <inheritdoc />
    protected override void SaveWrapperState(BinaryWriter writer)
    {
        writer.Write(UpdateStatistics);
        writer.Write(_discountedReturn);
        _statistics.Save(writer);
    }

    /// <inheritdoc />
    protected override void LoadWrapperState(BinaryReader reader)
    {
        UpdateStatistics = reader.ReadBoolean();
        _discountedReturn = reader.ReadDouble();
        _statistics.Load(reader, Name);
    }
}

/// <summary>Multiplies every reward by a constant (e.g. 0.01 for large-reward tasks). Stateless.</summary>
/// <typeparam name="TAction">The action type.</typeparam>
public sealed class ScaleReward<TAction> : EnvironmentWrapper<TAction>
{
    /// <summary>Scales <paramref name="inner"/>'s rewards by <paramref name="scale"/>.</summary>
    public ScaleReward(IEnvironment<TAction> inner, double scale)
        : base(inner)
    {
        if (!double.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be finite.");
        }
        Scale = scale;
    }

    /// <summary>The factor.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    public override StepResult Step(TAction action)
    {
        StepResult result = Inner.Step(action);
        return result with { Reward = result.Reward * Scale };
    }
}

/// <summary>Running mean and variance by the parallel (Chan et al.) update, as Gymnasium's RunningMeanStd, one sample at a time.</summary>
internal sealed class RunningMeanVariance
{
    private double _count = 1e-4;

    public RunningMeanVariance(int size)
    {
        Mean = new double[size];
        Variance = new double[size];
        Array.Fill(Variance, 1.0);
    }

    public int Size => Mean.Length;

    public double[] Mean { get; }

    public double[] Variance { get; }

    public void Update(ReadOnlySpan<float> sample)
    {
        Span<double> values = stackalloc double[sample.Length];
        for (int i = 0; i < sample.Length; i++)
        {
            values[i] = sample[i];
        }
        Update(values);
    }

    public void Update(ReadOnlySpan<double> sample)
    {
        // A batch of one: batch mean = sample, batch variance = 0, batch count = 1.
        double total = _count + 1.0;
        for (int i = 0; i < sample.Length; i++)
        {
            double delta = sample[i] - Mean[i];
            Mean[i] += delta / total;
            Variance[i] = ((Variance[i] * _count) + (delta * delta * _count / total)) / total;
        }
        _count = total;
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(Size);
        writer.Write(_count);
        foreach (double m in Mean)
        {
            writer.Write(m);
        }
        foreach (double v in Variance)
        {
            writer.Write(v);
        }
    }

    public void Load(BinaryReader reader, string environment)
    {
        int size = reader.ReadInt32();
        if (size != Size)
        {
            throw new InvalidDataException($"The saved normalisation statistics of '{environment}' have {size} elements; this wrapper has {Size}.");
        }
        _count = reader.ReadDouble();
        for (int i = 0; i < Size; i++)
        {
            Mean[i] = reader.ReadDouble();
        }
        for (int i = 0; i < Size; i++)
        {
            Variance[i] = reader.ReadDouble();
        }
    }
}
