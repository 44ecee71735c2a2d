using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>Environments registered with the shared training run travel in its checkpoints: a resumed loop equals an uninterrupted one.</summary>
[TestClass]
public sealed class TrainingRunResumeTests
{
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-rl-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    public void AnInteractionLoopResumedFromARunCheckpointEqualsAnUninterruptedOne()
    {
        float[] uninterrupted = Loop(new TrainingOptions { MaxSteps = 300, Seed = 1 });

        var first = new TrainingOptions { MaxSteps = 170, Seed = 1, Checkpoints = new CheckpointOptions { Directory = _directory, EverySteps = 170 } };
        string checkpoint = LoopAndCheckpoint(first);
        float[] resumed = Loop(new TrainingOptions { MaxSteps = 300, Seed = 1, ResumeFromCheckpoint = checkpoint });

        CollectionAssert.AreEqual(uninterrupted, resumed);
    }

    private static (TrainingRun Run, VectorEnvironment<float[]> Environments, Pcg64 Policy) Create(TrainingOptions options)
    {
        var run = new TrainingRun(options);
        var environments = new VectorEnvironment<float[]>(_ => new NormalizeObservation<float[]>(ClassicControl.Pendulum()), 2);
        var policy = new Pcg64(3);
        run.AddState(environments);
        run.AddState(policy);
        environments.Reset(seed: 21);
        return (run, environments, policy);
    }

    private static float[] Loop(TrainingOptions options)
    {
        var (run, environments, policy) = Create(options);
        run.Start();
        float[] observations = [];
        while (!run.ShouldStop)
        {
            run.BeginStep();
            observations = environments.Step([[(float)policy.Uniform(-2, 2)], [(float)policy.Uniform(-2, 2)]]).Observations;
            run.EndStep();
        }
        run.Finish();
        return observations;
    }

    private static string LoopAndCheckpoint(TrainingOptions options)
    {
        var (run, environments, policy) = Create(options);
        run.Start();
        while (!run.ShouldStop)
        {
            run.BeginStep();
            environments.Step([[(float)policy.Uniform(-2, 2)], [(float)policy.Uniform(-2, 2)]]);
            run.EndStep();
        }
        run.Finish();
        return run.LastCheckpoint ?? throw new AssertFailedException("no checkpoint was written");
    }
}
