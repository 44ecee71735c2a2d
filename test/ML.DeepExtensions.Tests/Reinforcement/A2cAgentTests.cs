using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>A2C learns CartPole on a small budget and resumes exactly.</summary>
[TestClass]
public sealed class A2cAgentTests
{
    [TestMethod]
    public void A2cOnCartPoleBeatsARandomPolicyClearlyOnASmallBudget()
    {
        var policy = new A2cAgent(new A2cOptions(A2cPreset.CartPole) { MaxSteps = 20_000, Seed = 1, EvaluationFrequency = 5000, EvaluationEpisodes = 5, IntraOpThreads = 1 })
            .Train(ClassicControl.CartPole);

        double trained = policy.Evaluate(ClassicControl.CartPole(), 10, seed: 500).Average();
        double random = AgentLoopProbe.PlayRandom(ClassicControl.CartPole(), new Pcg64(7), 10, seed: 500);
        Assert.IsGreaterThan(random * 3, trained, $"trained {trained} vs random {random}; history {string.Join(" | ", policy.History.Epochs.Select(e => e.ToString()))}");
    }

    [TestMethod]
    public void ARunResumedFromAStepCheckpointEqualsAnUninterruptedOne()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-a2c-").FullName;
        try
        {
            A2cOptions Options(string? resume = null, bool stop = false) => new()
            {
                MaxSteps = 600, Seed = 8, EnvironmentCount = 2, HiddenLayers = [16], EvaluationFrequency = 300, EvaluationEpisodes = 2, KeepBestPolicy = false,
                IntraOpThreads = 1, ResumeFromCheckpoint = resume, Callbacks = stop ? [new StopAt(133)] : [],
                Checkpoints = stop ? new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 133 } : null,
            };

            var uninterrupted = new A2cAgent(Options()).Train(ClassicControl.Pendulum);
            new A2cAgent(Options(stop: true)).Train(ClassicControl.Pendulum);
            var resumed = new A2cAgent(Options(resume: Directory.GetFiles(directory).Single())).Train(ClassicControl.Pendulum);

            CollectionAssert.AreEqual(Parameters(uninterrupted.Network), Parameters(resumed.Network));
            CollectionAssert.AreEqual(uninterrupted.History["eval_return"].ToArray(), resumed.History["eval_return"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
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
}
