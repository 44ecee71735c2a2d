using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

[TestClass]
public sealed class EnvironmentApiTests
{
    [TestMethod]
    public void RegisteredEpisodeLimitsTruncateWithoutTerminating()
    {
        // Pendulum never terminates; MountainCar with "no push" never reaches the goal.
        AssertTruncatesAt(ClassicControl.Pendulum(), 200, [0f]);
        AssertTruncatesAt(ClassicControl.MountainCar(), 200, 1);
        AssertTruncatesAt(ClassicControl.MountainCarContinuous(), 999, [0f]);
        AssertTruncatesAt(ClassicControl.Acrobot(), 500, 1);

        // CartPole held upright by a simple controller runs into its 500-step limit.
        TimeLimit<int> cartPole = ClassicControl.CartPole();
        float[] observation = cartPole.Reset(seed: 5).Observation;
        for (int t = 1; t <= 500; t++)
        {
            StepResult result = cartPole.Step(observation[2] + (0.5f * observation[3]) > 0 ? 1 : 0);
            observation = result.Observation;
            Assert.IsFalse(result.Terminated, $"the controller dropped the pole at step {t}");
            Assert.AreEqual(t == 500, result.Truncated, $"step {t}");
        }
        Assert.AreEqual(500, cartPole.MaxEpisodeSteps);
    }

    [TestMethod]
    public void CartPoleRewardsTheTerminatingStepAndNothingAfter()
    {
        var env = new CartPoleEnvironment { State = [2.39, 1.0, 0.0, 0.0] };
        StepResult last = env.Step(1);
        Assert.IsTrue(last.Terminated);
        Assert.AreEqual(1.0, last.Reward);
        Assert.AreEqual(0.0, env.Step(1).Reward);
    }

    [TestMethod]
    public void SeededResetsRepeatAndUnseededResetsContinue()
    {
        var a = new AcrobotEnvironment();
        var b = new AcrobotEnvironment();
        CollectionAssert.AreEqual(a.Reset(seed: 9).Observation, b.Reset(seed: 9).Observation);
        float[] second = a.Reset().Observation;
        CollectionAssert.AreEqual(second, b.Reset().Observation);
        CollectionAssert.AreNotEqual(a.Reset(seed: 9).Observation, second);
        CollectionAssert.AreNotEqual(a.Reset(seed: 9).Observation, a.Reset(seed: 10).Observation);
    }

    [TestMethod]
    public void SpacesContainTheirSamplesAndDescribeThemselves()
    {
        var random = new Pcg64(4);
        var discrete = new DiscreteSpace(3, start: -1);
        var seen = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            int sample = discrete.Sample(random);
            Assert.IsTrue(discrete.Contains(sample));
            seen.Add(sample);
        }
        Assert.HasCount(3, seen);
        Assert.IsFalse(discrete.Contains(2));
        Assert.AreEqual("Discrete(3, start=-1)", discrete.ToString());

        var box = new BoxSpace([-1f, 0f, float.NegativeInfinity, float.NegativeInfinity], [1f, float.PositiveInfinity, 5f, float.PositiveInfinity]);
        for (int i = 0; i < 200; i++)
        {
            Assert.IsTrue(box.Contains(box.Sample(random)));
        }
        Assert.IsFalse(box.Contains([0f, 0f, 0f]));
        Assert.IsFalse(box.Contains([0f, -0.1f, 0f, 0f]));
        Assert.IsFalse(box.Contains([float.NaN, 0f, 0f, 0f]));
        Assert.AreEqual("Box([-1, 0, -inf, -inf], [1, inf, 5, inf], (4,), float32)", box.ToString());

