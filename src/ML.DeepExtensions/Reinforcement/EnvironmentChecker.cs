using System.Globalization;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// An environment that broke its contract: a NaN or infinite observation or reward, an observation of
/// the wrong length, or an episode that never ends. The message names the environment and the step.
/// </summary>
public sealed class EnvironmentException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public EnvironmentException()
    {
        EnvironmentName = string.Empty;
    }

    /// <summary>Creates the exception with a message.</summary>
    public EnvironmentException(string message)
        : base(message)
    {
        EnvironmentName = string.Empty;
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public EnvironmentException(string message, Exception innerException)
        : base(message, innerException)
    {
        EnvironmentName = string.Empty;
    }

    /// <summary>Creates the exception for <paramref name="environmentName"/>; the message is prefixed with the name.</summary>
    public EnvironmentException(string environmentName, string problem, long? episodeStep = null)
        : base(episodeStep is { } step
            ? string.Create(CultureInfo.InvariantCulture, $"Environment '{environmentName}', step {step} of the episode: {problem}")
            : $"Environment '{environmentName}': {problem}")
    {
        EnvironmentName = environmentName;
        EpisodeStep = episodeStep;
    }

    /// <summary>The same error, located further (e.g. which copy of a vector environment).</summary>
    internal EnvironmentException(EnvironmentException inner, string location)
        : base($"{inner.Message} ({location})", inner)
    {
        EnvironmentName = inner.EnvironmentName;
        EpisodeStep = inner.EpisodeStep;
    }

    /// <summary>The environment's <see cref="IEnvironment{TAction}.Name"/>.</summary>
    public string EnvironmentName { get; }

    /// <summary>The step of the episode (1 for the first <c>Step</c>, 0 for <c>Reset</c>), when known.</summary>
    public long? EpisodeStep { get; }
}

/// <summary>
/// Checks every call to an environment against its contract and fails with a clear error instead of
/// letting a bad value reach a learner (Gymnasium's env checker and order enforcing, but strict):
/// actions outside the action space, observations of the wrong length or with NaN or infinite
/// values, NaN or infinite rewards, <c>Step</c> before <c>Reset</c> or after the episode ended, and
/// episodes that run past <see cref="MaxEpisodeSteps"/> without terminating or being truncated (an
/// environment without a time limit would otherwise hang training). <see cref="VectorEnvironment{TAction}"/>
/// wraps every copy in one.
/// </summary>
/// <typeparam name="TAction">The action type.</typeparam>
/// <remarks>
/// A continuous policy's raw sample can leave a <see cref="BoxSpace"/>; clip it to the space before
/// stepping. The built-in environments clip such actions themselves, as Gymnasium's do, but through
/// this checker they are refused.
/// </remarks>
public sealed class EnvironmentChecker<TAction> : EnvironmentWrapper<TAction>
{
    /// <summary>The default episode length beyond which an episode is taken as never ending.</summary>
    public const int DefaultMaxEpisodeSteps = 100_000;

    private long _episodeStep;
    private bool _started;
    private bool _done;

    /// <summary>Checks <paramref name="inner"/>.</summary>
    /// <param name="inner">The environment.</param>
    /// <param name="maxEpisodeSteps">An episode longer than this without termination or truncation is an error.</param>
    public EnvironmentChecker(IEnvironment<TAction> inner, int maxEpisodeSteps = DefaultMaxEpisodeSteps)
        : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpisodeSteps);
        MaxEpisodeSteps = maxEpisodeSteps;
        if (inner.ObservationSpace is null || inner.ActionSpace is null)
        {
            throw new ArgumentException($"Environment '{inner.Name}' must define both ObservationSpace and ActionSpace.", nameof(inner));
        }
    }

    /// <summary>The longest episode accepted without termination or truncation.</summary>
    public int MaxEpisodeSteps { get; }

    /// <inheritdoc />
    public override ResetResult Reset(int? seed = null)
    {
        if (seed is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(seed), seed, $"Environment '{Name}': a seed must be non-negative.");
        }
        ResetResult result = Inner.Reset(seed);
        _episodeStep = 0;
        CheckObservation(result.Observation, "Reset");
        _started = true;
        _done = false;
        return result;
    }

    /// <inheritdoc />
    public override StepResult Step(TAction action)
    {
        if (!_started)
        {
            throw new InvalidOperationException($"Environment '{Name}': call Reset before Step.");
        }
        if (_done)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Environment '{Name}': the episode ended at step {_episodeStep} (terminated or truncated); call Reset before stepping again."));
        }
        long step = _episodeStep + 1;
        if (!ActionSpace.Contains(action))
        {
            try
            {
                ActionSpace.EnsureContains(action, "action");
            }
            catch (ArgumentException e)
            {
                throw new ArgumentOutOfRangeException(string.Create(CultureInfo.InvariantCulture,
                    $"Environment '{Name}', step {step} of the episode: {e.Message}"), e);
            }
            throw new ArgumentOutOfRangeException(nameof(action), string.Create(CultureInfo.InvariantCulture,
                $"Environment '{Name}', step {step} of the episode: the action is outside the action space {ActionSpace}."));
        }

        StepResult result = Inner.Step(action);
        _episodeStep = step;
        CheckObservation(result.Observation, "Step");
        if (!double.IsFinite(result.Reward))
        {
            throw new EnvironmentException(Name, string.Create(CultureInfo.InvariantCulture, $"Step returned the reward {result.Reward}; rewards must be finite numbers."), step);
        }
        _done = result.Terminated || result.Truncated;
        if (!_done && step >= MaxEpisodeSteps)
        {
            throw new EnvironmentException(Name, string.Create(CultureInfo.InvariantCulture,
                $"the episode has run {step} steps without terminating or being truncated. If it never ends by itself, wrap it in a TimeLimit (new TimeLimit<T>(env, maxEpisodeSteps)); if its episodes really are longer, raise the checker's maxEpisodeSteps."), step);
        }
        return result;
    }

    /// <inheritdoc />
    protected override void SaveWrapperState(BinaryWriter writer)
    {
        writer.Write(_episodeStep);
        writer.Write(_started);
        writer.Write(_done);
    }

    /// <inheritdoc />
    protected override void LoadWrapperState(BinaryReader reader)
    {
        _episodeStep = reader.ReadInt64();
        _started = reader.ReadBoolean();
        _done = reader.ReadBoolean();
    }

    private void CheckObservation(float[] observation, string call)
    {
        long step = _episodeStep;
        int expected = ObservationSpace.Size;
        if (observation is null)
        {
            throw new EnvironmentException(Name, $"{call} returned a null observation; expected {expected} values ({ObservationSpace}).", step);
        }
        if (observation.Length != expected)
        {
            throw new EnvironmentException(Name, string.Create(CultureInfo.InvariantCulture,
                $"{call} returned an observation of length {observation.Length}; the observation space {ObservationSpace} has {expected} elements."), step);
        }
        for (int i = 0; i < observation.Length; i++)
        {
            if (!float.IsFinite(observation[i]))
            {
                throw new EnvironmentException(Name, string.Create(CultureInfo.InvariantCulture,
                    $"{call} returned an observation with {observation[i]} at index {i}; observations must be finite numbers."), step);
            }
        }
    }
}
