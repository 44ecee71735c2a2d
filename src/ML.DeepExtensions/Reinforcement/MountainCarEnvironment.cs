using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Gymnasium's MountainCar (Moore's under-powered car in a valley, discrete actions) without a time
/// limit; use <see cref="ClassicControl.MountainCar"/> for MountainCar-v0 with its 200-step truncation.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Actions <c>Discrete(3)</c>: accelerate left, don't accelerate, accelerate right.</item>
/// <item>Observation (float32): position in [−1.2, 0.6], velocity in [−0.07, 0.07].</item>
/// <item>Dynamics (float64): v ← clip(v + (a − 1)·0.001 − 0.0025·cos(3x), ±0.07); x ← clip(x + v,
/// −1.2, 0.6); at the left wall a leftward velocity becomes 0.</item>
/// <item>Termination: x ≥ 0.5 and v ≥ 0. Reward: −1 per step.</item>
/// <item>Reset: x uniform in [−0.6, −0.4), v = 0.</item>
/// </list>
/// </remarks>
public sealed class MountainCarEnvironment : IEnvironment<int>, ICheckpointState
{
    /// <summary>MountainCar-v0's episode limit.</summary>
    public const int MaxEpisodeSteps = 200;

    private const double MinPosition = -1.2, MaxPosition = 0.6, MaxSpeed = 0.07, GoalPosition = 0.5, GoalVelocity = 0.0;
    private const double Force = 0.001, Gravity = 0.0025;

    private static readonly BoxSpace _observationSpace = new([(float)MinPosition, (float)-MaxSpeed], [(float)MaxPosition, (float)MaxSpeed]);
    private static readonly DiscreteSpace _actionSpace = new(3);

    private readonly ClassicControlCore _core = new("MountainCar-v0", 2);

    /// <inheritdoc />
    public string Name => "MountainCar-v0";

    /// <inheritdoc />
    public BoxSpace ObservationSpace => _observationSpace;

    /// <inheritdoc />
    public Space<int> ActionSpace => _actionSpace;

    /// <summary>The float64 state (position, velocity), a copy; setting it starts from that state.</summary>
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
    public StepResult Step(int action)
    {
        _actionSpace.EnsureContains(action, nameof(action));
        _core.EnsureStarted();
        double position = _core.State[0], velocity = _core.State[1];
        velocity += ((action - 1) * Force) + (Math.Cos(3 * position) * -Gravity);
        velocity = ClassicControlCore.Clip(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = ClassicControlCore.Clip(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0)
        {
            velocity = 0;
        }
        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        _core.State[0] = position;
        _core.State[1] = velocity;
        return new StepResult(Observe(), -1.0, terminated, false);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer) => _core.Save(writer);

    /// <inheritdoc />
    public void LoadState(BinaryReader reader) => _core.Load(reader);

    private float[] Observe() => [(float)_core.State[0], (float)_core.State[1]];
}
