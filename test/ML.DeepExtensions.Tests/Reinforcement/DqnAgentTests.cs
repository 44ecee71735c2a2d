using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>DQN learns CartPole on a small budget, resumes exactly, and its policy becomes an ML.NET model.</summary>
[TestClass]
public sealed class DqnAgentTests
{
    /// <summary>A small, quick configuration that still learns CartPole.</summary>
    internal static DqnOptions QuickCartPole(long maxSteps = 6000, int seed = 1) => new()
    {
        MaxSteps = maxSteps,
        Seed = seed,
        HiddenLayers = [64, 64],
        Optimizer = new OptimizerOptions { LearningRate = 1e-3 },
        BatchSize = 64,
        BufferSize = 20_000,
        LearningStarts = 500,
        TrainFrequency = 4,
        GradientSteps = 1,
        TargetUpdateInterval = 250,
        ExplorationFraction = 0.3,
        ExplorationFinalEpsilon = 0.05,
        EvaluationFrequency = 1500,
        EvaluationEpisodes = 5,
        IntraOpThreads = 1,
    };

    private static readonly Lazy<DiscretePolicy> Trained = new(() => new DqnAgent(QuickCartPole()).Train(ClassicControl.CartPole));

    [TestMethod]
    public void DqnOnCartPoleBeatsARandomPolicyClearlyOnASmallBudget()
    {
        var policy = Trained.Value;

        double trained = policy.Evaluate(ClassicControl.CartPole(), 10, seed: 500).Average();
        var random = new Pcg64(7);
        double randomReturn = AgentLoopProbe.PlayRandom(ClassicControl.CartPole(), random, 10, seed: 500);
        Assert.IsGreaterThan(randomReturn * 4, trained, $"trained {trained} vs random {randomReturn}");
        Assert.AreEqual(4, policy.History.Epochs.Count, "one evaluation every 1500 of 6000 steps");
    }

    [TestMethod]
    public void ARunResumedFromAStepCheckpointEqualsAnUninterruptedOneBitForBit()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-dqn-").FullName;
        try
        {
            DqnOptions Options(string? resume = null, ITrainingCallback? stop = null) => new()
            {
                MaxSteps = 1200, Seed = 5, HiddenLayers = [16], LearningStarts = 200, TrainFrequency = 4, GradientSteps = 2, BatchSize = 16,
                TargetUpdateInterval = 100, EvaluationFrequency = 400, EvaluationEpisodes = 2, DoubleQ = true, Dueling = true,
                KeepBestPolicy = false, IntraOpThreads = 1, ResumeFromCheckpoint = resume, Callbacks = stop is null ? [] : [stop],
                Checkpoints = resume is null && stop is not null ? new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 700 } : null,
            };

            var uninterrupted = new DqnAgent(Options()).Train(ClassicControl.CartPole);
            var stopped = new DqnAgent(Options(stop: new StopAtStep(700))).Train(ClassicControl.CartPole);
            string checkpoint = Path.Combine(directory, Directory.GetFiles(directory).Select(Path.GetFileName).Single()!);
            var resumed = new DqnAgent(Options(resume: checkpoint)).Train(ClassicControl.CartPole);

