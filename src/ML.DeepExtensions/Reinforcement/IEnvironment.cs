using System.Collections.ObjectModel;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// An environment an agent interacts with, with Gymnasium's semantics: <see cref="Reset"/> starts an
/// episode, <see cref="Step"/> applies one action. Implement this one interface for your own
/// environment; implement <see cref="Training.ICheckpointState"/> as well if runs that use it must
/// resume exactly from a checkpoint.
/// </summary>
/// <typeparam name="TAction"><see cref="int"/> for a <see cref="DiscreteSpace"/>, <see cref="float"/>[] for a <see cref="BoxSpace"/>.</typeparam>
/// <remarks>
/// <para>
/// An episode ends in one of two ways, and learners treat them differently.
/// <see cref="StepResult.Terminated"/> means the environment reached a terminal state of the task
/// (the pole fell, the goal was reached): there is no future reward, so the value of the next state is
/// zero. <see cref="StepResult.Truncated"/> means the episode was cut short from outside the task,
/// usually by a <see cref="TimeLimit{TAction}"/>: the next state is an ordinary state, and learners
/// bootstrap through it (they add the discounted value of the final observation). Treating a time
/// limit as termination teaches a policy that the world ends after N steps.
/// </para>
/// <para>
/// Observations are float32 vectors whose length equals <see cref="ObservationSpace"/>'s size. An
/// environment may keep its own state in float64 (the built-in ones do, as Gymnasium does).
/// </para>
/// </remarks>
public interface IEnvironment<TAction>
{
    /// <summary>A name used in error messages and logs, e.g. <c>CartPole-v1</c>.</summary>
    string Name => GetType().Name;

    /// <summary>The observations this environment produces.</summary>
    BoxSpace ObservationSpace { get; }

    /// <summary>The actions it accepts.</summary>
    Space<TAction> ActionSpace { get; }

    /// <summary>
    /// Starts a new episode. With a seed, the environment's random generator is reseeded first, so the
    /// same seed gives the same episode; without one, the generator continues where it was.
    /// </summary>
    /// <param name="seed">A non-negative seed, or null to continue the current random sequence.</param>
    ResetResult Reset(int? seed = null);

    /// <summary>Applies <paramref name="action"/> and advances the environment by one step.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "Step is the name every RL library gives this call (Gymnasium, SB3); VB callers can still call it.")]
    StepResult Step(TAction action);
}

/// <summary>What <see cref="IEnvironment{TAction}.Reset"/> returns: the first observation of the episode and optional information.</summary>
/// <param name="Observation">The first observation.</param>
/// <param name="Info">Diagnostic information; never used by learners. Empty by default.</param>
public readonly record struct ResetResult(float[] Observation, IReadOnlyDictionary<string, object> Info)
{
    /// <summary>A result with no information.</summary>
    public ResetResult(float[] observation)
        : this(observation, ReadOnlyDictionary<string, object>.Empty)
    {
    }
}

/// <summary>What <see cref="IEnvironment{TAction}.Step"/> returns.</summary>
/// <param name="Observation">The observation after the action.</param>
/// <param name="Reward">The reward for the transition.</param>
/// <param name="Terminated">The task reached a terminal state: no future reward follows; do not bootstrap.</param>
/// <param name="Truncated">The episode was cut short (a time limit): the state is not terminal; bootstrap from <paramref name="Observation"/>.</param>
/// <param name="Info">Diagnostic information; never used by learners. Empty by default.</param>
public readonly record struct StepResult(float[] Observation, double Reward, bool Terminated, bool Truncated, IReadOnlyDictionary<string, object> Info)
{
    /// <summary>A result with no information.</summary>
    public StepResult(float[] observation, double reward, bool terminated, bool truncated)
        : this(observation, reward, terminated, truncated, ReadOnlyDictionary<string, object>.Empty)
    {
    }

    /// <summary>Whether the episode is over (terminated or truncated); call Reset next.</summary>
    public bool Done => Terminated || Truncated;
}
