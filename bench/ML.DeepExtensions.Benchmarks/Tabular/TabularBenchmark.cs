using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using ML.DeepExtensions.Benchmarks.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Tabular;

/// <summary>
/// Our MLP against ML.NET's linear (SDCA) and tree (LightGBM, FastTree) trainers on the same fixed
/// split of four small real data sets: test-set quality from one fixed-seed run, and the median
/// training time of several runs.
/// </summary>
internal sealed class TabularBenchmark
{
    /// <summary>The split's seed and every trainer's seed: fixed, so the table is reproducible.</summary>
    public const int Seed = 42;

    /// <summary>Fraction of rows held out for testing.</summary>
    public const double TestFraction = 0.2;

    private readonly int _repeats;
    private readonly int _threads;

    /// <param name="repeats">Timed runs per trainer.</param>
    /// <param name="threads">Threads every trainer may use (libtorch intra-op threads for the MLP).</param>
    public TabularBenchmark(int repeats, int threads)
    {
        _repeats = repeats;
        _threads = threads;
    }

    public IReadOnlyList<TabularResult> Run(IReadOnlyCollection<string> datasetNames)
    {
        var results = new List<TabularResult>();
        foreach (var dataset in TabularDataset.All.Where(d => datasetNames.Count == 0 || datasetNames.Contains(d.Data.Name)))
        {
            var (train, test) = Split(dataset);
            foreach (var candidate in Candidates(dataset))
            {
                BenchmarkCommand.Progress($"{dataset.Data.Name}: {candidate.Name}...");
                results.Add(Measure(dataset, candidate, train, test));
            }
        }

        return results;
    }

    /// <summary>80/20 seeded split; multiclass labels keyed once over all rows so both sides share the key mapping.</summary>
    private static (IDataView Train, IDataView Test) Split(TabularDataset dataset)
    {
        var context = new MLContext(Seed);
        var data = dataset.Data.Load(context, booleanLabel: dataset.IsBinary);
        if (!dataset.IsBinary)
        {
            data = context.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }

        var split = context.Data.TrainTestSplit(data, TestFraction, seed: Seed);
        return (Materialise(context, split.TrainSet), Materialise(context, split.TestSet));
    }

    // The split is a lazy filter; a filled cache keeps the split's cost out of the timings.
    private static IDataView Materialise(MLContext context, IDataView view)
    {
        var cached = context.Data.Cache(view);
        using var cursor = cached.GetRowCursor(cached.Schema);
        while (cursor.MoveNext())
        {
        }

        return cached;
    }

    private TabularResult Measure(TabularDataset dataset, TrainerCandidate candidate, IDataView train, IDataView test)
    {
        // Run 0 warms up (JIT, native libraries) and gives the quality figures; with a fixed seed every
        // later run trains the same model, so they are only timed.
        var context = new MLContext(Seed);
        var model = candidate.Create(context).Fit(train);
        var scored = model.Transform(test);
        double first, second;
        if (dataset.IsBinary)
        {
            var metrics = context.BinaryClassification.Evaluate(scored);
            (first, second) = (metrics.Accuracy, metrics.AreaUnderRocCurve);
        }
        else
        {
            var metrics = context.MulticlassClassification.Evaluate(scored);
            (first, second) = (metrics.MacroAccuracy, metrics.MicroAccuracy);
        }

        (model as IDisposable)?.Dispose();
        var seconds = new List<double>(_repeats);
        var cpuSeconds = new List<double>(_repeats);
        for (int i = 0; i < _repeats; i++)
        {
            var runContext = new MLContext(Seed);
            var estimator = candidate.Create(runContext);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var cpu = Environment.CpuUsage.TotalTime;
            var clock = Stopwatch.StartNew();
            var trained = estimator.Fit(train);
            clock.Stop();
            cpuSeconds.Add((Environment.CpuUsage.TotalTime - cpu).TotalSeconds);
            seconds.Add(clock.Elapsed.TotalSeconds);
            (trained as IDisposable)?.Dispose();
        }

        return new TabularResult(dataset.Data.Name, dataset.IsBinary, candidate.Name, candidate.Settings, train.GetRowCount() ?? 0,
            test.GetRowCount() ?? 0, first, second, Statistics.Median(seconds), seconds.Min(), seconds.Max(), Statistics.Median(cpuSeconds));
    }

