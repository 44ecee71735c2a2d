using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary>Settings of one engine-overhead run; every side trains with exactly these.</summary>
internal sealed record EngineOverheadSettings(
    int Rows, int Features, int Classes, int[] HiddenLayers, int BatchSize, int Epochs,
    double LearningRate, int Threads, int WarmupRounds, int Rounds, int Seed, bool Breakdown, bool TrainingMetrics = true)
{
    public double SamplesPerRun => (double)Rows * Epochs;
}

/// <summary>
/// Training throughput of the MLP through an ML.NET pipeline (the catalog trainer's Fit on an
/// IDataView) against a hand-written TorchSharp loop over pre-built tensors for the same network,
/// run interleaved in one process (one run of each side per round, after warm-up rounds) so that
/// both see the same machine noise. With <see cref="EngineOverheadSettings.Breakdown"/>, sides that
/// add one piece of the pipeline at a time are interleaved too, to show where a gap comes from.
/// </summary>
internal sealed class EngineOverheadBenchmark
{
    private readonly EngineOverheadSettings _settings;

    public EngineOverheadBenchmark(EngineOverheadSettings settings) => _settings = settings;

    public EngineOverheadResult Run()
    {
        var s = _settings;
        set_num_threads(s.Threads);
        var table = SyntheticTable.Create(s.Rows, s.Features, s.Classes, s.Seed);
        var context = new MLContext(s.Seed);
        var data = table.ToDataView(context);
        using var raw = new RawTorchLoop(table);

        var sides = new List<Side>
        {
            new(["ML.NET pipeline: engine loop", "ML.NET pipeline: full Fit"],
                ["trainer.Fit on the IDataView, first OnEpochBegin to last OnEpochEnd (data bridge + engine + step)",
                 "trainer.Fit in full: checks, statistics pass, network, loop, ONNX export, scorer"],
                () => RunPipeline(context, data)),
            new(["raw TorchSharp loop"], ["hand-written epoch loop over pre-built tensors"], () => [FromRaw(raw.Train(s))]),
        };
        if (s.Breakdown)
        {
            var bridge = new DataViewBatchSource(data, [BatchColumn.Features(), BatchColumn.ClassLabel()],
                new BatchSourceOptions { BatchSize = s.BatchSize, Shuffle = true, Seed = s.Seed });
            sides.Add(new(["raw loop + per-batch reads"], ["raw loop plus loss.item() and batch accuracy (argmax, eq, sum, item) per batch"],
                () => [FromRaw(raw.Train(s, readMetrics: true))]));
            sides.Add(new(["engine over pre-built tensors"], ["TrainingEngine + SupervisedTrainStep (accuracy metric) fed from the raw loop's tensors: no data bridge"],
                () => [RunEngine(raw, raw.InMemorySource(s.BatchSize, s.Seed), withAccuracy: true)]));
            sides.Add(new(["engine over pre-built tensors, no metric"], ["as above with no accuracy metric (loss.item() only)"],
                () => [RunEngine(raw, raw.InMemorySource(s.BatchSize, s.Seed), withAccuracy: false)]));
            sides.Add(new(["raw loop fed by the data bridge"], ["hand-written step, batches from DataViewBatchSource over the same IDataView: no engine"],
                () => [FromRaw(raw.TrainFrom(bridge, s))]));
            sides.Add(new(["engine over the data bridge"], ["TrainingEngine + SupervisedTrainStep + DataViewBatchSource, without the trainer around them"],
                () => [RunEngine(raw, bridge, withAccuracy: true)]));
            var deepBridge = new DataViewBatchSource(data, [BatchColumn.Features(), BatchColumn.ClassLabel()],
                new BatchSourceOptions { BatchSize = s.BatchSize, Shuffle = true, Seed = s.Seed, PrefetchBatches = 8 });
            sides.Add(new(["engine over the data bridge, prefetch 8"], ["as above with BatchSourceOptions.PrefetchBatches = 8 (default 2)"],
                () => [RunEngine(raw, deepBridge, withAccuracy: true)]));
            sides.Add(new(["proposal: engine over the IDataView read once into tensors"],
                ["TrainingEngine + SupervisedTrainStep over a prototype source that reads the IDataView once (inside epoch 1, timed) and serves epochs by index_select"],
                () =>
                {
                    using var materialised = new MaterialisedBatchSource(data, s.BatchSize, s.Seed);
                    return [RunEngine(raw, materialised, withAccuracy: true)];
                }));
            sides.Add(new(["data bridge alone"], ["DataViewBatchSource epochs with no training: the rate the bridge can feed"],
                () => [ReadOnly(bridge)]));
        }

        for (int round = 1; round <= s.WarmupRounds; round++)
        {
            BenchmarkCommand.Progress($"warm-up round {round}/{s.WarmupRounds} (not counted)");
            foreach (var side in sides)
            {
                side.Run();
            }
        }

        for (int round = 1; round <= s.Rounds; round++)
        {
            var line = new List<string>();
            // Every other round runs the sides in reverse, so no side always follows the same one.
            foreach (var side in round % 2 == 1 ? sides : Enumerable.Reverse(sides))
            {
                var runs = side.Run();
                for (int i = 0; i < runs.Count; i++)
                {
                    side.Runs[i].Add(runs[i]);
                    line.Add(string.Create(CultureInfo.InvariantCulture, $"{side.Names[i]} {runs[i].SamplesPerSecond:F0}"));
                }
            }

            BenchmarkCommand.Progress($"round {round}/{s.Rounds}: {string.Join("; ", line)}");
        }

        return new EngineOverheadResult(s, sides.SelectMany(side => side.Names.Select((name, i) =>
            new SideResult(name, side.Covers[i], side.Runs[i]))).ToList());
    }

