using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>The example of docs/reinforcement-learning.md: a user's environment in one class, with checkpoint support.</summary>
internal sealed class Corridor : IEnvironment<int>, ICheckpointState
{
    private const int Length = 10;
    private Pcg64 _random = new(0);
    private int _position;

    public string Name => "Corridor";

    public BoxSpace ObservationSpace { get; } = new(0f, 1f, 1);

    public Space<int> ActionSpace { get; } = new DiscreteSpace(2); // 0 = left, 1 = right

    public string StateKey => "corridor";

    public ResetResult Reset(int? seed = null)
    {
        if (seed is { } s)
        {
            _random = new Pcg64((ulong)s);
        }
        _position = (int)_random.NextInt64(Length / 2);
        return new ResetResult([_position / (float)Length]);
    }

    public StepResult Step(int action)
    {
        // The corridor is slippery: one move in five goes the other way.
        int direction = action == 1 ? 1 : -1;
        if (_random.NextDouble() < 0.2)
        {
            direction = -direction;
        }
        _position = Math.Max(0, _position + direction);
        bool reachedEnd = _position == Length;
        return new StepResult([_position / (float)Length], reachedEnd ? 1.0 : -0.01, terminated: reachedEnd, truncated: false);
    }

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_position);
        _random.SaveState(writer);
    }

    public void LoadState(BinaryReader reader)
    {
        _position = reader.ReadInt32();
        _random.LoadState(reader);
    }
}

[TestClass]
public sealed class UserEnvironmentTests
{
    [TestMethod]
    public void AUsersEnvironmentRunsVectorisedWithTimeLimitAndResumesExactly()
    {
        static VectorEnvironment<int> Make() => new(_ => new TimeLimit<int>(new Corridor(), 30), 4) { StateKey = "train_environments" };
        VectorEnvironment<int> vector = Make();
        vector.Reset(seed: 100);
        var policy = new Pcg64(9);
        int[] Act(Pcg64 random) => [.. Enumerable.Range(0, 4).Select(_ => random.NextDouble() < 0.8 ? 1 : 0)];
        int terminated = 0;
        for (int t = 0; t < 111; t++)
        {
            VectorStepResult step = vector.Step(Act(policy));
            terminated += step.Terminated.Count(x => x);
        }
        Assert.IsGreaterThan(0, terminated, "the corridor's end should be reached");

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            vector.SaveState(writer);
        }
        VectorEnvironment<int> restored = Make();
        stream.Position = 0;
        using (var reader = new BinaryReader(stream))
        {
            restored.LoadState(reader);
        }
        Assert.AreEqual("train_environments", ((ICheckpointState)restored).StateKey);
        Pcg64 policyCopy = policy.Clone();
        for (int t = 0; t < 200; t++)
        {
            VectorStepResult x = vector.Step(Act(policy)), y = restored.Step(Act(policyCopy));
            CollectionAssert.AreEqual(x.Observations, y.Observations, $"step {t}");
            CollectionAssert.AreEqual(x.Rewards, y.Rewards);
            CollectionAssert.AreEqual(x.Truncated, y.Truncated);
        }
    }
}
