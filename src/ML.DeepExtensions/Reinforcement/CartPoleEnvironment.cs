using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Gymnasium's CartPole (Barto, Sutton and Anderson's cart-pole) without a time limit; use
/// <see cref="ClassicControl.CartPole"/> for CartPole-v1 with its 500-step truncation.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Actions <c>Discrete(2)</c>: 0 pushes the cart left, 1 right, with a force of 10 N.</item>
/// <item>Observation (float32): cart position, cart velocity, pole angle, pole angular velocity;
/// bounds ±4.8, ±∞, ±24° (0.41887903 rad), ±∞.</item>
/// <item>Dynamics: gravity 9.8, cart mass 1.0, pole mass 0.1, half pole length 0.5, explicit Euler
/// with τ = 0.02 s, in float64.</item>
/// <item>Termination: |x| &gt; 2.4 or |θ| &gt; 12° (checked on the float64 state).</item>
/// <item>Reward: +1 every step including the terminating one; 0 for steps after termination.</item>
/// <item>Reset: each state element uniform in [−0.05, 0.05).</item>
/// </list>
/// </remarks>
public sealed class CartPoleEnvironment : IEnvironment<int>, ICheckpointState
{
    /// <summary>CartPole-v1's episode limit.</summary>
    public const int MaxEpisodeSteps = 500;

    private const double Gravity = 9.8, MassCart = 1.0, MassPole = 0.1, TotalMass = MassPole + MassCart;
    private const double Length = 0.5, PoleMassLength = MassPole * Length, ForceMagnitude = 10.0, Tau = 0.02;
    private const double ThetaThreshold = 12 * 2 * Math.PI / 360, XThreshold = 2.4;

    private static readonly BoxSpace _observationSpace = new(
        [(float)(-XThreshold * 2), float.NegativeInfinity, (float)(-ThetaThreshold * 2), float.NegativeInfinity],
        [(float)(XThreshold * 2), float.PositiveInfinity, (float)(ThetaThreshold * 2), float.PositiveInfinity]);

    private static readonly DiscreteSpace _actionSpace = new(2);

    private readonly ClassicControlCore _core = new("CartPole-v1", 4);
    private int _stepsBeyondTerminated = -1;

    /// <inheritdoc />
    public string Name => "CartPole-v1";

    /// <inheritdoc />
    public BoxSpace ObservationSpace => _observationSpace;

    /// <inheritdoc />
    public Space<int> ActionSpace => _actionSpace;

    /// <summary>The float64 state (x, ẋ, θ, θ̇), a copy; setting it starts from that state, as assigning Gymnasium's <c>env.unwrapped.state</c>.</summary>
    public IReadOnlyList<double> State
    {
        get => _core.GetState();
        set
        {
            _core.SetState(value);
            _stepsBeyondTerminated = -1;
        }
    }

    string ICheckpointState.StateKey => "environment";

    /// <inheritdoc />
    public ResetResult Reset(int? seed = null)
    {
        Pcg64 random = _core.BeginReset(seed);
        for (int i = 0; i < 4; i++)
        {
            _core.State[i] = random.Uniform(-0.05, 0.05);
        }
        _stepsBeyondTerminated = -1;
        return new ResetResult(Observe());
    }

    /// <inheritdoc />
    public StepResult Step(int action)
    {
        _actionSpace.EnsureContains(action, nameof(action));
        _core.EnsureStarted();
        double[] s = _core.State;
        double x = s[0], xDot = s[1], theta = s[2], thetaDot = s[3];
        double force = action == 1 ? ForceMagnitude : -ForceMagnitude;
        double cosTheta = Math.Cos(theta), sinTheta = Math.Sin(theta);

        double temp = (force + (PoleMassLength * (thetaDot * thetaDot) * sinTheta)) / TotalMass;
        double thetaAcc = ((Gravity * sinTheta) - (cosTheta * temp))
            / (Length * ((4.0 / 3.0) - (MassPole * (cosTheta * cosTheta) / TotalMass)));
        double xAcc = temp - (PoleMassLength * thetaAcc * cosTheta / TotalMass);

        x += Tau * xDot;
        xDot += Tau * xAcc;
        theta += Tau * thetaDot;
        thetaDot += Tau * thetaAcc;
        s[0] = x;
        s[1] = xDot;
        s[2] = theta;
        s[3] = thetaDot;

        bool terminated = x < -XThreshold || x > XThreshold || theta < -ThetaThreshold || theta > ThetaThreshold;
        double reward;
        if (!terminated)
        {
            reward = 1.0;
        }
        else if (_stepsBeyondTerminated < 0)
        {
            _stepsBeyondTerminated = 0;
            reward = 1.0;
        }
        else
        {
            _stepsBeyondTerminated++;
            reward = 0.0;
        }
        return new StepResult(Observe(), reward, terminated, false);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        _core.Save(writer);
        writer.Write(_stepsBeyondTerminated);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        _core.Load(reader);
        _stepsBeyondTerminated = reader.ReadInt32();
    }

    private float[] Observe()
    {
        double[] s = _core.State;
        return [(float)s[0], (float)s[1], (float)s[2], (float)s[3]];
    }
}
