using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Gymnasium's Acrobot (Sutton and Barto's two-link swing-up, the book's dynamics) without a time
/// limit; use <see cref="ClassicControl.Acrobot"/> for Acrobot-v1 with its 500-step truncation.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Actions <c>Discrete(3)</c>: torque −1, 0, +1 on the joint between the links.</item>
/// <item>Observation (float32): cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂; bounds ±1 and ±4π, ±9π.</item>
/// <item>Dynamics: links of length 1 and mass 1, centres of mass at 0.5, moments of inertia 1,
/// g = 9.8; the book's equations (not the NIPS paper's) integrated by one classical Runge-Kutta
/// (RK4) step of 0.2 s in float64; then θ wrapped to [−π, π] and θ̇₁, θ̇₂ clipped to ±4π, ±9π.
/// No torque noise.</item>
/// <item>Termination: −cos θ₁ − cos(θ₁ + θ₂) &gt; 1 (the free end above the bar's height).</item>
/// <item>Reward: −1 per step, 0 on the terminating step.</item>
/// <item>Reset: each of θ₁, θ₂, θ̇₁, θ̇₂ uniform in [−0.1, 0.1), rounded to float32 as Gymnasium does.</item>
/// </list>
/// </remarks>
public sealed class AcrobotEnvironment : IEnvironment<int>, ICheckpointState
{
    /// <summary>Acrobot-v1's episode limit.</summary>
    public const int MaxEpisodeSteps = 500;

    private const double Dt = 0.2, LinkLength1 = 1.0, LinkMass1 = 1.0, LinkMass2 = 1.0;
    private const double LinkCom1 = 0.5, LinkCom2 = 0.5, LinkMoi = 1.0, G = 9.8;
    private const double MaxVelocity1 = 4 * Math.PI, MaxVelocity2 = 9 * Math.PI;
    private static readonly double[] _torques = [-1.0, 0.0, 1.0];

    private static readonly BoxSpace _observationSpace = new(
        [-1f, -1f, -1f, -1f, (float)-MaxVelocity1, (float)-MaxVelocity2],
        [1f, 1f, 1f, 1f, (float)MaxVelocity1, (float)MaxVelocity2]);

    private static readonly DiscreteSpace _actionSpace = new(3);

    private readonly ClassicControlCore _core = new("Acrobot-v1", 4);

    /// <inheritdoc />
    public string Name => "Acrobot-v1";

    /// <inheritdoc />
    public BoxSpace ObservationSpace => _observationSpace;

    /// <inheritdoc />
    public Space<int> ActionSpace => _actionSpace;

    /// <summary>The float64 state (θ₁, θ₂, θ̇₁, θ̇₂), a copy; setting it starts from that state.</summary>
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
        for (int i = 0; i < 4; i++)
        {
            _core.State[i] = (float)random.Uniform(-0.1, 0.1);
        }
        return new ResetResult(Observe());
    }

    /// <inheritdoc />
    public StepResult Step(int action)
    {
        _actionSpace.EnsureContains(action, nameof(action));
        _core.EnsureStarted();
        double torque = _torques[action];
        double[] s = _core.State;

        // One RK4 step over [0, dt] of the state augmented with the (constant) torque.
        Span<double> y = [s[0], s[1], s[2], s[3]];
        Span<double> k1 = stackalloc double[4], k2 = stackalloc double[4], k3 = stackalloc double[4], k4 = stackalloc double[4];
        Span<double> probe = stackalloc double[4];
        const double half = Dt / 2.0;
        Derivatives(y, torque, k1);
        for (int i = 0; i < 4; i++)
        {
            probe[i] = y[i] + (half * k1[i]);
        }
        Derivatives(probe, torque, k2);
        for (int i = 0; i < 4; i++)
        {
            probe[i] = y[i] + (half * k2[i]);
        }
        Derivatives(probe, torque, k3);
        for (int i = 0; i < 4; i++)
        {
            probe[i] = y[i] + (Dt * k3[i]);
        }
        Derivatives(probe, torque, k4);
        for (int i = 0; i < 4; i++)
        {
            s[i] = y[i] + (Dt / 6.0 * (k1[i] + (2 * k2[i]) + (2 * k3[i]) + k4[i]));
        }

        s[0] = Wrap(s[0], -Math.PI, Math.PI);
        s[1] = Wrap(s[1], -Math.PI, Math.PI);
        s[2] = ClassicControlCore.Clip(s[2], -MaxVelocity1, MaxVelocity1);
        s[3] = ClassicControlCore.Clip(s[3], -MaxVelocity2, MaxVelocity2);
        bool terminated = -Math.Cos(s[0]) - Math.Cos(s[1] + s[0]) > 1.0;
        return new StepResult(Observe(), terminated ? 0.0 : -1.0, terminated, false);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer) => _core.Save(writer);

    /// <inheritdoc />
    public void LoadState(BinaryReader reader) => _core.Load(reader);

    private static void Derivatives(ReadOnlySpan<double> s, double a, Span<double> result)
    {
        double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
        const double m1 = LinkMass1, m2 = LinkMass2, l1 = LinkLength1, lc1 = LinkCom1, lc2 = LinkCom2, i1 = LinkMoi, i2 = LinkMoi;
        double d1 = (m1 * lc1 * lc1) + (m2 * ((l1 * l1) + (lc2 * lc2) + (2 * l1 * lc2 * Math.Cos(theta2)))) + i1 + i2;
        double d2 = (m2 * ((lc2 * lc2) + (l1 * lc2 * Math.Cos(theta2)))) + i2;
        double phi2 = m2 * lc2 * G * Math.Cos(theta1 + theta2 - (Math.PI / 2.0));
        double phi1 = (-m2 * l1 * lc2 * (dtheta2 * dtheta2) * Math.Sin(theta2))
            - (2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Math.Sin(theta2))
            + (((m1 * lc1) + (m2 * l1)) * G * Math.Cos(theta1 - (Math.PI / 2)))
            + phi2;
        // The book's (and the Java implementation's) equation, with the centripetal term.
        double ddtheta2 = (a + (d2 / d1 * phi1) - (m2 * l1 * lc2 * (dtheta1 * dtheta1) * Math.Sin(theta2)) - phi2)
            / ((m2 * lc2 * lc2) + i2 - (d2 * d2 / d1));
        double ddtheta1 = -((d2 * ddtheta2) + phi1) / d1;
        result[0] = dtheta1;
        result[1] = dtheta2;
        result[2] = ddtheta1;
        result[3] = ddtheta2;
    }

    private static double Wrap(double x, double low, double high)
    {
        double range = high - low;
        while (x > high)
        {
            x -= range;
        }
        while (x < low)
        {
            x += range;
        }
        return x;
    }

    private float[] Observe()
    {
        double[] s = _core.State;
        return [(float)Math.Cos(s[0]), (float)Math.Sin(s[0]), (float)Math.Cos(s[1]), (float)Math.Sin(s[1]), (float)s[2], (float)s[3]];
    }
}