    private SideRun FromRaw(RawRun run) =>
        new(run.Clock.Measure(_settings.SamplesPerRun), new LoopSplit(double.NaN, double.NaN, double.NaN, run.InStepMicroseconds, double.NaN));

    /// <summary>The engine's loop (from the callback) and the full Fit of the catalog trainer.</summary>
    private SideRun[] RunPipeline(MLContext context, IDataView data)
    {
        var s = _settings;
        var timer = new LoopTimer();
        var trainer = context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            HiddenLayers = s.HiddenLayers,
            Epochs = s.Epochs,
            Data = { BatchSize = s.BatchSize },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = s.LearningRate },
            IntraOpThreads = s.Threads,
            Seed = s.Seed,
            ComputeTrainingMetrics = s.TrainingMetrics,
            Callbacks = [timer],
        });
        var fit = new LoopClock();
        fit.Start();
        var model = trainer.Fit(data);
        fit.Stop();
        model.Network.Dispose();
        (model.ScoringTransformer as IDisposable)?.Dispose();
        CheckEpochs(timer);
        return [new(timer.Clock.Measure(s.SamplesPerRun), timer.Split()), new(fit.Measure(s.SamplesPerRun), null)];
    }

    private SideRun RunEngine(RawTorchLoop raw, IBatchSource source, bool withAccuracy)
    {
        var s = _settings;
        var timer = new LoopTimer();
        var options = new TrainingOptions
        {
            Epochs = s.Epochs,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = s.LearningRate },
            IntraOpThreads = s.Threads,
            Seed = s.Seed,
            Callbacks = [timer],
        };
        TrainingRun.SeedForInitialisation(s.Seed);
        using var network = raw.BuildNetwork(s.HiddenLayers);
        using var optimizer = options.Optimizer.Create(network.parameters());
        var step = new SupervisedTrainStep(network, (output, label) => nn.functional.cross_entropy(output, label), optimizer,
            () => withAccuracy ? [new AccuracyMetric()] : [], CPU);
        TrainingEngine.Fit(new TrainingRun(options, s.Seed), step, source, null);
        CheckEpochs(timer);
        return new(timer.Clock.Measure(s.SamplesPerRun), timer.Split());
    }

    private SideRun ReadOnly(DataViewBatchSource source)
    {
        var clock = new LoopClock();
        clock.Start();
        for (int epoch = 0; epoch < _settings.Epochs; epoch++)
        {
            using var batches = source.GetBatches(epoch).GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batches.MoveNext())
                {
                    break;
                }
            }
        }

        clock.Stop();
        return new(clock.Measure(_settings.SamplesPerRun), null);
    }

    private void CheckEpochs(LoopTimer timer)
    {
        if (timer.EpochsTimed != _settings.Epochs)
        {
            throw new InvalidOperationException($"Training ran {timer.EpochsTimed} epochs, expected {_settings.Epochs}.");
        }
    }

    /// <summary>One or more result rows produced by one run; runs of all sides alternate round by round.</summary>
    private sealed class Side(string[] names, string[] covers, Func<IReadOnlyList<SideRun>> run)
    {
        public string[] Names { get; } = names;

        public string[] Covers { get; } = covers;

        public List<SideRun>[] Runs { get; } = names.Select(_ => new List<SideRun>()).ToArray();

        public IReadOnlyList<SideRun> Run()
        {
            // Garbage and finalizers of the previous run (TorchSharp tensors, ONNX Runtime sessions)
            // are collected here, not during the next measurement.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return run();
        }
    }
}

