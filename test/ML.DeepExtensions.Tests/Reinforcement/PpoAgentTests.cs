using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>PPO learns CartPole on a small budget, resumes exactly, and trains and exports continuous Gaussian policies.</summary>
[TestClass]
public sealed class PpoAgentTests
{
    [TestMethod]
    public void PpoOnCartPoleBeatsARandomPolicyClearlyOnASmallBudget()
    {
        var policy = new PpoAgent(new PpoOptions(PpoPreset.CartPole) { MaxSteps = 16_000, Seed = 1, EvaluationFrequency = 4000, EvaluationEpisodes = 5, IntraOpThreads = 1 })
            .Train(ClassicControl.CartPole);

        double trained = policy.Evaluate(ClassicControl.CartPole(), 10, seed: 500).Average();
        double random = AgentLoopProbe.PlayRandom(ClassicControl.CartPole(), new Pcg64(7), 10, seed: 500);
        Assert.IsGreaterThan(random * 4, trained, $"trained {trained} vs random {random}; history {string.Join(" | ", policy.History.Epochs.Select(e => e.ToString()))}");
        CollectionAssert.AreEqual(new[] { 4000.0, 8000, 12000, 16000 }, policy.History["step"].ToArray(), "evaluations every 4000 environment steps (500 steps of 8 copies)");
    }

    [TestMethod]
    public void ARunResumedMidRolloutEqualsAnUninterruptedOneBitForBit()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-ppo-").FullName;
        try
        {
            PpoOptions Options(string? resume = null, bool stop = false) => new()
            {
                MaxSteps = 960, Seed = 4, EnvironmentCount = 3, RolloutSteps = 40, BatchSize = 32, OptimizationEpochs = 2, HiddenLayers = [16],
                NormalizeObservations = true, LinearDecay = true, EntropyCoefficient = 0.01, EvaluationFrequency = 480, EvaluationEpisodes = 2,
                KeepBestPolicy = false, IntraOpThreads = 1, ResumeFromCheckpoint = resume, Callbacks = stop ? [new StopAtStep(150)] : [],
                Checkpoints = stop ? new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 150 } : null,
            };

            var uninterrupted = new PpoAgent(Options()).Train(ClassicControl.CartPole);
            var stopped = new PpoAgent(Options(stop: true)).Train(ClassicControl.CartPole);
            string checkpoint = Directory.GetFiles(directory).Single();
            var resumed = new PpoAgent(Options(resume: checkpoint)).Train(ClassicControl.CartPole);

            CollectionAssert.AreEqual(Parameters(uninterrupted.Network), Parameters(resumed.Network), "bit-identical weights and normalisation statistics");
            CollectionAssert.AreNotEqual(Parameters(uninterrupted.Network), Parameters(stopped.Network));
            CollectionAssert.AreEqual(uninterrupted.History["eval_return"].ToArray(), resumed.History["eval_return"].ToArray());
            CollectionAssert.AreEqual(uninterrupted.History["loss"].ToArray(), resumed.History["loss"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AContinuousGaussianPolicyTrainsOnPendulumAndItsMLNetModelGivesTheSameClippedActions()
    {
        var options = new PpoOptions(PpoPreset.Pendulum)
        {
            MaxSteps = 8192, Seed = 1, RolloutSteps = 512, NormalizeObservations = true, EvaluationFrequency = 4096, EvaluationEpisodes = 3, IntraOpThreads = 1,
        };
        var policy = new PpoAgent(options).Train(ClassicControl.Pendulum);

        Assert.AreEqual(2, policy.History.Epochs.Count);
        Assert.IsTrue(policy.History["eval_return"].All(double.IsFinite));
        var context = new MLContext(seed: 1);
        var model = policy.CreateModel();
        using var disposeModel = model as IDisposable;
        using var stream = new MemoryStream();
        context.Model.Save(model, policy.InputSchema(), stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        var rows = Enumerable.Range(0, 30).Select(i => new PendulumRow { Observation = [(float)Math.Cos(i), (float)Math.Sin(i), (i - 15) * 0.5f] }).ToArray();
        var actions = loaded.Transform(context.Data.LoadFromEnumerable(rows)).GetColumn<float[]>(ContinuousPolicy.ActionColumnName).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            float expected = policy.Act(rows[i].Observation)[0];
            Assert.AreEqual(expected, actions[i][0], 1e-5f);
            Assert.IsTrue(actions[i][0] is >= -2 and <= 2, "clipped to the action space");
        }

        (loaded as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void WrongActionSpacesAndOptionsFailClearly()
    {
        var quick = new PpoOptions { MaxSteps = 64, RolloutSteps = 32 };
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PpoAgent(new PpoOptions { BatchSize = 1 }));
        var nan = Assert.ThrowsExactly<EnvironmentException>(() => new PpoAgent(quick).Train(() => new FaultyEnvironment { NaNRewardAt = 10, EndsAfter = 40 }));
        Assert.Contains("reward", nan.Message, StringComparison.OrdinalIgnoreCase);
        var never = Assert.ThrowsExactly<EnvironmentException>(() => new PpoAgent(new PpoOptions { MaxSteps = 3000, RolloutSteps = 64, MaxEpisodeSteps = 1000 }).Train(() => new FaultyEnvironment()));
        Assert.Contains("Faulty-v0", never.Message);
    }

    public sealed class PendulumRow
    {
        [VectorType(3)]
        public float[] Observation { get; set; } = [];
    }

    private static float[] Parameters(TorchSharp.torch.nn.Module module) =>
        [.. module.parameters().Cast<TorchSharp.torch.Tensor>().Concat(module.buffers()).SelectMany(p => p.detach().cpu().data<float>().ToArray())];

    private sealed class StopAtStep(long step) : ITrainingCallback
    {
        public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs)
        {
            if (globalStep + 1 >= step)
            {
                run.StopTraining = true;
            }
        }
    }
}
