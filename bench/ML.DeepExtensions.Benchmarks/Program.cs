using System.CommandLine;
using System.Globalization;
using ML.DeepExtensions.Benchmarks.Engine;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Tabular;
using Spectre.Console;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/ML.DeepExtensions.Benchmarks -- tabular | engine-overhead</c>.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Benchmarks of ML.DeepExtensions: tabular MLP against ML.NET's trainers, and the training engine's overhead.")
        {
            TabularCommand(),
            EngineOverheadCommand(),
            Scoring.BatchScoringBenchmark.Command(),
        };
        return root.Parse(args).Invoke();
    }

    private static Command TabularCommand()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed training runs per trainer (after one warm-up run); the median is reported.", DefaultValueFactory = _ => 5 };
        var datasets = new Option<string[]>("--datasets") { Description = "Only these data sets (iris, wine, breast_cancer, digits).", AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads")
        {
            Description = "Threads for every trainer (MLP: libtorch intra-op threads; SDCA, LightGbm, FastTree: NumberOfThreads). "
                + "Default 1: on a small shared machine, OpenMP trainers with more threads than free cores stall at every barrier.",
            DefaultValueFactory = _ => 1,
        };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown tables to this file." };
        var command = new Command("tabular", "MLP vs SDCA, LightGbm and FastTree on iris, wine, breast_cancer (binary) and digits: test metrics and median training time.")
        {
            repeats, datasets, threads, output,
        };
        RequirePositive(repeats, threads);
        datasets.Validators.Add(result =>
        {
            var known = TabularDataset.All.Select(d => d.Data.Name).ToArray();
            foreach (string name in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (!known.Contains(name))
                {
                    result.AddError($"Unknown data set '{name}'; choose from {string.Join(", ", known)}.");
                }
            }
        });
        command.SetAction(parse =>
        {
            int n = parse.GetValue(repeats);
            int threadCount = parse.GetValue(threads);
            string loadBefore = MachineLoad.Current();
            var results = new TabularBenchmark(n, threadCount).Run(parse.GetValue(datasets) ?? []);
            string loadAfter = MachineLoad.Current();
            string report = string.Join(Environment.NewLine, [
                $"Split {1 - TabularBenchmark.TestFraction:P0}/{TabularBenchmark.TestFraction:P0} with seed {TabularBenchmark.Seed}; metrics on the test rows from one run with seed {TabularBenchmark.Seed}; training seconds are the median of {n} runs after a warm-up run; {threadCount} thread(s) per trainer.",
                "",
                TabularBenchmark.ToMarkdown(results),
                "",
                TabularBenchmark.SettingsMarkdown(results),
                "",
                $"Load average (1 min) before: {loadBefore}; after: {loadAfter}.",
            ]);
            Emit(report, parse.GetValue(output));
            return 0;
        });
        return command;
    }

    private static Command EngineOverheadCommand()
    {
        var rows = new Option<int>("--rows") { Description = "Rows of the synthetic table.", DefaultValueFactory = _ => 20_000 };
        var features = new Option<int>("--features") { Description = "Features per row.", DefaultValueFactory = _ => 64 };
        var classes = new Option<int>("--classes") { Description = "Classes.", DefaultValueFactory = _ => 10 };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated.", DefaultValueFactory = _ => "128,64" };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per batch (both sides).", DefaultValueFactory = _ => 64 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per run (every side).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (torch.set_num_threads), the same for every side.", DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup") { Description = "Uncounted warm-up rounds (JIT tiering, native libraries, allocator).", DefaultValueFactory = _ => 2 };
        var rounds = new Option<int>("--rounds") { Description = "Counted interleaved rounds (one run of every side each).", DefaultValueFactory = _ => 9 };
        var breakdown = new Option<bool>("--breakdown") { Description = "Also interleave sides that add one piece of the pipeline at a time (engine, metrics, data bridge)." };
        var trainingMetrics = new Option<bool>("--training-metrics") { Description = "The pipeline computes accuracy on training batches (TrainingOptions.ComputeTrainingMetrics), as by default; false compares like for like with the raw loop, which computes none.", DefaultValueFactory = _ => true };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown table to this file." };
        var command = new Command("engine-overhead", "Training throughput of the MLP through an ML.NET pipeline vs a hand-written TorchSharp loop on the same network.")
        {
            rows, features, classes, hidden, batchSize, epochs, threads, warmup, rounds, breakdown, trainingMetrics, output,
        };
        RequirePositive(rows, features, batchSize, epochs, threads, rounds);
        classes.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 2)
            {
                result.AddError("--classes must be at least 2.");
            }
        });
        warmup.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError("--warmup must be zero or more.");
            }
        });
        hidden.Validators.Add(result =>
        {
            foreach (string width in (result.GetValueOrDefault<string>() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(width, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 1)
                {
                    result.AddError($"--hidden takes positive widths separated by commas, e.g. 128,64; got '{width}'.");
                }
            }
        });
        command.SetAction(parse =>
        {
            var settings = new EngineOverheadSettings(
                parse.GetValue(rows), parse.GetValue(features), parse.GetValue(classes),
                (parse.GetValue(hidden) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray(),
                parse.GetValue(batchSize), parse.GetValue(epochs), LearningRate: 1e-3,
                parse.GetValue(threads), parse.GetValue(warmup), parse.GetValue(rounds), Seed: 42, parse.GetValue(breakdown), parse.GetValue(trainingMetrics));
            string loadBefore = MachineLoad.Current();
            var result = new EngineOverheadBenchmark(settings).Run();
            string loadAfter = MachineLoad.Current();
            string report = string.Join(Environment.NewLine, [
                string.Create(CultureInfo.InvariantCulture,
                    $"{settings.Rows} rows x {settings.Features} features, {settings.Classes} classes; MLP [{string.Join(", ", settings.HiddenLayers)}] ReLU with Standardization; "
                    + $"Adam lr {settings.LearningRate}, batch {settings.BatchSize}, {settings.Epochs} epochs per run, {settings.Threads} libtorch thread(s); "
                    + $"medians of {settings.Rounds} interleaved rounds (order reversed every other round) after {settings.WarmupRounds} warm-up round(s)."),
                "",
                result.ToMarkdown(),
                "",
                "Where the loop time goes (medians; 'in the step' of a raw loop is its step call alone):",
                "",
                result.SplitMarkdown(),
                "",
                string.Create(CultureInfo.InvariantCulture, $"Ratio pipeline loop / raw loop (medians): {result.Ratio:F3}; full Fit / raw loop: {result.FitRatio:F3}."),
                $"Load average (1 min) before: {loadBefore}; after: {loadAfter}.",
            ]);
            Emit(report, parse.GetValue(output));
            return 0;
        });
        return command;
    }

    private static void RequirePositive(params Option<int>[] options)
    {
        foreach (var option in options)
        {
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < 1)
                {
                    result.AddError($"{option.Name} must be at least 1.");
                }
            });
        }
    }

    private static void Emit(string report, FileInfo? output)
    {
        AnsiConsole.WriteLine();
        Console.WriteLine(report);
        if (output is not null)
        {
            File.WriteAllText(output.FullName, report + Environment.NewLine);
            AnsiConsole.MarkupLine($"[grey]written to {Markup.Escape(output.FullName)}[/]");
        }
    }
}
