using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Reinforcement;

/// <summary>
/// Trains an agent with its rl-baselines3-zoo preset on a classic-control environment for a step
/// budget, once per seed, and reports the final evaluation return (the last weights, on the
/// evaluation seeds), the return of the kept best policy on fresh seeds, the environment steps
/// to the first evaluation at the threshold, and environment steps per second of training
/// (evaluations included).
/// </summary>
internal static class ReinforcementBenchmark
{
    public static Command Create()
    {
        var agent = new Option<string>("--agent") { Description = "dqn, ppo, a2c or sac.", DefaultValueFactory = _ => "dqn" };
        var environment = new Option<string>("--env") { Description = "CartPole, Acrobot, MountainCar (dqn, ppo, a2c); Pendulum (ppo, sac); MountainCarContinuous (sac).", DefaultValueFactory = _ => "CartPole" };
        var steps = new Option<long?>("--steps") { Description = "Environment steps per run (default: the zoo's budget of the preset)." };
        var seeds = new Option<int>("--seeds") { Description = "Runs, with seeds S..S+N-1 (S from --seed-start).", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var seedStart = new Option<int>("--seed-start") { Description = "First seed (S), so that a table can be split over several runs: --seed-start 4 --seeds 2 runs seeds 4 and 5.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var evaluationFrequency = new Option<int>("--eval-frequency") { Description = "Evaluate every N environment steps.", DefaultValueFactory = _ => 2500 }.AtLeast(1);
        var evaluationEpisodes = new Option<int>("--eval-episodes") { Description = "Episodes per evaluation.", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var threshold = new Option<double?>("--threshold") { Description = "Return that counts as solved (default: Gymnasium's reward threshold: CartPole 475, Acrobot -100, MountainCar -110, MountainCarContinuous 90; Pendulum -200)." };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (small MLPs run fastest on one).", DefaultValueFactory = _ => 1 }.AtLeast(1);
        return BenchmarkCommand.Create("rl",
            "Reinforcement learning: an agent with its zoo preset on a classic-control environment over N seeds (final and best-kept evaluation return, steps to threshold, environment steps/s).",
            [agent, environment, steps, seeds, seedStart, evaluationFrequency, evaluationEpisodes, threshold, threads],
            parse => Run(parse.GetValue(agent)!, parse.GetValue(environment)!, parse.GetValue(steps), parse.GetValue(seeds), parse.GetValue(seedStart),
                parse.GetValue(evaluationFrequency), parse.GetValue(evaluationEpisodes), parse.GetValue(threshold), parse.GetValue(threads)));
    }

    public static BenchmarkReport Run(string agent, string environment, long? steps, int seeds, int seedStart, int evaluationFrequency, int evaluationEpisodes, double? threshold, int threads)
    {
        double solved = threshold ?? environment switch
        {
            "CartPole" => 475,
            "Acrobot" => -100,
            "MountainCar" => -110,
            "Pendulum" => -200,
            "MountainCarContinuous" => 90,
            _ => throw new ArgumentException($"Unknown environment '{environment}': use CartPole, Acrobot, MountainCar, Pendulum or MountainCarContinuous."),
        };

        var final = new List<double>();
        var best = new List<double>();
        var toThreshold = new List<double>();
        var rates = new List<double>();
        long budget = 0;
        (double RowByRow, double Batched) inference = (double.NaN, double.NaN);
        for (int seed = seedStart; seed < seedStart + seeds; seed++)
        {
            var clock = Stopwatch.StartNew();
            var (history, evaluateKept, spent, model) = Train(agent, environment, steps, seed, evaluationFrequency, evaluationEpisodes, threads);
            clock.Stop();
            budget = spent;
            var returns = history["eval_return"];
            var at = history["step"];
            final.Add(returns[^1]);
            best.Add(evaluateKept());
            int first = returns.ToList().FindIndex(r => r >= solved);
            toThreshold.Add(first < 0 ? double.NaN : at[first]);
            rates.Add(spent / clock.Elapsed.TotalSeconds);
            if (seed == seedStart)
            {
                inference = PolicyInference(model);
            }

            BenchmarkCommand.Progress($"seed {seed}: final {returns[^1]:F1}, best kept {best[^1]:F1}, threshold at {(first < 0 ? "never" : at[first].ToString("F0", System.Globalization.CultureInfo.InvariantCulture))}, {rates[^1]:F0} steps/s");
        }

        var table = new ReportTable(("Agent", false), ("Environment", false), ("Steps", true), ("Seeds", true), ("Final return (median)", true), ("Range", true),
            ("Best kept, fresh seeds (median)", true), ("Steps to threshold (median)", true), ("Reached", true), ("Env steps/s (median)", true));
        var reached = toThreshold.Where(double.IsFinite).ToList();
        table.AddRow(agent, environment, budget.ToString(System.Globalization.CultureInfo.InvariantCulture), seeds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Statistics.Number(Statistics.Median(final), 1), Statistics.Range(final, 1), Statistics.Number(Statistics.Median(best), 1),
            reached.Count == 0 ? "n/a" : Statistics.Number(Statistics.Median(reached), 0), $"{reached.Count}/{seeds}", Statistics.Number(Statistics.Median(rates), 0));
        return new BenchmarkReport()
            .Paragraph($"{agent} with its zoo preset on {environment}, seeds {seedStart}..{seedStart + seeds - 1}; evaluation every {evaluationFrequency} steps over {evaluationEpisodes} episodes (greedy / deterministic policy); threshold {solved}; {threads} libtorch thread(s).")
            .Table(table)
            .Bullets(
                $"Final return: the last evaluation (the weights at the end of the budget). Best kept: the policy the agent returns (its best evaluation), played on 10 fresh seeds.",
                $"Per-seed final returns: {Statistics.Runs(final, 1)}; best kept: {Statistics.Runs(best, 1)}; steps to threshold: {string.Join(", ", toThreshold.Select(t => double.IsNaN(t) ? "never" : Statistics.Number(t, 0)))}.",
                $"Env steps/s: environment steps of training over its wall time, evaluations included.",
                $"Policy inference (seed {seedStart}'s saved model over {InferenceRows} observations in an IDataView, every action read): ML.NET Transform row by row {Statistics.Number(inference.RowByRow, 0)} observations/s; BatchScorer (batch 256) {Statistics.Number(inference.Batched, 0)} observations/s.");
    }

    private const int InferenceRows = 100_000;

    /// <summary>
    /// Observations per second through the policy's ML.NET model, reading the action of every row of a
    /// Transform of an in-memory IDataView: row by row (ML.NET's OnnxTransformer, as Model.Load gives
    /// it) and batched (<see cref="BatchScorer"/>, batch 256); median of 3 each, interleaved, after a warm-up round.
    /// </summary>
    private static (double RowByRow, double Batched) PolicyInference(Func<(ITransformer Model, int ObservationSize)> create)
    {
        var (model, size) = create();
        var context = new MLContext(seed: 1);
        var random = new Random(1);
        var rows = Enumerable.Range(0, InferenceRows).Select(_ => new ObservationRow { Observation = [.. Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() - 0.5))] }).ToArray();
        var definition = SchemaDefinition.Create(typeof(ObservationRow));
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        var data = context.Data.LoadFromEnumerable(rows, definition);
        using var batched = context.Model.CreateBatchScorer(model, new BatchScorerOptions { BatchSize = 256 });
        var rowByRow = new List<double>();
        var batchedRates = new List<double>();
        // Round 0 warms up (the JIT's tiers, ONNX Runtime's first runs) and is not counted.
        for (int round = 0; round <= 3; round++)
        {
            double once = InferenceRows / ReadActions(model.Transform(data));
            double inBatches = InferenceRows / ReadActions(batched.Transform(data));
            if (round > 0)
            {
                rowByRow.Add(once);
                batchedRates.Add(inBatches);
            }
        }

        (model as IDisposable)?.Dispose();
        return (Statistics.Median(rowByRow), Statistics.Median(batchedRates));
    }

    /// <summary>Seconds to read every row's action (ML.NET computes a column only when its getter is called).</summary>
    private static double ReadActions(IDataView scored)
    {
        var clock = Stopwatch.StartNew();
        var column = scored.Schema.GetColumnOrNull("PredictedLabel") ?? scored.Schema[ContinuousPolicy.ActionColumnName];
        using var cursor = scored.GetRowCursor([column]);
        if (column.Type is KeyDataViewType)
        {
            var getter = cursor.GetGetter<uint>(column);
            uint action = 0;
            while (cursor.MoveNext())
            {
                getter(ref action);
            }
        }
        else
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            var action = default(VBuffer<float>);
            while (cursor.MoveNext())
            {
                getter(ref action);
            }
        }

        return clock.Elapsed.TotalSeconds;
    }

