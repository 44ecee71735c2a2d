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
    public void ARunResumedFromAStepCheckpointEqualsAnUninterruptedOne()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-sac-").FullName;
        try
        {
            SacOptions Options(string? resume = null, bool stop = false) => new()
            {
                MaxSteps = 400, Seed = 6, HiddenLayers = [16], BatchSize = 16, LearningStarts = 50, EvaluationFrequency = 200, EvaluationEpisodes = 1,
                KeepBestPolicy = false, IntraOpThreads = 1, ResumeFromCheckpoint = resume, Callbacks = stop ? [new StopAt(250)] : [],
                Checkpoints = stop ? new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 250 } : null,
            };

            var uninterrupted = new SacAgent(Options()).Train(ClassicControl.Pendulum);
            new SacAgent(Options(stop: true)).Train(ClassicControl.Pendulum);
            var resumed = new SacAgent(Options(resume: Directory.GetFiles(directory).Single())).Train(ClassicControl.Pendulum);

            CollectionAssert.AreEqual(Parameters(uninterrupted.Network), Parameters(resumed.Network));
            CollectionAssert.AreEqual(uninterrupted.History["loss"].ToArray(), resumed.History["loss"].ToArray());
            CollectionAssert.AreEqual(uninterrupted.History["entropy_coefficient"].ToArray(), resumed.History["entropy_coefficient"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
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