/// <summary>One run of one side: throughput, cores busy, and where the loop's time went if known.</summary>
internal readonly record struct SideRun(LoopMeasurement Measurement, LoopSplit? Split)
{
    public double SamplesPerSecond => Measurement.SamplesPerSecond;
}

/// <summary>Every round of one row of the table.</summary>
internal sealed record SideResult(string Name, string Covers, IReadOnlyList<SideRun> Runs)
{
    public double Median => Statistics.Median(Runs.Select(r => r.SamplesPerSecond).ToArray());

    public double MedianOf(Func<SideRun, double> value) => Statistics.Median(Runs.Select(value).ToArray());
}

/// <summary>All rows; the first two are the pipeline's loop and full Fit, the third the raw loop.</summary>
internal sealed record EngineOverheadResult(EngineOverheadSettings Settings, IReadOnlyList<SideResult> Sides)
{
    public SideResult PipelineLoop => Sides[0];

    public SideResult PipelineFit => Sides[1];

    public SideResult Raw => Sides[2];

    public double Ratio => PipelineLoop.Median / Raw.Median;

    public double FitRatio => PipelineFit.Median / Raw.Median;

    private IEnumerable<SideResult> Ordered => Sides.Take(3).Reverse().Concat(Sides.Skip(3));

    public ReportTable ResultsTable()
    {
        var table = new ReportTable(
            ("side", false), ("median samples/s", true), ("best", true), ("min-max", true), ("vs raw (medians)", true),
            ("cores busy", true), ("what the time covers", false));
        foreach (var side in Ordered)
        {
            var rates = side.Runs.Select(r => r.SamplesPerSecond).ToArray();
            table.AddRow(side.Name, Statistics.Number(side.Median, 0), Statistics.Number(rates.Max(), 0),
                Statistics.Range(rates, 0),
                Statistics.Number(side.Median / Raw.Median, 3), Statistics.Number(side.MedianOf(r => r.Measurement.CoresBusy), 2), side.Covers);
        }

        return table;
    }

    /// <summary>Where the loop time goes, for the sides that know (medians over rounds).</summary>
    public ReportTable SplitTable()
    {
        var table = new ReportTable(
            ("side", false), ("start of epoch 1, ms", true), ("start of later epochs, ms/epoch", true), ("between batches, µs/batch", true),
            ("in the step, µs/batch", true), ("end of epoch, ms/epoch", true));
        foreach (var side in Ordered.Where(s => s.Runs.All(r => r.Split is not null)))
        {
            table.AddRow(side.Name,
                Statistics.Number(side.MedianOf(r => r.Split!.Value.FirstEpochStartMs), 2),
                Statistics.Number(side.MedianOf(r => r.Split!.Value.LaterEpochStartMs), 2),
                Statistics.Number(side.MedianOf(r => r.Split!.Value.BetweenBatchesUs), 1),
                Statistics.Number(side.MedianOf(r => r.Split!.Value.InStepUs), 1),
                Statistics.Number(side.MedianOf(r => r.Split!.Value.EpochEndMs), 2));
        }

        return table;
    }
}
