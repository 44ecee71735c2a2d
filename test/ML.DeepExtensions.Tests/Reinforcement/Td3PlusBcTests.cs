using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>
/// TD3+BC from Pendulum-v1 logs of a mediocre behaviour policy: a hand-written swing-up and balance
/// controller whose torque is replaced by a uniformly random one part of the time.
/// </summary>
[TestClass]
public sealed class Td3PlusBcTests
{
    private static readonly BoxSpace Torque = new(-2f, 2f, 1);

    public sealed class Transition
    {
        [VectorType(3)]
        public float[] Observation { get; set; } = [];

        [VectorType(1)]
        public float[] Action { get; set; } = [];

        public float Reward { get; set; }

        [VectorType(3)]
        public float[] NextObservation { get; set; } = [];

        public bool Terminated { get; set; }

        public bool Truncated { get; set; }
    }

    /// <summary>Energy pumping (E = ½θ̇² + 15 cos θ towards the upright 15) far from the top, a PD rule near it.</summary>
    internal static float Controller(float[] observation)
    {
        double c = observation[0], s = observation[1], w = observation[2];
        double theta = Math.Atan2(s, c);
        double u = c > 0.85 ? -((10 * theta) + (2 * w)) : 2 * Math.Sign((15 - ((0.5 * w * w) + (15 * c))) * w);
        return (float)Math.Clamp(u, -2, 2);
    }

    internal static List<Transition> Log(int episodes, double randomShare, int seed, out double behaviourReturn, double noise = 0)
    {
        var random = new Pcg64((ulong)seed);
        var environment = ClassicControl.Pendulum();
        var rows = new List<Transition>();
        double total = 0;
        for (int episode = 0; episode < episodes; episode++)
        {
            float[] observation = environment.Reset(seed + episode).Observation;
            while (true)
            {
                float action = random.NextDouble() < randomShare ? (float)random.Uniform(-2, 2) : Math.Clamp(Controller(observation) + (float)(noise * random.NextNormal()), -2f, 2f);
                var step = environment.Step([action]);
                rows.Add(new Transition { Observation = observation, Action = [action], Reward = (float)step.Reward, NextObservation = step.Observation, Terminated = step.Terminated, Truncated = step.Truncated });
                total += step.Reward;
                observation = step.Observation;
                if (step.Done)
                {
                    break;
                }
            }
        }

        behaviourReturn = total / episodes;
        return rows;
    }

    private static double Play(Func<float[], float> policy, int episodes, int seed)
    {
        var environment = ClassicControl.Pendulum();
        double total = 0;
        for (int i = 0; i < episodes; i++)
        {
            float[] observation = environment.Reset(seed + i).Observation;
            while (true)
            {
                var step = environment.Step([policy(observation)]);
                total += step.Reward;
                observation = step.Observation;
                if (step.Done)
                {
                    break;
                }
            }
        }

        return total / episodes;
    }