        // The same generator state gives the same samples.
        var x = new Pcg64(11);
        var y = new Pcg64(11);
        CollectionAssert.AreEqual(box.Sample(x), box.Sample(y));
        Assert.ThrowsExactly<ArgumentException>(() => new BoxSpace([1f], [0f]));
    }

    [TestMethod]
    public void NormalizeObservationMatchesRunningStatisticsComputedDirectly()
    {
        var inner = new MountainCarEnvironment();
        var env = new NormalizeObservation<int>(ClassicControl.MountainCar());
        var raw = new List<float[]> { inner.Reset(seed: 2).Observation };
        float[] last = env.Reset(seed: 2).Observation;
        for (int t = 0; t < 50; t++)
        {
            raw.Add(inner.Step(t % 3).Observation);
            last = env.Step(t % 3).Observation;
        }
        // Gymnasium's statistics: a prior of mean 0, variance 1 with weight 1e-4, then the samples.
        for (int i = 0; i < 2; i++)
        {
            double n = raw.Count, prior = 1e-4;
            double sum = raw.Sum(o => (double)o[i]);
            double mean = sum / (n + prior);
            double sampleMean = sum / n;
            double m2 = raw.Sum(o => (o[i] - sampleMean) * (o[i] - sampleMean));
            double variance = ((prior * 1.0) + m2 + (sampleMean * sampleMean * prior * n / (n + prior))) / (n + prior);
            Assert.AreEqual(mean, env.Mean[i], 1e-9);
            Assert.AreEqual(variance, env.Variance[i], 1e-9);
            Assert.AreEqual((raw[^1][i] - mean) / Math.Sqrt(variance + 1e-8), last[i], 1e-5);
        }
        Assert.AreEqual(float.PositiveInfinity, env.ObservationSpace.High[0]);

        env.UpdateStatistics = false;
        double frozen = env.Mean[0];
        env.Step(2);
        Assert.AreEqual(frozen, env.Mean[0]);
    }

    [TestMethod]
    public void NormalizeRewardDividesByTheDiscountedReturnsDeviation()
    {
        var env = new NormalizeReward<int>(ClassicControl.MountainCar(), gamma: 0.9);
        env.Reset(seed: 0);
        // Every reward is -1: G runs -1, -1.9, -2.71, ...; the normalised reward is -1 / sqrt(var(G) + eps).
        var returns = new List<double>();
        double g = 0, normalized = 0;
        for (int t = 0; t < 20; t++)
        {
            g = (g * 0.9) - 1;
            returns.Add(g);
            normalized = env.Step(1).Reward;
        }
        double n = returns.Count, prior = 1e-4, sum = returns.Sum(), sampleMean = sum / n;
        double m2 = returns.Sum(r => (r - sampleMean) * (r - sampleMean));
        double variance = (prior + m2 + (sampleMean * sampleMean * prior * n / (n + prior))) / (n + prior);
        Assert.AreEqual(variance, env.ReturnVariance, 1e-9);
        Assert.AreEqual(-1 / Math.Sqrt(variance + 1e-8), normalized, 1e-9);

        var scaled = new ScaleReward<int>(ClassicControl.CartPole(), 0.01);
        scaled.Reset(seed: 0);
        Assert.AreEqual(0.01, scaled.Step(0).Reward);
    }

    [TestMethod]
    public void VectorEnvironmentBatchesSeedsAndResetsAutomatically()
    {
        const int copies = 3;
        var vector = new VectorEnvironment<int>(_ => ClassicControl.CartPole(), copies);
        var singles = Enumerable.Range(0, copies).Select(_ => ClassicControl.CartPole()).ToArray();
        float[] batch = vector.Reset(seed: 40);
        Assert.HasCount(copies * 4, batch);
        for (int i = 0; i < copies; i++)
        {
            // Copy i is seeded with seed + i.
            CollectionAssert.AreEqual(singles[i].Reset(seed: 40 + i).Observation, batch[(i * 4)..((i + 1) * 4)]);
        }

        var random = new Pcg64(1);
        int episodesEnded = 0;
        for (int t = 0; t < 300; t++)
        {
            int[] actions = [.. Enumerable.Range(0, copies).Select(_ => (int)random.NextInt64(2))];
            VectorStepResult step = vector.Step(actions);
            for (int i = 0; i < copies; i++)
            {
                StepResult single = singles[i].Step(actions[i]);
                Assert.AreEqual(single.Reward, step.Rewards[i]);
                Assert.AreEqual(single.Terminated, step.Terminated[i]);
                Assert.AreEqual(single.Truncated, step.Truncated[i]);
                float[] row = step.Observations[(i * 4)..((i + 1) * 4)];
                if (single.Done)
                {
                    // The final observation is kept; the row already holds the next episode's first one.
                    CollectionAssert.AreEqual(single.Observation, step.FinalObservations[i]);
                    CollectionAssert.AreEqual(singles[i].Reset().Observation, row);
                    episodesEnded++;
                }
                else
                {
                    Assert.IsNull(step.FinalObservations[i]);
                    CollectionAssert.AreEqual(single.Observation, row);
                }
            }
        }
        Assert.IsGreaterThan(10, episodesEnded);
    }

    [TestMethod]
    public void WrappedEnvironmentResumesExactlyFromAMidEpisodeCheckpoint()
    {
        static NormalizeReward<int> Make() => new(new NormalizeObservation<int>(new EnvironmentChecker<int>(ClassicControl.CartPole())));
        var original = Make();
        var policy = new Pcg64(77);
        original.Reset(seed: 3);
        for (int t = 0; t < 137; t++)
        {
            if (original.Step((int)policy.NextInt64(2)).Done)
            {
                original.Reset();
            }
        }

        byte[] saved = Save(original);
        var policyCopy = policy.Clone();
        var restored = Make();
        Load(restored, saved);

        List<(float[], double, bool, bool)> a = Play(original, policy, 200), b = Play(restored, policyCopy, 200);
        for (int t = 0; t < 200; t++)
        {
            CollectionAssert.AreEqual(a[t].Item1, b[t].Item1, $"step {t}");
            Assert.AreEqual(a[t].Item2, b[t].Item2, $"step {t}");
            Assert.AreEqual(a[t].Item3, b[t].Item3);
            Assert.AreEqual(a[t].Item4, b[t].Item4);
        }
        Assert.IsTrue(a.Any(s => s.Item3), "the 200 steps should cross at least one reset");
        CollectionAssert.AreEqual(Save(original), Save(restored));
    }

    [TestMethod]
    public void EveryBuiltInEnvironmentAndTheVectorEnvironmentResumeExactly()
    {
        AssertResumes<float[]>(() => ClassicControl.Pendulum(), r => [(float)r.Uniform(-2, 2)]);
        AssertResumes<float[]>(() => ClassicControl.MountainCarContinuous(), r => [(float)r.Uniform(-1, 1)]);
        AssertResumes<int>(() => ClassicControl.MountainCar(), r => (int)r.NextInt64(3));
        AssertResumes<int>(() => ClassicControl.Acrobot(), r => (int)r.NextInt64(3));

        var vector = new VectorEnvironment<int>(_ => ClassicControl.CartPole(), 2);
        vector.Reset(seed: 8);
        var policy = new Pcg64(2);
        for (int t = 0; t < 90; t++)
        {
            vector.Step([(int)policy.NextInt64(2), (int)policy.NextInt64(2)]);
        }
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            ((ICheckpointState)vector).SaveState(writer);
        }
        var restored = new VectorEnvironment<int>(_ => ClassicControl.CartPole(), 2);
        stream.Position = 0;
        using (var reader = new BinaryReader(stream))
        {
            ((ICheckpointState)restored).LoadState(reader);
        }
        var policyCopy = policy.Clone();
        for (int t = 0; t < 200; t++)
        {
            VectorStepResult x = vector.Step([(int)policy.NextInt64(2), (int)policy.NextInt64(2)]);
            VectorStepResult y = restored.Step([(int)policyCopy.NextInt64(2), (int)policyCopy.NextInt64(2)]);
            CollectionAssert.AreEqual(x.Observations, y.Observations, $"step {t}");
            CollectionAssert.AreEqual(x.Terminated, y.Terminated);
        }
    }

    private static void AssertResumes<TAction>(Func<EnvironmentWrapper<TAction>> make, Func<Pcg64, TAction> act)
    {
        EnvironmentWrapper<TAction> original = make();
        var policy = new Pcg64(5);
        original.Reset(seed: 12);
        for (int t = 0; t < 60; t++)
        {
            if (original.Step(act(policy)).Done)
            {
                original.Reset();
            }
        }
        byte[] saved = Save(original);
        EnvironmentWrapper<TAction> restored = make();
        Load(restored, saved);
        var policyCopy = policy.Clone();
        for (int t = 0; t < 200; t++)
        {
            StepResult x = original.Step(act(policy)), y = restored.Step(act(policyCopy));
            CollectionAssert.AreEqual(x.Observation, y.Observation, $"{original.Name} step {t}");
            Assert.AreEqual(x.Reward, y.Reward);
            Assert.AreEqual(x.Done, y.Done);
            if (x.Done)
            {
                CollectionAssert.AreEqual(original.Reset().Observation, restored.Reset().Observation);
            }
        }
    }

    private static List<(float[], double, bool, bool)> Play(NormalizeReward<int> env, Pcg64 policy, int steps)
    {
        var trace = new List<(float[], double, bool, bool)>();
        for (int t = 0; t < steps; t++)
        {
            StepResult result = env.Step((int)policy.NextInt64(2));
            trace.Add((result.Observation, result.Reward, result.Terminated, result.Truncated));
            if (result.Done)
            {
                // The reset draws from the environment's restored generator.
                trace.Add((env.Reset().Observation, 0, false, false));
            }
        }
        return trace;
    }

    private static void AssertTruncatesAt<TAction>(TimeLimit<TAction> env, int limit, TAction action)
    {
        env.Reset(seed: 0);
        for (int t = 1; t <= limit; t++)
        {
            StepResult result = env.Step(action);
            Assert.IsFalse(result.Terminated, $"{env.Name} step {t}");
            Assert.AreEqual(t == limit, result.Truncated, $"{env.Name} step {t}");
        }
        Assert.AreEqual(limit, env.MaxEpisodeSteps);
    }

    private static byte[] Save(ICheckpointState state)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            state.SaveState(writer);
        }
        return stream.ToArray();
    }

    private static void Load(ICheckpointState state, byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        state.LoadState(reader);
        Assert.AreEqual(bytes.Length, reader.BaseStream.Position, "the whole checkpoint should be read");
    }
}
