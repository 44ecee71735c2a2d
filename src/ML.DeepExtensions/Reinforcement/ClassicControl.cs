namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Gymnasium's classic-control environments as <c>gymnasium.make</c> returns them: the environment
/// inside a <see cref="TimeLimit{TAction}"/> with its registered episode limit. Construct the
/// environment classes directly for the unlimited versions (<c>env.unwrapped</c> in Gymnasium).
/// </summary>
/// <remarks>
/// Each follows Gymnasium 1.x's definition exactly: constants, integrator, termination, reward, reset
/// distribution, spaces. The state is kept and integrated in float64 and observations are cast to
/// float32, as in Gymnasium. Seeded resets draw from <see cref="Pcg64"/>, seeded as NumPy's
/// <c>default_rng</c>, so <c>Reset(seed)</c> gives the start state Gymnasium gives for that seed.
/// </remarks>
public static class ClassicControl
{
    /// <summary>CartPole-v1: <see cref="CartPoleEnvironment"/> truncated at 500 steps.</summary>
    public static TimeLimit<int> CartPole() => new(new CartPoleEnvironment(), CartPoleEnvironment.MaxEpisodeSteps);

    /// <summary>Acrobot-v1: <see cref="AcrobotEnvironment"/> truncated at 500 steps.</summary>
    public static TimeLimit<int> Acrobot() => new(new AcrobotEnvironment(), AcrobotEnvironment.MaxEpisodeSteps);

    /// <summary>MountainCar-v0: <see cref="MountainCarEnvironment"/> truncated at 200 steps.</summary>
    public static TimeLimit<int> MountainCar() => new(new MountainCarEnvironment(), MountainCarEnvironment.MaxEpisodeSteps);

    /// <summary>MountainCarContinuous-v0: <see cref="MountainCarContinuousEnvironment"/> truncated at 999 steps.</summary>
    public static TimeLimit<float[]> MountainCarContinuous() => new(new MountainCarContinuousEnvironment(), MountainCarContinuousEnvironment.MaxEpisodeSteps);

    /// <summary>Pendulum-v1: <see cref="PendulumEnvironment"/> truncated at 200 steps.</summary>
    public static TimeLimit<float[]> Pendulum() => new(new PendulumEnvironment(), PendulumEnvironment.MaxEpisodeSteps);
}

/// <summary>The parts every classic-control environment shares: seeding, the float64 state, order checks and checkpoints.</summary>
internal sealed class ClassicControlCore
{
    private readonly string _name;
    private Pcg64? _random;

    public ClassicControlCore(string name, int stateSize)
    {
        _name = name;
        State = new double[stateSize];
    }

    public double[] State { get; }

    public bool Started { get; private set; }

    /// <summary>Reseeds when a seed is given, else continues (seeding from entropy the first time), as Gymnasium's Env.reset.</summary>
    public Pcg64 BeginReset(int? seed)
    {
        if (seed is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(seed), seed, $"{_name}: a seed must be non-negative.");
        }
        if (seed is { } s)
        {
            _random = new Pcg64((ulong)s);
        }
        _random ??= Pcg64.FromEntropy();
        Started = true;
        return _random;
    }

    public void EnsureStarted()
    {
        if (!Started)
        {
            throw new InvalidOperationException($"{_name}: call Reset before Step.");
        }
    }

    public double[] GetState() => (double[])State.Clone();

    public void SetState(IReadOnlyList<double> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Count != State.Length)
        {
            throw new ArgumentException($"{_name}'s state has {State.Length} values; got {value.Count}.", nameof(value));
        }
        for (int i = 0; i < State.Length; i++)
        {
            State[i] = value[i];
        }
        Started = true;
    }

    public void Save(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(_name);
        writer.Write(Started);
        foreach (double value in State)
        {
            writer.Write(value);
        }
        writer.Write(_random is not null);
        _random?.SaveState(writer);
    }

    public void Load(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string saved = reader.ReadString();
        if (saved != _name)
        {
            throw new InvalidDataException($"The saved environment state is of {saved}, not {_name}.");
        }
        Started = reader.ReadBoolean();
        for (int i = 0; i < State.Length; i++)
        {
            State[i] = reader.ReadDouble();
        }
        if (reader.ReadBoolean())
        {
            _random ??= new Pcg64(0);
            _random.LoadState(reader);
        }
        else
        {
            _random = null;
        }
    }

    public static double Clip(double value, double low, double high) => Math.Min(Math.Max(value, low), high);

    /// <summary>The single element of a continuous action, checked, as float32 (the action space's type).</summary>
    public float SingleAction(float[] action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (action.Length != 1)
        {
            throw new ArgumentException($"{_name} takes an action of one element; got {action.Length}.", nameof(action));
        }
        if (float.IsNaN(action[0]))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action[0], $"{_name} got a NaN action.");
        }
        return action[0];
    }
}
