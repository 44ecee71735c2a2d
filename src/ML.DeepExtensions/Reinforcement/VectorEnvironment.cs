using System.Globalization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// <see cref="Count"/> copies of an environment stepped together, with observations batched into one
/// row-major float array of <c>Count × ObservationSize</c> (ready for a tensor of that shape). Each copy
/// is wrapped in an <see cref="EnvironmentChecker{TAction}"/>.
/// </summary>
/// <typeparam name="TAction">The action type.</typeparam>
/// <remarks>
/// <para>
/// Automatic reset: when a copy's episode ends (terminated or truncated), it is reset in the same
/// <see cref="Step"/> call, its row of <see cref="VectorStepResult.Observations"/> holds the first
/// observation of the new episode, and the last observation of the finished episode is in
/// <see cref="VectorStepResult.FinalObservations"/>. A learner bootstraps a truncated transition from
/// that final observation (Stable-Baselines3's convention; Gymnasium calls it the same-step autoreset).
/// </para>
/// <para>
/// <see cref="Reset"/> with a seed seeds copy <c>i</c> with <c>seed + i</c>, as Gymnasium's vector
/// environments do; later automatic resets continue each copy's own random sequence.
/// </para>
/// </remarks>
public sealed class VectorEnvironment<TAction> : ICheckpointState
{
    private readonly EnvironmentChecker<TAction>[] _environments;
    private readonly float[] _observations;

