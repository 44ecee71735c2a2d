using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>SAC improves Pendulum on a small budget, resumes exactly and exports its squashed policy.</summary>
[TestClass]
public sealed class SacAgentTests
{
    [TestMethod]
    public void SacOnPendulumBeatsRandomActionsClearlyAndItsModelGivesTheSameActions()
    {
        var options = new SacOptions(SacPreset.Pendulum)
        {
            MaxSteps = 3000, Seed = 1, HiddenLayers = [64, 64], BatchSize = 64, LearningStarts = 200, EvaluationFrequency = 1500, EvaluationEpisodes = 3, IntraOpThreads = 1,
        };
        var policy = new SacAgent(options).Train(ClassicControl.Pendulum);

        double trained = policy.Evaluate(ClassicControl.Pendulum(), 5, seed: 300).Average();
        var random = new Pcg64(3);
        double randomReturn = ContinuousRandom(ClassicControl.Pendulum(), random, 5, 300);
        Assert.IsGreaterThan(randomReturn + 300, trained, $"trained {trained} vs random {randomReturn}; history {string.Join(" | ", policy.History.Epochs.Select(e => e.ToString()))}");

        var context = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 20).Select(i => new PpoAgentTests.PendulumRow { Observation = [(float)Math.Cos(i), (float)Math.Sin(i), (i - 10) * 0.7f] }).ToArray();
        var model = policy.CreateModel();
        using var disposeModel = model as IDisposable;
        var actions = model.Transform(context.Data.LoadFromEnumerable(rows)).GetColumn<float[]>(ContinuousPolicy.ActionColumnName).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.AreEqual(policy.Act(rows[i].Observation)[0], actions[i][0], 1e-5f);
        }
    }

    [TestMethod]
    public void ARunResumedFromAStepCheckpointEqualsAnUninterruptedOne() =>
        AssertAResumedRunEqualsAnUninterruptedOne(
            (resume, callbacks, checkpoints) => new()
            {
                MaxSteps = 400, Seed = 6, HiddenLayers = [16], BatchSize = 16, LearningStarts = 50, EvaluationFrequency = 200, EvaluationEpisodes = 1,
                KeepBestPolicy = false, IntraOpThreads = 1, ResumeFromCheckpoint = resume, Callbacks = callbacks, Checkpoints = checkpoints,
            },
            "loss", "entropy_coefficient");

    [TestMethod]
    public void AStateDependentRunResumedMidRolloutEqualsAnUninterruptedOne() =>
        // The checkpoint falls at step 250, two steps into a rollout of 8 (TrainFrequency): the resumed
        // run must explore with the noise matrix drawn at step 248, so the matrix is part of the checkpoint.
        AssertAResumedRunEqualsAnUninterruptedOne(
            (resume, callbacks, checkpoints) => new()
            {
                MaxSteps = 400, Seed = 7, HiddenLayers = [16], BatchSize = 16, LearningStarts = 0, TrainFrequency = 8, GradientSteps = 8,
                StateDependentExploration = true, LogStdInit = -1, EvaluationFrequency = 200, EvaluationEpisodes = 1,
                KeepBestPolicy = false, IntraOpThreads = 1, ResumeFromCheckpoint = resume, Callbacks = callbacks, Checkpoints = checkpoints,
            },
            "loss", "episode_return");

    /// <summary>
    /// Trains uninterrupted; trains again, checkpointing and stopping at step 250; resumes from that
    /// checkpoint; the resumed run's weights and the <paramref name="logs"/> equal the uninterrupted run's.
    /// </summary>
    private static void AssertAResumedRunEqualsAnUninterruptedOne(
        Func<string?, IReadOnlyList<ITrainingCallback>, CheckpointOptions?, SacOptions> options, params string[] logs)
    {
        string directory = Directory.CreateTempSubdirectory("mldx-sac-").FullName;
        try
        {
            var uninterrupted = new SacAgent(options(null, [], null)).Train(ClassicControl.Pendulum);
            new SacAgent(options(null, [new StopAt(250)], new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 250 })).Train(ClassicControl.Pendulum);
            var resumed = new SacAgent(options(Directory.GetFiles(directory).Single(), [], null)).Train(ClassicControl.Pendulum);

            CollectionAssert.AreEqual(Parameters(uninterrupted.Network), Parameters(resumed.Network));
            foreach (string log in logs)
            {
                CollectionAssert.AreEqual(uninterrupted.History[log].ToArray(), resumed.History[log].ToArray(), log);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void TheStateDependentActorsDensityIsTheGaussianOfItsFeatureNoiseAndTheExportedModelGivesTheClippedMeanAction()
    {
        TorchSharp.torch.random.manual_seed(3);
        var actor = new SquashedGaussianActor(3, [5], 2, new StateDependentSettings(-0.5, FullStd: true));
        using var noGrad = TorchSharp.torch.no_grad();
        var observations = TorchSharp.torch.tensor(new[] { 0.3f, -1.2f, 2.0f, -0.7f, 0.1f, 0.9f }, [2, 3]);
        var random = new Pcg64(11);
        var weights = TorchSharp.torch.tensor(Enumerable.Range(0, 10).Select(_ => (float)random.NextNormal()).ToArray(), [5, 2]) * actor.SdeStd();
        var (action, logProbability) = actor.SampleStateDependent(observations, weights);

        // Independently: features z from the module's own trunk, σ = exp(−0.5), W given.
        var z = actor.children().OfType<TorchSharp.Modules.Sequential>().Single().forward(observations).data<float>().ToArray();
        var mean = actor.forward(observations).atanh().data<float>().ToArray();
        var w = weights.data<float>().ToArray();
        double sigma2 = Math.Exp(-1.0);
        for (int row = 0; row < 2; row++)
        {
            double expected = 0;
            for (int a = 0; a < 2; a++)
            {
                double noise = 0, variance = 1e-6;
                for (int f = 0; f < 5; f++)
                {
                    noise += z[(row * 5) + f] * w[(f * 2) + a];
                    variance += z[(row * 5) + f] * z[(row * 5) + f] * sigma2;
                }

                double squashed = Math.Tanh(mean[(row * 2) + a] + noise);
                Assert.AreEqual(squashed, action[row, a].item<float>(), 1e-5);
                expected += (-0.5 * noise * noise / variance) - (0.5 * Math.Log(variance)) - (0.5 * Math.Log(2 * Math.PI)) - Math.Log(1 - (squashed * squashed) + 1e-6);
            }

            Assert.AreEqual(expected, logProbability[row].item<float>(), 1e-3);
        }
    }

    [TestMethod]
    public void AStateDependentPolicysModelGivesItsDeterministicActions()
    {
        var options = new SacOptions(SacPreset.MountainCarContinuous)
        {
            MaxSteps = 300, Seed = 2, HiddenLayers = [16, 16], BatchSize = 32, EvaluationFrequency = 300, EvaluationEpisodes = 1, IntraOpThreads = 1,
        };
        Assert.IsTrue(options.StateDependentExploration);
        var policy = new SacAgent(options).Train(ClassicControl.MountainCarContinuous);
        var context = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 20).Select(i => new MountainCarRow { Observation = [-1.2f + (0.09f * i), (i - 10) * 0.007f] }).ToArray();
        var model = policy.CreateModel();
        using var disposeModel = model as IDisposable;
        var actions = model.Transform(context.Data.LoadFromEnumerable(rows)).GetColumn<float[]>(ContinuousPolicy.ActionColumnName).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.AreEqual(policy.Act(rows[i].Observation)[0], actions[i][0], 1e-5f);
        }
    }

    [TestMethod]
    public void AStateDependentSampleFrequencyOfZeroIsRefused()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SacAgent(new SacOptions { MaxSteps = 10, StateDependentExploration = true, StateDependentSampleFrequency = 0 }));
        Assert.Contains("StateDependentSampleFrequency", error.Message);
    }

    [TestMethod]
    public void DiscreteActionsAreRefused()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => new SacAgent(new SacOptions { MaxSteps = 10 }).Train(() => new NotABox()));
        Assert.Contains("BoxSpace", error.Message);
    }

    private static double ContinuousRandom(TimeLimit<float[]> environment, Pcg64 random, int episodes, int seed)
    {
        double total = 0;
        for (int i = 0; i < episodes; i++)
        {
            environment.Reset(seed + i);
            while (true)
            {
                var step = environment.Step([(float)random.Uniform(-2, 2)]);
                total += step.Reward;
                if (step.Done)
                {
                    break;
                }
            }
        }

        return total / episodes;
    }

    /// <summary>A MountainCarContinuous observation row.</summary>
    public sealed class MountainCarRow
    {
        [VectorType(2)]
        public float[] Observation { get; set; } = [];
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

    /// <summary>Float-array actions that are not a box.</summary>
    private sealed class NotABox : IEnvironment<float[]>
    {
        public BoxSpace ObservationSpace { get; } = new(-1f, 1f, 2);

        public Space<float[]> ActionSpace { get; } = new Anything();

        public ResetResult Reset(int? seed = null) => new([0f, 0f]);

        public StepResult Step(float[] action) => new([0f, 0f], 0, true, false);

        private sealed class Anything : Space<float[]>
        {
            public override bool Contains(float[] value) => true;

            public override float[] Sample(Pcg64 random) => [0f];

            public override void EnsureContains(float[] value, string what)
            {
            }
        }
    }
}
