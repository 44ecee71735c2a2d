using ML.DeepExtensions.Reinforcement;

namespace ML.DeepExtensions.Tests.Reinforcement;

[TestClass]
public sealed class BadInputTests
{
    [TestMethod]
    public void DiscreteActionOutsideTheSpaceNamesTheSpaceAndEnvironment()
    {
        var env = new EnvironmentChecker<int>(ClassicControl.CartPole());
        env.Reset(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => env.Step(2));
        Assert.Contains("CartPole-v1", error.Message);
        Assert.Contains("Discrete(2)", error.Message);
        Assert.Contains("action 2", error.Message);
        Assert.Contains("step 1", error.Message);

        // The raw environment refuses it too, as Gymnasium's assertion does.
        var raw = new MountainCarEnvironment();
        raw.Reset(seed: 1);
        error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => raw.Step(-1));
        Assert.Contains("Discrete(3)", error.Message);
    }

    [TestMethod]
    public void ContinuousActionOutsideTheBoxIsRefusedByTheCheckerButClippedByTheRawEnvironment()
    {
        var env = new EnvironmentChecker<float[]>(ClassicControl.Pendulum());
        env.Reset(seed: 3);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => env.Step([2.5f]));
        Assert.Contains("Pendulum-v1", error.Message);
        Assert.Contains("Box(-2, 2, (1,), float32)", error.Message);
        Assert.Contains("action[0] = 2.5", error.Message);

        var wrongLength = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => env.Step([1f, 1f]));
        Assert.Contains("2 elements", wrongLength.Message);
        var nan = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => env.Step([float.NaN]));
        Assert.Contains("NaN", nan.Message);

        // Gymnasium's Pendulum clips: 2.5 acts as 2.0 (the reward still uses the clipped torque).
        var clipped = new PendulumEnvironment();
        var limit = new PendulumEnvironment();
        clipped.Reset(seed: 3);
        limit.Reset(seed: 3);
        Assert.AreEqual(limit.Step([2f]).Reward, clipped.Step([2.5f]).Reward);
        CollectionAssert.AreEqual(limit.State.ToArray(), clipped.State.ToArray());
    }

    [TestMethod]
    public void NaNObservationNamesTheEnvironmentAndStep()
    {
        var env = new EnvironmentChecker<int>(new FaultyEnvironment { NaNObservationAt = 4 });
        env.Reset();
        for (int i = 0; i < 3; i++)
        {
            env.Step(0);
        }
        var error = Assert.ThrowsExactly<EnvironmentException>(() => env.Step(1));
        Assert.AreEqual("Faulty-v0", error.EnvironmentName);
        Assert.AreEqual(4L, error.EpisodeStep);
        Assert.Contains("Environment 'Faulty-v0', step 4 of the episode", error.Message);
        Assert.Contains("NaN at index 1", error.Message);
    }

    [TestMethod]
    public void NaNRewardNamesTheEnvironmentAndStep()
    {
        var vector = new VectorEnvironment<int>(i => new FaultyEnvironment { NaNRewardAt = 2, EndsAfter = 10 }, 2);
        vector.Reset(seed: 0);
        vector.Step([0, 1]);
        var error = Assert.ThrowsExactly<EnvironmentException>(() => vector.Step([0, 1]));
        Assert.AreEqual(2L, error.EpisodeStep);
        Assert.Contains("Faulty-v0", error.Message);
        Assert.Contains("reward NaN", error.Message);
        Assert.Contains("(copy 0 of 2)", error.Message);
    }

    [TestMethod]
    public void ObservationOfTheWrongLengthIsAnError()
    {
        var env = new EnvironmentChecker<int>(new FaultyEnvironment { ShortObservationAt = 1 });
        env.Reset();
        var error = Assert.ThrowsExactly<EnvironmentException>(() => env.Step(0));
        Assert.Contains("length 2", error.Message);
        Assert.Contains("has 3 elements", error.Message);
        Assert.Contains("Faulty-v0", error.Message);

        // Wrappers that read observations check too, even without the checker.
        var normalized = new NormalizeObservation<int>(new FaultyEnvironment { ShortObservationAt = 1 });
        normalized.Reset();
        error = Assert.ThrowsExactly<EnvironmentException>(() => normalized.Step(0));
        Assert.Contains("length 2", error.Message);
    }

    [TestMethod]
    public void AnEnvironmentThatNeverEndsFailsAtTheStepCapInsteadOfHanging()
    {
        var env = new EnvironmentChecker<int>(new FaultyEnvironment(), maxEpisodeSteps: 1_000);
        env.Reset();
        var error = Assert.ThrowsExactly<EnvironmentException>(() =>
        {
            for (int i = 0; i < 1_000_000; i++)
            {
                env.Step(i % 2);
            }
        });
        Assert.AreEqual(1_000L, error.EpisodeStep);
        Assert.Contains("1000 steps without terminating or being truncated", error.Message);
        Assert.Contains("TimeLimit", error.Message);

        // With a time limit the same environment is fine: truncation resets the count.
        var limited = new VectorEnvironment<int>(i => new TimeLimit<int>(new FaultyEnvironment(), 50), 1, maxEpisodeSteps: 60);
        limited.Reset(seed: 0);
        int truncations = 0;
        for (int i = 0; i < 500; i++)
        {
            truncations += limited.Step([0]).Truncated[0] ? 1 : 0;
        }
        Assert.AreEqual(10, truncations);
    }

    [TestMethod]
    public void StepBeforeResetOrAfterTheEndIsAnError()
    {
        var env = new EnvironmentChecker<int>(new FaultyEnvironment { EndsAfter = 2 });
        Assert.Contains("call Reset before Step", Assert.ThrowsExactly<InvalidOperationException>(() => env.Step(0)).Message);
        env.Reset();
        env.Step(0);
        Assert.IsTrue(env.Step(0).Terminated);
        Assert.Contains("ended at step 2", Assert.ThrowsExactly<InvalidOperationException>(() => env.Step(0)).Message);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => env.Reset(seed: -1));

        Assert.Contains("call Reset before Step", Assert.ThrowsExactly<InvalidOperationException>(() => new AcrobotEnvironment().Step(0)).Message);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CartPoleEnvironment().Reset(seed: -5));
    }

    [TestMethod]
    public void CheckpointOfAnEnvironmentWithoutStateSupportNamesIt()
    {
        var env = new TimeLimit<int>(new FaultyEnvironment(), 10);
        using var writer = new BinaryWriter(new MemoryStream());
        var error = Assert.ThrowsExactly<NotSupportedException>(() => env.SaveState(writer));
        Assert.Contains("Faulty-v0", error.Message);
        Assert.Contains("ICheckpointState", error.Message);
    }

    [TestMethod]
    public void VectorEnvironmentRefusesMismatchedCopiesAndActionCounts()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => new VectorEnvironment<int>(
            i => i == 0 ? new CartPoleEnvironment() : new AcrobotEnvironment(), 2));
        Assert.Contains("Copy 1 ('Acrobot-v1'", error.Message);

        var shared = new CartPoleEnvironment();
        Assert.Contains("same 'CartPole-v1' instance", Assert.ThrowsExactly<ArgumentException>(() => new VectorEnvironment<int>(_ => shared, 2)).Message);

        var vector = new VectorEnvironment<int>(_ => ClassicControl.CartPole(), 3);
        vector.Reset(seed: 0);
        Assert.Contains("Got 2 actions for 3 copies", Assert.ThrowsExactly<ArgumentException>(() => vector.Step([0, 1])).Message);
        var action = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => vector.Step([0, 1, 5]));
        Assert.Contains("action 5 is outside the space Discrete(2)", action.Message);
        Assert.Contains("(copy 2 of 3)", action.Message);
    }
}