    /// <summary>Creates <paramref name="count"/> copies with <paramref name="factory"/> (called with the copy's index).</summary>
    /// <param name="factory">Makes copy <c>i</c>; each call must return a new environment.</param>
    /// <param name="count">The number of copies.</param>
    /// <param name="maxEpisodeSteps">The checker's cap on an episode that neither terminates nor truncates.</param>
    /// <exception cref="ArgumentException">The copies differ in their spaces, or the factory returned the same instance twice.</exception>
    public VectorEnvironment(Func<int, IEnvironment<TAction>> factory, int count, int maxEpisodeSteps = EnvironmentChecker<TAction>.DefaultMaxEpisodeSteps)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _environments = new EnvironmentChecker<TAction>[count];
        var seen = new HashSet<IEnvironment<TAction>>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < count; i++)
        {
            IEnvironment<TAction> environment = factory(i) ?? throw new ArgumentException($"The factory returned null for copy {i}.", nameof(factory));
            if (!seen.Add(environment))
            {
                throw new ArgumentException($"The factory returned the same '{environment.Name}' instance for copy {i} as for an earlier one; return a new environment each call.", nameof(factory));
            }
            _environments[i] = new EnvironmentChecker<TAction>(environment, maxEpisodeSteps);
        }
        IEnvironment<TAction> first = _environments[0];
        for (int i = 1; i < count; i++)
        {
            if (_environments[i].ObservationSpace.ToString() != first.ObservationSpace.ToString()
                || _environments[i].ActionSpace.ToString() != first.ActionSpace.ToString())
            {
                throw new ArgumentException(
                    $"Copy {i} ('{_environments[i].Name}': {_environments[i].ObservationSpace}, actions {_environments[i].ActionSpace}) differs from copy 0 ('{first.Name}': {first.ObservationSpace}, actions {first.ActionSpace}); all copies must share their spaces.",
                    nameof(factory));
            }
        }
        ObservationSize = first.ObservationSpace.Size;
        _observations = new float[count * ObservationSize];
    }

    /// <summary>The number of copies.</summary>
    public int Count => _environments.Length;

    /// <summary>The first copy's name.</summary>
    public string Name => _environments[0].Name;

    /// <summary>The observation space of one copy.</summary>
    public BoxSpace ObservationSpace => _environments[0].ObservationSpace;

    /// <summary>The action space of one copy.</summary>
    public Space<TAction> ActionSpace => _environments[0].ActionSpace;

    /// <summary>The length of one copy's observation.</summary>
    public int ObservationSize { get; }

    /// <summary>The copies, each inside its checker.</summary>
    public IReadOnlyList<IEnvironment<TAction>> Environments => _environments;

    /// <summary>The key under which a <see cref="TrainingRun"/> stores this environment's state; give training and evaluation environments different keys.</summary>
    public string StateKey { get; init; } = "environments";

    /// <summary>Resets every copy; returns the batched first observations (<c>Count × ObservationSize</c>, a new array).</summary>
    /// <param name="seed">Copy <c>i</c> is seeded with <c>seed + i</c>; null continues each copy's sequence.</param>
    public float[] Reset(int? seed = null)
    {
        for (int i = 0; i < _environments.Length; i++)
        {
            ResetResult result = InCopy(i, () => _environments[i].Reset(seed is { } s ? checked(s + i) : null));
            result.Observation.CopyTo(_observations, i * ObservationSize);
        }
        return (float[])_observations.Clone();
    }

    /// <summary>Steps every copy with its action, resetting the copies whose episode ended.</summary>
    /// <param name="actions">One action per copy, in copy order.</param>
    /// <exception cref="ArgumentException">The number of actions is not <see cref="Count"/>.</exception>
    public VectorStepResult Step(IReadOnlyList<TAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count != _environments.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Got {actions.Count} actions for {_environments.Length} copies of '{Name}'."), nameof(actions));
        }
        var rewards = new double[Count];
        var terminated = new bool[Count];
        var truncated = new bool[Count];
        var finals = new float[]?[Count];
        var infos = new IReadOnlyDictionary<string, object>[Count];
        for (int i = 0; i < _environments.Length; i++)
        {
            TAction action = actions[i];
            StepResult result = InCopy(i, () => _environments[i].Step(action));
            rewards[i] = result.Reward;
            terminated[i] = result.Terminated;
            truncated[i] = result.Truncated;
            infos[i] = result.Info;
            float[] observation = result.Observation;
            if (result.Done)
            {
                finals[i] = (float[])observation.Clone();
                observation = InCopy(i, () => _environments[i].Reset()).Observation;
            }
            observation.CopyTo(_observations, i * ObservationSize);
        }
        return new VectorStepResult((float[])_observations.Clone(), rewards, terminated, truncated, finals, infos);
    }

    private T InCopy<T>(int index, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (EnvironmentException e) when (Count > 1)
        {
            throw new EnvironmentException(e, string.Create(CultureInfo.InvariantCulture, $"copy {index} of {Count}"));
        }
        catch (ArgumentOutOfRangeException e) when (Count > 1)
        {
            throw new ArgumentOutOfRangeException(string.Create(CultureInfo.InvariantCulture, $"{e.Message} (copy {index} of {Count})"), e);
        }
    }

    /// <summary>Writes every copy's state (each must support checkpoints) and the current batched observations.</summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Count);
        foreach (EnvironmentChecker<TAction> environment in _environments)
        {
            environment.SaveState(writer);
        }
        foreach (float value in _observations)
        {
            writer.Write(value);
        }
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote into copies made the same way.</summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int count = reader.ReadInt32();
        if (count != Count)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The saved vector environment has {count} copies; this one has {Count} copies of '{Name}'."));
        }
        foreach (EnvironmentChecker<TAction> environment in _environments)
        {
            environment.LoadState(reader);
        }
        for (int i = 0; i < _observations.Length; i++)
        {
            _observations[i] = reader.ReadSingle();
        }
    }
}

/// <summary>What <see cref="VectorEnvironment{TAction}.Step"/> returns; arrays are indexed by copy and owned by the caller.</summary>
/// <param name="Observations">Row-major <c>Count × ObservationSize</c>: the next observation of each copy, or the first of its new episode where it was reset.</param>
/// <param name="Rewards">Each copy's reward.</param>
/// <param name="Terminated">Each copy's termination flag (do not bootstrap).</param>
/// <param name="Truncated">Each copy's truncation flag (bootstrap from the final observation).</param>
/// <param name="FinalObservations">For each copy whose episode ended, its last observation; null otherwise.</param>
/// <param name="Infos">Each copy's step information (for a copy that was reset, that of the last step of its finished episode).</param>
public sealed record VectorStepResult(
    float[] Observations,
    double[] Rewards,
    bool[] Terminated,
    bool[] Truncated,
    float[]?[] FinalObservations,
    IReadOnlyList<IReadOnlyDictionary<string, object>> Infos);
