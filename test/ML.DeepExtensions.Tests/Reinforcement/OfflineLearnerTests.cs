using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>
/// Offline RL from a CSV of logged CartPole transitions of a mediocre behaviour policy: the offline
/// policies beat it online, and fitted Q evaluation estimates a policy's return from the logs.
/// </summary>
[TestClass]
public sealed class OfflineLearnerTests
{
    private const float Epsilon = 0.5f;

    public sealed class Transition
    {
        [VectorType(4)]
        public float[] Observation { get; set; } = [];

        public int Action { get; set; }

        public float Reward { get; set; }

        [VectorType(4)]
        public float[] NextObservation { get; set; } = [];

        public bool Terminated { get; set; }

        public bool Truncated { get; set; }
    }

    /// <summary>The behaviour: a hand-written balance rule, replaced by a random action half of the time.</summary>
    private static int Behaviour(float[] observation, Pcg64 random) =>
        random.NextDouble() < Epsilon ? (int)random.NextInt64(2) : Rule(observation);

    private static int Rule(float[] observation) => observation[2] + (0.5f * observation[3]) > 0 ? 1 : 0;

    private static List<Transition> Log(int episodes, out double behaviourReturn)
    {
        var random = new Pcg64(11);
        var environment = ClassicControl.CartPole();
        var rows = new List<Transition>();
        double total = 0;
        for (int episode = 0; episode < episodes; episode++)
        {
            float[] observation = environment.Reset(episode).Observation;
            while (true)
            {
                int action = Behaviour(observation, random);
                var step = environment.Step(action);
                rows.Add(new Transition { Observation = observation, Action = action, Reward = (float)step.Reward, NextObservation = step.Observation, Terminated = step.Terminated, Truncated = step.Truncated });
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

    private static IDataView ThroughCsv(MLContext context, List<Transition> rows, string path)
    {
        static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);
        File.WriteAllLines(path, rows.Select(r => string.Join(',',
            r.Observation.Select(F).Append(r.Action.ToString(CultureInfo.InvariantCulture)).Append(F(r.Reward)).Concat(r.NextObservation.Select(F))
                .Append(r.Terminated ? "true" : "false").Append(r.Truncated ? "true" : "false"))));
        return context.Data.LoadFromTextFile(path,
        [
            new TextLoader.Column("Observation", DataKind.Single, 0, 3),
            new TextLoader.Column("Action", DataKind.Int32, 4),
            new TextLoader.Column("Reward", DataKind.Single, 5),
            new TextLoader.Column("NextObservation", DataKind.Single, 6, 9),
            new TextLoader.Column("Terminated", DataKind.Boolean, 10),
            new TextLoader.Column("Truncated", DataKind.Boolean, 11),
        ], separatorChar: ',');
    }

    [TestMethod]
    public void OfflinePoliciesFromACsvOfMediocreLogsBeatTheBehaviourOnlineAndFqeEstimatesAReturn()
    {
        var rows = Log(30, out double behaviourReturn);
        string path = Path.Combine(Path.GetTempPath(), $"mldx-offline-{Guid.NewGuid():N}.csv");
        try
        {
            var context = new MLContext(seed: 1);
            var logs = ThroughCsv(context, rows, path);
            var options = new OfflineOptions { MaxSteps = 1500, Seed = 1, BatchSize = 128, TargetUpdateInterval = 100, IntraOpThreads = 1 };

            var cloned = new OfflineLearner(options).CloneBehavior(logs);
            var conservative = new OfflineLearner(options).TrainConservativeQ(logs);
            double clonedReturn = cloned.Evaluate(ClassicControl.CartPole(), 10, seed: 900).Average();
            double cqlReturn = conservative.Evaluate(ClassicControl.CartPole(), 10, seed: 900).Average();

            // Fitted Q evaluation needs many target updates (Q grows by one discount step per update), so a
            // shorter horizon (γ = 0.95: 1 / (1 - γ) = 20 steps) keeps the test quick.
            var estimate = new OfflineLearner(new OfflineOptions { MaxSteps = 3000, Seed = 1, Gamma = 0.95, BatchSize = 128, TargetUpdateInterval = 20, IntraOpThreads = 1 })
                .EvaluatePolicy(logs, conservative);
            double online = DiscountedReturn(conservative, 0.95, 10, 900);
            string report = string.Create(CultureInfo.InvariantCulture,
                $"behaviour {behaviourReturn:F1} over {rows.Count} rows; BC {clonedReturn:F1}; CQL {cqlReturn:F1}; FQE of CQL {estimate.Value:F2} from {estimate.InitialStates} starts vs online discounted {online:F2}");
            Console.WriteLine(report);
            Assert.IsGreaterThan(behaviourReturn * 1.5, clonedReturn, report);
            Assert.IsGreaterThan(behaviourReturn * 1.5, cqlReturn, report);
            Assert.AreEqual(30, estimate.InitialStates);
            Assert.AreEqual(online, estimate.Value, online * 0.25, report);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void LogsWithMissingColumnsWrongWidthsOrBadValuesFailNamingThem()
    {
        var context = new MLContext(seed: 1);
        var rows = Log(2, out _);
        var learner = new OfflineLearner(new OfflineOptions { MaxSteps = 10 });

        var missing = Assert.ThrowsExactly<ArgumentException>(() => learner.CloneBehavior(context.Transforms.DropColumns("Reward").Fit(context.Data.LoadFromEnumerable(rows)).Transform(context.Data.LoadFromEnumerable(rows))));
        Assert.Contains("'Reward'", missing.Message);

        var narrow = rows.Select(r => new NarrowTransition { Observation = r.Observation, Action = r.Action, Reward = r.Reward, NextObservation = r.NextObservation[..3], Terminated = r.Terminated, Truncated = r.Truncated });
        var width = Assert.ThrowsExactly<ArgumentException>(() => learner.CloneBehavior(context.Data.LoadFromEnumerable(narrow)));
        Assert.Contains("'NextObservation' has 3 values", width.Message);

        rows[5].Reward = float.NaN;
        var nan = Assert.ThrowsExactly<ArgumentException>(() => learner.TrainConservativeQ(context.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Row 5", nan.Message);
        rows[5].Reward = 1;
        rows[7].Action = 3;
        var action = Assert.ThrowsExactly<ArgumentException>(() => new OfflineLearner(new OfflineOptions { MaxSteps = 10, ActionCount = 2 }).CloneBehavior(context.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Row 7", action.Message);
    }

    [TestMethod]
    public void ConservativeQLearningResumedFromAStepCheckpointEqualsAnUninterruptedRun()
    {
        var context = new MLContext(seed: 1);
        var logs = context.Data.LoadFromEnumerable(Log(3, out _));
        string directory = Directory.CreateTempSubdirectory("mldx-cql-").FullName;
        try
        {
            OfflineOptions Options(string? resume = null, bool stop = false) => new()
            {
                MaxSteps = 300, Seed = 2, BatchSize = 32, HiddenLayers = [16], TargetUpdateInterval = 50, IntraOpThreads = 1, ResumeFromCheckpoint = resume,
                Callbacks = stop ? [new StopAt(120)] : [], Checkpoints = stop ? new ML.DeepExtensions.Training.CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 120 } : null,
            };

            var uninterrupted = new OfflineLearner(Options()).TrainConservativeQ(logs);
            new OfflineLearner(Options(stop: true)).TrainConservativeQ(logs);
            var resumed = new OfflineLearner(Options(resume: Directory.GetFiles(directory).Single())).TrainConservativeQ(logs);

            CollectionAssert.AreEqual(
                uninterrupted.Network.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray(),
                resumed.Network.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray());
            CollectionAssert.AreEqual(uninterrupted.History["loss"].ToArray(), resumed.History["loss"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class StopAt(long step) : ML.DeepExtensions.Training.ITrainingCallback
    {
        public void OnBatchEnd(ML.DeepExtensions.Training.TrainingRun run, long globalStep, ML.DeepExtensions.Training.TrainingLogs logs)
        {
            if (globalStep + 1 >= step)
            {
                run.StopTraining = true;
            }
        }
    }

    public sealed class NarrowTransition
    {
        [VectorType(4)]
        public float[] Observation { get; set; } = [];

        public int Action { get; set; }

        public float Reward { get; set; }

        [VectorType(3)]
        public float[] NextObservation { get; set; } = [];

        public bool Terminated { get; set; }

        public bool Truncated { get; set; }
    }

    private static double DiscountedReturn(DiscretePolicy policy, double gamma, int episodes, int seed)
    {
        var environment = ClassicControl.CartPole();
        double total = 0;
        for (int i = 0; i < episodes; i++)
        {
            float[] observation = environment.Reset(seed + i).Observation;
            double discount = 1;
            while (true)
            {
                var step = environment.Step(policy.Act(observation));
                total += discount * step.Reward;
                discount *= gamma;
                observation = step.Observation;
                if (step.Done)
                {
                    break;
                }
            }
        }

        return total / episodes;
    }
}
