using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Gymnasium's MountainCarContinuous (the mountain car with a continuous force) without a time
/// limit; use <see cref="ClassicControl.MountainCarContinuous"/> for MountainCarContinuous-v0 with its
/// 999-step truncation.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Actions <c>Box(-1, 1, (1,), float32)</c>: the force; values outside are clipped here (the
/// <see cref="EnvironmentChecker{TAction}"/> refuses them).</item>
/// <item>Observation (float32): position in [−1.2, 0.6], velocity in [−0.07, 0.07].</item>
/// <item>Dynamics: v ← clip(v + f·0.0015 − 0.0025·cos(3x), ±0.07); x ← clip(x + v, −1.2, 0.6); at the
/// left wall a leftward velocity becomes 0. Computed in float64; as in Gymnasium the state is then
/// stored as float32, so each step starts from float32-rounded values.</item>
/// <item>Termination: x ≥ 0.45 and v ≥ 0. Reward: 100 on reaching the goal, minus 0.1·a² every step
/// (a the unclipped action).</item>
/// <item>Reset: x uniform in [−0.6, −0.4), v = 0 (kept in float64 until the first step).</item>
/// </list>
/// </remarks>
public sealed class MountainCarContinuousEnvironment : IEnvironment<float[]>, ICheckpointState
{
    /// <summary>MountainCarContinuous-v0's episode limit.</summary>
    public const int MaxEpisodeSteps = 999;

    private const double MinAction = -1.0, MaxAction = 1.0, MinPosition = -1.2, MaxPosition = 0.6, MaxSpeed = 0.07;
    private const double GoalPosition = 0.45, GoalVelocity = 0.0, Power = 0.0015;

    private static readonly BoxSpace _observationSpace = new([(float)MinPosition, (float)-MaxSpeed], [(float)MaxPosition, (float)MaxSpeed]);
    private static readonly BoxSpace _actionSpace = new((float)MinAction, (float)MaxAction, 1);

    private readonly ClassicControlCore _core = new("MountainCarContinuous-v0", 2);

    /// <inheritdoc />
    public string Name => "MountainCarContinuous-v0";

    /// <inheritdoc />
    public BoxSpace ObservationSpace => _observationSpace;

    /// <inheritdoc />
    public Space<float[]> ActionSpace => _actionSpace;

    /// <summary>The state (position, velocity), a copy; setting it starts from that state.</summary>
    public IReadOnlyList<double> State
    {
        get => _core.GetState();
        set => _core.SetState(value);
    }

    string ICheckpointState.StateKey => "environment";

    /// <inheritdoc />
    public ResetResult Reset(int? seed = null)
    {
        Pcg64 random = _core.BeginReset(seed);
        _core.State[0] = random.Uniform(-0.6, -0.4);
        _core.State[1] = 0.0;
        return new ResetResult(Observe());
    }

    /// <inheritdoc />
    public StepResult Step(float[] action)
    {
        float a = _core.SingleAction(action);
        _core.EnsureStarted();
        double position = _core.State[0], velocity = _core.State[1];
        double force = Math.Min(Math.Max(a, MinAction), MaxAction);

        velocity += (force * Power) - (0.0025 * Math.Cos(3 * position));
        if (velocity > MaxSpeed)
        {
            velocity = MaxSpeed;
        }
        if (velocity < -MaxSpeed)
        {
            velocity = -MaxSpeed;
        }
        position += velocity;
        if (position > MaxPosition)
        {
            position = MaxPosition;
        }
        if (position < MinPosition)
        {
            position = MinPosition;
        }
        if (position == MinPosition && velocity < 0)
        {
            velocity = 0;
        }
        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        double reward = terminated ? 100.0 : 0.0;
        reward -= Math.Pow(a, 2) * 0.1;

        // Gymnasium stores the new state as a float32 array.
        _core.State[0] = (float)position;
        _core.State[1] = (float)velocity;
        return new StepResult(Observe(), reward, terminated, false);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer) => _core.Save(writer);

    /// <inheritdoc />
    public void LoadState(BinaryReader reader) => _core.Load(reader);

    private float[] Observe() => [(float)_core.State[0], (float)_core.State[1]];
}
