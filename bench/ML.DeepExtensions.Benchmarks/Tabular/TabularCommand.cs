using System.CommandLine;
using ML.DeepExtensions.Benchmarks.Reporting;

namespace ML.DeepExtensions.Benchmarks.Tabular;

/// <summary><c>tabular</c>: the MLP against ML.NET's trainers on four small real data sets.</summary>
internal static class TabularCommand
{
    public static Command Create()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed training runs per trainer (after one warm-up run); the median is reported.", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var datasets = new Option<string[]>("--datasets") { Description = "Only these data sets (iris, wine, breast_cancer, digits).", AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads")
        {
            Description = "Threads for every trainer (MLP: libtorch intra-op threads; SDCA, LightGbm, FastTree: NumberOfThreads). "
                + "Default 1: on a small shared machine, OpenMP trainers with more threads than free cores stall at every barrier.",
            DefaultValueFactory = _ => 1,
        }.AtLeast(1);
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

        return BenchmarkCommand.Create("tabular",
            "MLP vs SDCA, LightGbm and FastTree on iris, wine, breast_cancer (binary) and digits: test metrics and median training time.",
            [repeats, datasets, threads],
            parse =>
            {
                int n = parse.GetValue(repeats);
                int threadCount = parse.GetValue(threads);
                var results = new TabularBenchmark(n, threadCount).Run(parse.GetValue(datasets) ?? []);
                return new BenchmarkReport()
                    .Paragraph($"Split {1 - TabularBenchmark.TestFraction:P0}/{TabularBenchmark.TestFraction:P0} with seed {TabularBenchmark.Seed}; metrics on the test rows from one run with seed {TabularBenchmark.Seed}; training seconds are the median of {n} runs after a warm-up run; {threadCount} thread(s) per trainer.")
                    .Table(TabularBenchmark.ResultsTable(results))
                    .Table(TabularBenchmark.SettingsTable(results));
            });
    }
}
