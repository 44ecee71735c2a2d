using ML.DeepExtensions.Reinforcement;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>A user's environment written the way the docs describe: one class, no checkpoint support, misbehaving on request.</summary>
internal sealed class FaultyEnvironment : IEnvironment<int>
{
    private int _step;

    /// <summary>Step (1-based) at which the observation contains NaN; 0 never.</summary>
    public int NaNObservationAt { get; init; }

    /// <summary>Step at which the reward is NaN; 0 never.</summary>
    public int NaNRewardAt { get; init; }

    /// <summary>Step at which the observation has the wrong length; 0 never.</summary>
    public int ShortObservationAt { get; init; }

    /// <summary>Episode length; 0 never ends.</summary>
    public int EndsAfter { get; init; }

    public string Name => "Faulty-v0";

    public BoxSpace ObservationSpace { get; } = new(-10f, 10f, 3);

    public Space<int> ActionSpace { get; } = new DiscreteSpace(2);

    public ResetResult Reset(int? seed = null)
    {
        _step = 0;
        return new ResetResult([0f, 0f, 0f]);
    }

    public StepResult Step(int action)
    {
        _step++;
        float[] observation = _step == ShortObservationAt ? [1f, 2f] : [action, _step % 7, 0f];
        if (_step == NaNObservationAt)
        {
            observation[1] = float.NaN;
        }
        double reward = _step == NaNRewardAt ? double.NaN : 1.0;
        return new StepResult(observation, reward, EndsAfter > 0 && _step >= EndsAfter, false);
    }
}