            Assert.AreEqual(1, stopped.History.Epochs.Count, "the first run stopped after its first evaluation");
            CollectionAssert.AreEqual(Parameters(uninterrupted), Parameters(resumed), "bit-identical weights");
            CollectionAssert.AreNotEqual(Parameters(uninterrupted), Parameters(stopped), "the stopped run is not already the end");
            CollectionAssert.AreEqual(uninterrupted.History["eval_return"].ToArray(), resumed.History["eval_return"].ToArray());
            CollectionAssert.AreEqual(uninterrupted.History["loss"].ToArray(), resumed.History["loss"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void ATimeLimitIsBootstrappedThroughNotTreatedAsTheEndOfTheWorld()
    {
        // Reward 0.1 per step forever, cut every 5 steps: bootstrapping gives Q = 0.1 / (1 - 0.9) = 1;
        // treating the cut as terminal would give 0.1 / (1 - 0.9 * 4/5) ≈ 0.36 (errors stay in the
        // Huber loss's quadratic range, so Q tends to the mean target).
        var options = new DqnOptions
        {
            MaxSteps = 3000, Seed = 2, HiddenLayers = [16], Gamma = 0.9, LearningStarts = 100, TrainFrequency = 1, TargetUpdateInterval = 50,
            Optimizer = new OptimizerOptions { LearningRate = 5e-3 }, EvaluationFrequency = 3000, EvaluationEpisodes = 1, IntraOpThreads = 1,
        };

        var policy = new DqnAgent(options).Train(() => new TimeLimit<int>(new EndlessEnvironment(), 5));

        float[] values = policy.ActionValues([0.5f]);
        Assert.IsGreaterThan(0.8, (double)values.Max(), $"Q = {string.Join(", ", values)}");
    }

    [TestMethod]
    public void ThePolicyIsAnMLNetModelThatPlaysLikeTheAgentAfterSavingAndLoading()
    {
        var policy = Trained.Value;
        var context = new MLContext(seed: 1);
        var model = policy.CreateModel();
        using var disposeModel = model as IDisposable;

        using var stream = new MemoryStream();
        context.Model.Save(model, policy.InputSchema(), stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out var schema);
        Assert.AreEqual(4, ((VectorDataViewType)schema[DiscretePolicy.ObservationColumnName].Type).Size);

        double[] expected = [.. policy.Evaluate(ClassicControl.CartPole(), 3, seed: 40)];
        var engine = context.Model.CreatePredictionEngine<ObservationRow, ActionRow>(loaded, new PredictionEngineOptions { OwnsTransformer = false });
        var environment = ClassicControl.CartPole();
        for (int episode = 0; episode < 3; episode++)
        {
            float[] observation = environment.Reset(40 + episode).Observation;
            double total = 0;
            while (true)
            {
                var prediction = engine.Predict(new ObservationRow { Observation = observation });
                int action = (int)prediction.PredictedLabel - 1;
                Assert.AreEqual(policy.Act(observation), action);
                float[] values = policy.ActionValues(observation);
                for (int a = 0; a < values.Length; a++)
                {
                    Assert.AreEqual(values[a], prediction.ActionValues[a], 1e-4f);
                }

                var step = environment.Step(action);
                total += step.Reward;
                if (step.Done)
                {
                    break;
                }

                observation = step.Observation;
            }

            Assert.AreEqual(expected[episode], total, $"episode {episode}");
        }

        (loaded as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void ASavedPolicyPlaysCartPoleInAProcessWithoutThisLibraryWithTheTrainedReturns()
    {
        var policy = Trained.Value;
        const int Episodes = 4, Seed = 70;
        double[] expected = [.. policy.Evaluate(ClassicControl.CartPole(), Episodes, Seed)];
        string directory = Directory.CreateTempSubdirectory("mldx-cartpole-").FullName;
        try
        {
            string modelPath = Path.Combine(directory, "policy.zip"), startsPath = Path.Combine(directory, "starts.csv");
            var context = new MLContext(seed: 1);
            var model = policy.CreateModel();
            using var disposeModel = model as IDisposable;
            context.Model.Save(model, policy.InputSchema(), modelPath);
            File.WriteAllLines(startsPath, Enumerable.Range(Seed, Episodes).Select(seed =>
            {
                var environment = new CartPoleEnvironment();
                environment.Reset(seed);
                return string.Join(',', environment.State.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            }));

            string loadCheck = typeof(DqnAgentTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelLoadCheckPath").Value!;
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in new[] { loadCheck, "--play-cartpole", modelPath, startsPath })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.IsTrue(process.WaitForExit(120_000), "the load-check program did not finish in time");
            Assert.AreEqual(0, process.ExitCode, stderr.Result);
            double[] played = [.. stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l, CultureInfo.InvariantCulture))];

            CollectionAssert.AreEqual(expected, played, $"trained {string.Join(", ", expected)}; played elsewhere {string.Join(", ", played)}");
            Assert.IsGreaterThan(60.0, expected.Average(), "the episodes are long enough to tell policies apart");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void ADuelingPolicyExportsToOnnxWithTheSameActionValues()
    {
        var policy = new DqnAgent(new DqnOptions
        {
            MaxSteps = 400, Seed = 3, Dueling = true, DoubleQ = true, HiddenLayers = [8], LearningStarts = 100, EvaluationFrequency = 400, EvaluationEpisodes = 1, IntraOpThreads = 1,
        }).Train(ClassicControl.CartPole);
        var context = new MLContext(seed: 1);
        var model = policy.CreateModel();
        using var disposeModel = model as IDisposable;
        var rows = Enumerable.Range(0, 20).Select(i => new ObservationRow { Observation = [i * 0.1f - 1, (float)Math.Sin(i), i * 0.01f, -0.5f] }).ToArray();

        var scored = model.Transform(context.Data.LoadFromEnumerable(rows));
        var values = scored.GetColumn<float[]>(DiscretePolicy.ActionValuesColumnName).ToArray();
        var labels = scored.GetColumn<uint>("PredictedLabel").ToArray();

        for (int i = 0; i < rows.Length; i++)
        {
            float[] expected = policy.ActionValues(rows[i].Observation);
            Assert.AreEqual(expected[0], values[i][0], 1e-5f);
            Assert.AreEqual(expected[1], values[i][1], 1e-5f);
            Assert.AreEqual((uint)policy.Act(rows[i].Observation) + 1, labels[i]);
        }

        Assert.AreNotEqual(values[0][0], values[0][1], "the dueling head's advantages are not all equal");
    }

    [TestMethod]
    public void BadEnvironmentsAndOptionsFailWithClearErrors()
    {
        var continuous = Assert.ThrowsExactly<ArgumentException>(() => new DqnAgent(QuickCartPole(maxSteps: 10)).Train(() => new DiscretisedPendulum()));
        Assert.Contains("DiscreteSpace", continuous.Message);
        var nan = Assert.ThrowsExactly<EnvironmentException>(() => new DqnAgent(QuickCartPole(maxSteps: 100)).Train(() => new FaultyEnvironment { NaNObservationAt = 30, EndsAfter = 50 }));
        Assert.Contains("Faulty-v0", nan.Message);
        Assert.ThrowsExactly<EnvironmentException>(() => new DqnAgent(QuickCartPole(maxSteps: 100)).Train(() => new FaultyEnvironment { ShortObservationAt = 3, EndsAfter = 50 }));
        var option = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DqnAgent(new DqnOptions { GradientSteps = 0 }));
        Assert.Contains("GradientSteps", option.Message);
        Assert.ThrowsExactly<ArgumentException>(() => new DqnAgent(QuickCartPole(maxSteps: 600)).Train(ClassicControl.CartPole).Act([1f, 2f]));

        using var model = Trained.Value.CreateModel();
        var context = new MLContext(seed: 1);
        var wrong = Assert.ThrowsExactly<ArgumentException>(() => model.Transform(context.Data.LoadFromEnumerable(new[] { new ShortRow { Observation = [1f, 2f, 3f] } })));
        Assert.Contains("'Observation'", wrong.Message);
        Assert.Contains("4 Single values", wrong.Message);
    }

    public sealed class ShortRow
    {
        [VectorType(3)]
        public float[] Observation { get; set; } = [];
    }

    public sealed class ObservationRow
    {
        [VectorType(4)]
        public float[] Observation { get; set; } = [];
    }

    public sealed class ActionRow
    {
        public uint PredictedLabel { get; set; }

        public float[] ActionValues { get; set; } = [];
    }

    private static float[] Parameters(DiscretePolicy policy) =>
        [.. policy.Network.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray())];

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

    /// <summary>One observation, reward 0.1 every step, never terminates.</summary>
    private sealed class EndlessEnvironment : IEnvironment<int>
    {
        public BoxSpace ObservationSpace { get; } = new(0f, 1f, 1);

        public Space<int> ActionSpace { get; } = new DiscreteSpace(2);

        public ResetResult Reset(int? seed = null) => new([0.5f]);

        public StepResult Step(int action) => new([0.5f], 0.1, false, false);
    }

    /// <summary>Pendulum's continuous actions, under a discrete-looking name.</summary>
    private sealed class DiscretisedPendulum : IEnvironment<int>
    {
        private readonly PendulumEnvironment _inner = new();

        public BoxSpace ObservationSpace => _inner.ObservationSpace;

        public Space<int> ActionSpace { get; } = new NotDiscrete();

        public ResetResult Reset(int? seed = null) => _inner.Reset(seed);

        public StepResult Step(int action) => _inner.Step([action]);

        private sealed class NotDiscrete : Space<int>
        {
            public override bool Contains(int value) => true;

            public override int Sample(Pcg64 random) => 0;

            public override void EnsureContains(int value, string what)
            {
            }
        }
    }
}

internal static class AgentLoopProbe
{
    public static double PlayRandom(IEnvironment<int> environment, Pcg64 random, int episodes, int seed)
    {
        double total = 0;
        for (int i = 0; i < episodes; i++)
        {
            environment.Reset(seed + i);
            while (true)
            {
                var step = environment.Step((int)random.NextInt64(2));
                total += step.Reward;
                if (step.Done)
                {
                    break;
                }
            }
        }

        return total / episodes;
    }
}