    private static (TrainingHistory History, Func<double> EvaluateKept, long Steps, Func<(ITransformer Model, int ObservationSize)> Model) Train(string agent, string environment, long? steps, int seed, int evaluationFrequency, int evaluationEpisodes, int threads)
    {
        switch (agent)
        {
            case "dqn":
            {
                Func<IEnvironment<int>> create = environment switch
                {
                    "CartPole" => ClassicControl.CartPole,
                    "Acrobot" => ClassicControl.Acrobot,
                    "MountainCar" => ClassicControl.MountainCar,
                    _ => throw new ArgumentException($"DQN needs discrete actions: CartPole, Acrobot or MountainCar, not '{environment}'."),
                };
                var preset = environment switch { "CartPole" => DqnPreset.CartPole, "Acrobot" => DqnPreset.Acrobot, _ => DqnPreset.MountainCar };
                var defaults = new DqnOptions(preset);
                var options = new DqnOptions(preset)
                {
                    MaxSteps = steps ?? defaults.MaxSteps, Seed = seed, EvaluationFrequency = evaluationFrequency, EvaluationEpisodes = evaluationEpisodes, IntraOpThreads = threads,
                };
                var policy = new DqnAgent(options).Train(create);
                return (policy.History, () => policy.Evaluate(create(), 10, 2_000_000).Average(), options.MaxSteps!.Value, () => (policy.CreateModel(), policy.ObservationSize));
            }

            case "ppo" when environment == "Pendulum":
            {
                var options = new PpoOptions(PpoPreset.Pendulum)
                {
                    MaxSteps = steps ?? new PpoOptions(PpoPreset.Pendulum).MaxSteps, Seed = seed, EvaluationFrequency = evaluationFrequency, EvaluationEpisodes = evaluationEpisodes, IntraOpThreads = threads,
                };
                var policy = new PpoAgent(options).Train(ClassicControl.Pendulum);
                return (policy.History, () => policy.Evaluate(ClassicControl.Pendulum(), 10, 2_000_000).Average(), (long)policy.History["step"][^1], () => (policy.CreateModel(), policy.ObservationSize));
            }

            case "ppo":
            {
                Func<IEnvironment<int>> create = environment switch
                {
                    "CartPole" => ClassicControl.CartPole,
                    "Acrobot" => ClassicControl.Acrobot,
                    "MountainCar" => ClassicControl.MountainCar,
                    _ => throw new ArgumentException($"Unknown environment '{environment}'."),
                };

                // The zoo tunes PPO for CartPole only among the discrete classic-control tasks; the others start from its defaults.
                var preset = environment == "CartPole" ? PpoPreset.CartPole : PpoPreset.Default;
                var options = new PpoOptions(preset)
                {
                    MaxSteps = steps ?? new PpoOptions(preset).MaxSteps, Seed = seed, EvaluationFrequency = evaluationFrequency, EvaluationEpisodes = evaluationEpisodes, IntraOpThreads = threads,
                };
                var policy = new PpoAgent(options).Train(create);
                return (policy.History, () => policy.Evaluate(create(), 10, 2_000_000).Average(), (long)policy.History["step"][^1], () => (policy.CreateModel(), policy.ObservationSize));
            }

            case "a2c":
            {
                Func<IEnvironment<int>> create = environment switch
                {
                    "CartPole" => ClassicControl.CartPole,
                    "Acrobot" => ClassicControl.Acrobot,
                    "MountainCar" => ClassicControl.MountainCar,
                    _ => throw new ArgumentException($"The a2c benchmark runs the discrete environments, not '{environment}'."),
                };
                var preset = environment == "CartPole" ? A2cPreset.CartPole : A2cPreset.Default;
                var options = new A2cOptions(preset)
                {
                    MaxSteps = steps ?? new A2cOptions(preset).MaxSteps, Seed = seed, EvaluationFrequency = evaluationFrequency, EvaluationEpisodes = evaluationEpisodes, IntraOpThreads = threads,
                };
                var policy = new A2cAgent(options).Train(create);
                return (policy.History, () => policy.Evaluate(create(), 10, 2_000_000).Average(), (long)policy.History["step"][^1], () => (policy.CreateModel(), policy.ObservationSize));
            }

            case "sac":
            {
                var (create, preset) = environment switch
                {
                    "Pendulum" => ((Func<IEnvironment<float[]>>)ClassicControl.Pendulum, SacPreset.Pendulum),
                    "MountainCarContinuous" => (ClassicControl.MountainCarContinuous, SacPreset.MountainCarContinuous),
                    _ => throw new ArgumentException($"SAC needs continuous actions: Pendulum or MountainCarContinuous, not '{environment}'."),
                };
                var options = new SacOptions(preset)
                {
                    MaxSteps = steps ?? new SacOptions(preset).MaxSteps, Seed = seed, EvaluationFrequency = evaluationFrequency, EvaluationEpisodes = evaluationEpisodes, IntraOpThreads = threads,
                };
                var policy = new SacAgent(options).Train(create);
                return (policy.History, () => policy.Evaluate(create(), 10, 2_000_000).Average(), options.MaxSteps!.Value, () => (policy.CreateModel(), policy.ObservationSize));
            }

            default:
                throw new ArgumentException($"Unknown agent '{agent}': use dqn, ppo, a2c or sac.");
        }
    }
}

/// <summary>One observation row of the inference measurement.</summary>
internal sealed class ObservationRow
{
    public float[] Observation { get; set; } = [];
}