    private IEnumerable<TrainerCandidate> Candidates(TabularDataset dataset)
    {
        int threads = _threads;
        var mlp = dataset.Mlp;
        string mlpSettings = $"hidden [{string.Join(", ", mlp.HiddenLayers)}], {mlp.Epochs} epochs, batch {mlp.BatchSize}, Adam lr {mlp.LearningRate}";
        TOptions MlpOptions<TOptions>()
            where TOptions : MlpOptions, new() => new()
            {
                HiddenLayers = mlp.HiddenLayers,
                Epochs = mlp.Epochs,
                Data = { BatchSize = mlp.BatchSize },
                Optimizer = new OptimizerOptions { LearningRate = mlp.LearningRate },
                IntraOpThreads = threads,
                Seed = Seed,
            };

        if (dataset.IsBinary)
        {
            yield return new("MLP (ours)", mlpSettings, c => c.BinaryClassification.Trainers.Mlp(MlpOptions<MlpBinaryOptions>()));
            yield return new("SdcaLogisticRegression", "NormalizeMeanVariance in front; defaults",
                c => c.Transforms.NormalizeMeanVariance("Features").Append(c.BinaryClassification.Trainers.SdcaLogisticRegression(
                    new SdcaLogisticRegressionBinaryTrainer.Options { NumberOfThreads = threads })));
            yield return new("LightGbm", "defaults", c => c.BinaryClassification.Trainers.LightGbm(
                new LightGbmBinaryTrainer.Options { NumberOfThreads = threads }));
            yield return new("FastTree", "defaults", c => c.BinaryClassification.Trainers.FastTree(
                new FastTreeBinaryTrainer.Options { NumberOfThreads = threads }));
        }
        else
        {
            yield return new("MLP (ours)", mlpSettings, c => c.MulticlassClassification.Trainers.Mlp(MlpOptions<MlpMulticlassOptions>()));
            yield return new("SdcaMaximumEntropy", "NormalizeMeanVariance in front; defaults",
                c => c.Transforms.NormalizeMeanVariance("Features").Append(c.MulticlassClassification.Trainers.SdcaMaximumEntropy(
                    new SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = threads })));
            yield return new("LightGbm", "defaults", c => c.MulticlassClassification.Trainers.LightGbm(
                new LightGbmMulticlassTrainer.Options { NumberOfThreads = threads }));
            yield return new("FastTree (one-vs-all)", "OneVersusAll over binary FastTree, defaults",
                c => c.MulticlassClassification.Trainers.OneVersusAll(c.BinaryClassification.Trainers.FastTree(
                    new FastTreeBinaryTrainer.Options { NumberOfThreads = threads })));
        }
    }

    public static ReportTable ResultsTable(IReadOnlyList<TabularResult> results)
    {
        var table = new ReportTable(
            ("data set", false), ("train/test rows", false), ("trainer", false),
            ("macro acc / acc", true), ("micro acc / AUC", true),
            ("train s (median)", true), ("min-max s", true), ("CPU s (median)", true));
        foreach (var r in results)
        {
            table.AddRow(
                r.IsBinary ? $"{r.Dataset} (binary)" : r.Dataset,
                $"{r.TrainRows}/{r.TestRows}",
                r.Trainer,
                Statistics.Number(r.FirstMetric, 4),
                Statistics.Number(r.SecondMetric, 4),
                Statistics.Number(r.MedianSeconds, 3),
                Statistics.Range([r.MinSeconds, r.MaxSeconds], 3),
                Statistics.Number(r.MedianCpuSeconds, 3));
        }

        return table;
    }

    public static ReportTable SettingsTable(IReadOnlyList<TabularResult> results)
    {
        var table = new ReportTable(("data set", false), ("trainer", false), ("settings", false));
        foreach (var r in results)
        {
            table.AddRow(r.Dataset, r.Trainer, r.Settings);
        }

        return table;
    }

    private sealed record TrainerCandidate(string Name, string Settings, Func<MLContext, IEstimator<ITransformer>> Create);
}

/// <summary>
/// One row of the tabular table. For multiclass, <see cref="FirstMetric"/> is macro accuracy and
/// <see cref="SecondMetric"/> micro accuracy; for binary, accuracy and AUC. CPU seconds are the
/// process's CPU time (all threads) during Fit: less sensitive than wall time to other work on the machine.
/// </summary>
internal sealed record TabularResult(
    string Dataset, bool IsBinary, string Trainer, string Settings, long TrainRows, long TestRows,
    double FirstMetric, double SecondMetric, double MedianSeconds, double MinSeconds, double MaxSeconds, double MedianCpuSeconds);

/// <summary>The MLP's settings for one data set.</summary>
internal sealed record MlpSettings(int[] HiddenLayers, int Epochs, int BatchSize, double LearningRate);

/// <summary>A data set, its task and the MLP settings chosen for its size.</summary>
internal sealed record TabularDataset(SklearnDataset Data, bool IsBinary, MlpSettings Mlp)
{
    // Chosen by size before looking at test results: few rows get a small net, more epochs and a
    // larger step; digits (1,437 training rows, 64 inputs) a wider net.
    public static IReadOnlyList<TabularDataset> All { get; } =
    [
        new(SklearnDataset.Iris, false, new MlpSettings([16], 100, 16, 1e-2)),
        new(SklearnDataset.Wine, false, new MlpSettings([32], 100, 16, 1e-2)),
        new(SklearnDataset.BreastCancer, true, new MlpSettings([32, 16], 50, 32, 1e-3)),
        new(SklearnDataset.Digits, false, new MlpSettings([128, 64], 30, 32, 1e-3)),
    ];
}
