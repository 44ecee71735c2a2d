using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Gymnasium's Pendulum (the inverted pendulum swing-up) without a time limit; use
/// <see cref="ClassicControl.Pendulum"/> for Pendulum-v1 with its 200-step truncation. It never
/// terminates.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Actions <c>Box(-2, 2, (1,), float32)</c>: the torque; values outside are clipped here (the
/// <see cref="EnvironmentChecker{TAction}"/> refuses them).</item>
/// <item>Observation (float32): cos θ, sin θ in [−1, 1], θ̇ in [−8, 8].</item>
/// <item>Dynamics (float64, semi-implicit Euler, dt = 0.05, g = 10, m = 1, l = 1):
/// θ̇ ← clip(θ̇ + (3g/(2l)·sin θ + 3/(ml²)·u)·dt, ±8); θ ← θ + θ̇·dt.</item>
/// <item>Reward: −(norm(θ)² + 0.1·θ̇² + 0.001·u²) of the state before the step, norm(θ) the angle
/// wrapped to [−π, π) (u² in float32, as Gymnasium squares the float32 torque).</item>
/// <item>Reset: θ uniform in [−π, π), θ̇ uniform in [−1, 1).</item>
/// </list>
/// </remarks>
public sealed class PendulumEnvironment : IEnvironment<float[]>, ICheckpointState
{
    /// <summary>Pendulum-v1's episode limit.</summary>
    public const int MaxEpisodeSteps = 200;

    private const double MaxSpeed = 8, MaxTorque = 2.0, Dt = 0.05, G = 10.0, M = 1.0, L = 1.0;

    private static readonly BoxSpace _observationSpace = new([-1f, -1f, (float)-MaxSpeed], [1f, 1f, (float)MaxSpeed]);
    private static readonly BoxSpace _actionSpace = new((float)-MaxTorque, (float)MaxTorque, 1);

    private readonly ClassicControlCore _core = new("Pendulum-v1", 2);

    /// <inheritdoc />
    public string Name => "Pendulum-v1";

    /// <inheritdoc />
    public BoxSpace ObservationSpace => _observationSpace;

    /// <inheritdoc />
    public Space<float[]> ActionSpace => _actionSpace;

    /// <summary>The float64 state (θ, θ̇), a copy; setting it starts from that state.</summary>
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
        _core.State[0] = random.Uniform(-Math.PI, Math.PI);
        _core.State[1] = random.Uniform(-1.0, 1.0);
        return new ResetResult(Observe());
    }

    /// <inheritdoc />
    public StepResult Step(float[] action)
    {
        float a = _core.SingleAction(action);
        _core.EnsureStarted();
        double th = _core.State[0], thDot = _core.State[1];
        float u = Math.Clamp(a, (float)-MaxTorque, (float)MaxTorque);
        double normalized = NormalizeAngle(th);
        double costs = (normalized * normalized) + (0.1 * (thDot * thDot)) + (0.001 * (u * u));

        double newThDot = thDot + ((((3 * G) / (2 * L) * Math.Sin(th)) + (3.0 / (M * L * L) * u)) * Dt);
        newThDot = ClassicControlCore.Clip(newThDot, -MaxSpeed, MaxSpeed);
        double newTh = th + (newThDot * Dt);
        _core.State[0] = newTh;
        _core.State[1] = newThDot;
        return new StepResult(Observe(), -costs, false, false);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer) => _core.Save(writer);

    /// <inheritdoc />
    public void LoadState(BinaryReader reader) => _core.Load(reader);

    /// <summary>((x + π) mod 2π) − π with a floored modulo, as NumPy's <c>%</c>.</summary>
    private static double NormalizeAngle(double x)
    {
        const double period = 2 * Math.PI;
        double r = (x + Math.PI) % period;
        if (r != 0 && r < 0)
        {
            r += period;
        }
        return r - Math.PI;
    }

    private float[] Observe() => [(float)Math.Cos(_core.State[0]), (float)Math.Sin(_core.State[0]), (float)_core.State[1]];
}
