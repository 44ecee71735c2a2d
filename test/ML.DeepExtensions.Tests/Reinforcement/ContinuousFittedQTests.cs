using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>Fitted Q evaluation of policies over continuous actions, on logs whose true values are known in closed form.</summary>
[TestClass]
public sealed class ContinuousFittedQTests
{
    private const double Gamma = 0.9;
    private static readonly BoxSpace Unit = new(-1f, 1f, 1);

    public sealed class Transition
    {
        [VectorType(2)]
        public float[] Observation { get; set; } = [];

        [VectorType(1)]
        public float[] Action { get; set; } = [];

        public float Reward { get; set; }

        [VectorType(2)]
        public float[] NextObservation { get; set; } = [];

        public bool Terminated { get; set; }

        public bool Truncated { get; set; }
    }

    /// <summary>
    /// Two-step episodes: observation (step, s) with s uniform in [−1, 1], a uniformly random logged
    /// action, reward −(a − 0.5)²; the second step terminates. A constant policy c is worth
    /// −(1 + γ)(c − 0.5)² from every start, whatever the logged actions were.
    /// </summary>
    private static List<Transition> Logs(int episodes, ulong seed)
    {
        var random = new Pcg64(seed);
        var rows = new List<Transition>();
        for (int e = 0; e < episodes; e++)
        {
            float s0 = (float)random.Uniform(-1, 1), s1 = (float)random.Uniform(-1, 1);
            float a0 = (float)random.Uniform(-1, 1), a1 = (float)random.Uniform(-1, 1);
            rows.Add(new Transition { Observation = [0, s0], Action = [a0], Reward = -(a0 - 0.5f) * (a0 - 0.5f), NextObservation = [1, s1] });
            rows.Add(new Transition { Observation = [1, s1], Action = [a1], Reward = -(a1 - 0.5f) * (a1 - 0.5f), NextObservation = [2, s1], Terminated = true });
        }

        return rows;
    }

    private static ContinuousPolicy Constant(float action)
    {
        var network = nn.Linear(2, 1);
        using (no_grad())
        {
            network.weight!.zero_();
            network.bias!.fill_(action);
        }

        return new ContinuousPolicy(network, 2, Unit, new TrainingHistory(), double.NaN, -1, null);
    }

    [TestMethod]
    public void FittedQEvaluationRecoversTheKnownValuesOfConstantPoliciesFromRandomLogs()
    {
        // The behaviour (uniform actions) is worth -(1 + γ)(1/3 + 1/4) = -1.108; an estimate that bootstrapped
        // with the logged actions instead of π's would give about -1.52 for c = -0.5 instead of -1.9.
        var context = new MLContext(seed: 1);
        var logs = context.Data.LoadFromEnumerable(Logs(400, 5));
        var learner = new OfflineLearner(new OfflineOptions { MaxSteps = 1500, BatchSize = 128, HiddenLayers = [32, 32], Gamma = Gamma, TargetUpdateInterval = 100, Seed = 1, IntraOpThreads = 1 });
        foreach (float c in new[] { 0.5f, -0.5f, 1f })
        {
            var estimate = learner.EvaluatePolicy(logs, Constant(c));
            double truth = -(1 + Gamma) * (c - 0.5) * (c - 0.5);
            Assert.AreEqual(400, estimate.InitialStates);
            Assert.AreEqual(truth, estimate.Value, 0.12, string.Create(CultureInfo.InvariantCulture, $"policy {c}: estimate {estimate.Value:F3}, truth {truth:F3}"));
        }
    }

    [TestMethod]
    public void APolicyOfAnotherObservationWidthOrLogsWithoutContinuousActionsAreRefused()
    {
        var context = new MLContext(seed: 1);
        var learner = new OfflineLearner(new OfflineOptions { MaxSteps = 10 });
        var logs = context.Data.LoadFromEnumerable(Logs(3, 1));
        var wide = new ContinuousPolicy(nn.Linear(3, 1), 3, Unit, new TrainingHistory(), double.NaN, -1, null);
        var width = Assert.ThrowsExactly<ArgumentException>(() => learner.EvaluatePolicy(logs, wide));
        Assert.Contains("takes 3 observation values", width.Message);

        var twoActions = new ContinuousPolicy(nn.Linear(2, 2), 2, new BoxSpace(-1f, 1f, 2), new TrainingHistory(), double.NaN, -1, null);
        var actions = Assert.ThrowsExactly<ArgumentException>(() => learner.EvaluatePolicy(logs, twoActions));
        Assert.Contains("'Action' has 1 values per row", actions.Message);
    }
}
