using System.CommandLine;
using System.Globalization;
using ML.DeepExtensions.Benchmarks.Reporting;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary><c>engine-overhead</c>: the MLP through an ML.NET pipeline vs a hand-written TorchSharp loop.</summary>
internal static class EngineOverheadCommand
{
    public static Command Create()
    {
        var rows = new Option<int>("--rows") { Description = "Rows of the synthetic table.", DefaultValueFactory = _ => 20_000 }.AtLeast(1);
        var features = new Option<int>("--features") { Description = "Features per row.", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var classes = new Option<int>("--classes") { Description = "Classes.", DefaultValueFactory = _ => 10 }.AtLeast(2);
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated.", DefaultValueFactory = _ => "128,64" };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per batch (both sides).", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var epochs = new Option<int>("--epochs") { Description = "Epochs per run (every side).", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (torch.set_num_threads), the same for every side.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var warmup = new Option<int>("--warmup") { Description = "Uncounted warm-up rounds (JIT tiering, native libraries, allocator).", DefaultValueFactory = _ => 2 }.AtLeast(0);
        var rounds = new Option<int>("--rounds") { Description = "Counted interleaved rounds (one run of every side each).", DefaultValueFactory = _ => 9 }.AtLeast(1);
        var breakdown = new Option<bool>("--breakdown") { Description = "Also interleave sides that add one piece of the pipeline at a time (engine, metrics, data bridge)." };
        var trainingMetrics = new Option<bool>("--training-metrics") { Description = "The pipeline computes accuracy on training batches (TrainingOptions.ComputeTrainingMetrics), as by default; false compares like for like with the raw loop, which computes none.", DefaultValueFactory = _ => true };
        hidden.Validators.Add(result =>
        {
            foreach (string width in Widths(result.GetValueOrDefault<string>()))
            {
                if (!int.TryParse(width, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 1)
                {
                    result.AddError($"--hidden takes positive widths separated by commas, e.g. 128,64; got '{width}'.");
                }
            }
        });

        return BenchmarkCommand.Create("engine-overhead",
            "Training throughput of the MLP through an ML.NET pipeline vs a hand-written TorchSharp loop on the same network.",
            [rows, features, classes, hidden, batchSize, epochs, threads, warmup, rounds, breakdown, trainingMetrics],
            parse =>
            {
                var settings = new EngineOverheadSettings(
                    parse.GetValue(rows), parse.GetValue(features), parse.GetValue(classes),
                    Widths(parse.GetValue(hidden)).Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray(),
                    parse.GetValue(batchSize), parse.GetValue(epochs), LearningRate: 1e-3,
                    parse.GetValue(threads), parse.GetValue(warmup), parse.GetValue(rounds), Seed: 42, parse.GetValue(breakdown), parse.GetValue(trainingMetrics));
                var result = new EngineOverheadBenchmark(settings).Run();
                return new BenchmarkReport()
                    .Paragraph($"{settings.Rows} rows x {settings.Features} features, {settings.Classes} classes; MLP [{string.Join(", ", settings.HiddenLayers)}] ReLU with Standardization; Adam lr {settings.LearningRate}, batch {settings.BatchSize}, {settings.Epochs} epochs per run, {settings.Threads} libtorch thread(s); medians of {settings.Rounds} interleaved rounds (order reversed every other round) after {settings.WarmupRounds} warm-up round(s).")
                    .Table(result.ResultsTable())
                    .Paragraph($"Where the loop time goes (medians; 'in the step' of a raw loop is its step call alone):")
                    .Table(result.SplitTable())
                    .Paragraph($"Ratio pipeline loop / raw loop (medians): {result.Ratio:F3}; full Fit / raw loop: {result.FitRatio:F3}.");
            });
    }

    private static string[] Widths(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