    [TestMethod]
    public void Td3PlusBcFromMediocrePendulumLogsBeatsTheBehaviourAndRandomOnlineAndExportsTheSameActions()
    {
        // Measured here: the logs (20 episodes, 4,000 transitions, the controller replaced by a random torque half
        // the time) return -472.9; random torques return -1,368.9 over the evaluation seeds; TD3+BC, 4,000 steps,
        // batch 128, seed 1, returns -256.8 online (10 episodes). Over seeds 1-3 and 4,000-6,000 steps it
        // returned -226 to -458: always above the behaviour (once only just), always far above random, which is
        // what is asserted (the controller alone returns -132.3).
        var context = new MLContext(seed: 1);
        var logs = context.Data.LoadFromEnumerable(Log(20, 0.5, 11, out double behaviour));
        var policy = new OfflineLearner(new OfflineOptions { MaxSteps = 4000, Seed = 1, BatchSize = 128, IntraOpThreads = 1 }).TrainTd3PlusBc(logs, Torque);
        double online = Play(o => policy.Act(o)[0], 10, 900);
        var random = new Pcg64(3);
        double randomReturn = Play(_ => (float)random.Uniform(-2, 2), 10, 900);
        string report = string.Create(CultureInfo.InvariantCulture, $"behaviour {behaviour:F1}, random {randomReturn:F1}, TD3+BC {online:F1}");
        Assert.IsGreaterThan(behaviour, online, report);
        Assert.IsGreaterThan(randomReturn + 600, online, report);

        var observations = Enumerable.Range(0, 20).Select(i => new[] { (float)Math.Cos(i), (float)Math.Sin(i), (i - 10) * 0.7f }).ToArray();
        byte[] onnx = policy.ExportOnnx();
        foreach (var observation in observations)
        {
            var (values, shape) = Onnx.OnnxRuntimeRunner.RunFloat(onnx, DiscretePolicy.ObservationColumnName, observation, [3], ContinuousPolicy.ActionColumnName);
            CollectionAssert.AreEqual(new long[] { 1 }, shape);
            Assert.AreEqual(policy.Act(observation)[0], values[0], 1e-5f);
        }

        using var model = policy.CreateModel();
        var scored = model.Transform(context.Data.LoadFromEnumerable(observations.Select(o => new PpoAgentTests.PendulumRow { Observation = o })));
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 1), scored.Schema[ContinuousPolicy.ActionColumnName].Type);
        var actions = scored.GetColumn<float[]>(ContinuousPolicy.ActionColumnName).ToArray();
        for (int i = 0; i < observations.Length; i++)
        {
            Assert.AreEqual(policy.Act(observations[i])[0], actions[i][0], 1e-5f);
            Assert.IsTrue(actions[i][0] is >= -2f and <= 2f);
        }
    }

    [TestMethod]
    public void Td3PlusBcResumedFromAStepCheckpointEqualsAnUninterruptedRun()
    {
        var context = new MLContext(seed: 1);
        var logs = context.Data.LoadFromEnumerable(Log(2, 0.5, 5, out _));
        string directory = Directory.CreateTempSubdirectory("mldx-td3bc-").FullName;
        try
        {
            // Stopping at step 121 leaves the run between two delayed actor updates.
            OfflineOptions Options(string? resume = null, bool stop = false) => new()
            {
                MaxSteps = 300, Seed = 2, BatchSize = 32, HiddenLayers = [16], IntraOpThreads = 1, ResumeFromCheckpoint = resume,
                Callbacks = stop ? [new StopAt(121)] : [], Checkpoints = stop ? new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 121 } : null,
            };

            var uninterrupted = new OfflineLearner(Options()).TrainTd3PlusBc(logs, Torque);
            new OfflineLearner(Options(stop: true)).TrainTd3PlusBc(logs, Torque);
            var resumed = new OfflineLearner(Options(resume: Directory.GetFiles(directory).Single())).TrainTd3PlusBc(logs, Torque);

            float[] a = Parameters(uninterrupted.Network), b = Parameters(resumed.Network);
            Assert.IsGreaterThan(50, a.Length);
            CollectionAssert.AreEqual(a, b);
            CollectionAssert.AreEqual(uninterrupted.History["loss"].ToArray(), resumed.History["loss"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void LogsWithAWrongActionWidthBadActionsOrMissingColumnsFailNamingThem()
    {
        var context = new MLContext(seed: 1);
        var rows = Log(1, 0.5, 5, out _);
        var learner = new OfflineLearner(new OfflineOptions { MaxSteps = 10 });

        var width = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainTd3PlusBc(context.Data.LoadFromEnumerable(rows), new BoxSpace(-2f, 2f, 2)));
        Assert.Contains("'Action' has 1 values per row", width.Message);

        var missing = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainTd3PlusBc(context.Transforms.DropColumns("NextObservation").Fit(context.Data.LoadFromEnumerable(rows)).Transform(context.Data.LoadFromEnumerable(rows)), Torque));
        Assert.Contains("'NextObservation'", missing.Message);

        var scalar = rows.Select(r => new ScalarActionTransition { Observation = r.Observation, Action = r.Action[0], Reward = r.Reward, NextObservation = r.NextObservation, Terminated = r.Terminated, Truncated = r.Truncated });
        var type = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainTd3PlusBc(context.Data.LoadFromEnumerable(scalar), Torque));
        Assert.Contains("'Action' is Single", type.Message);

        rows[7].Action = [float.NaN];
        var nan = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainTd3PlusBc(context.Data.LoadFromEnumerable(rows), Torque));
        Assert.Contains("Row 7", nan.Message);
        Assert.Contains("'Action'", nan.Message);
        rows[7].Action = [3f];
        var outside = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainTd3PlusBc(context.Data.LoadFromEnumerable(rows), Torque));
        Assert.Contains("Row 7", outside.Message);
        Assert.Contains("[-2, 2]", outside.Message);
        rows[7].Action = [0f];
        rows[9].NextObservation[1] = float.NaN;
        var observation = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainTd3PlusBc(context.Data.LoadFromEnumerable(rows), Torque));
        Assert.Contains("Row 9", observation.Message);
        Assert.Contains("'NextObservation'", observation.Message);

        var unbounded = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainTd3PlusBc(context.Data.LoadFromEnumerable(rows), new BoxSpace(float.NegativeInfinity, float.PositiveInfinity, 1)));
        Assert.Contains("unbounded", unbounded.Message);
    }

    private static float[] Parameters(TorchSharp.torch.nn.Module module) =>
        [.. module.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray())];

    private sealed class StopAt(long step) : ITrainingCallback
    {
        public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs)
        {
            if (globalStep + 1 >= step)
            {
                run.StopTraining = true;
            }
        }
    }

    public sealed class ScalarActionTransition
    {
        [VectorType(3)]
        public float[] Observation { get; set; } = [];

        public float Action { get; set; }

        public float Reward { get; set; }

        [VectorType(3)]
        public float[] NextObservation { get; set; } = [];

        public bool Terminated { get; set; }

        public bool Truncated { get; set; }
    }
}
