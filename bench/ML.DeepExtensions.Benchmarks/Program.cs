using System.CommandLine;
using ML.DeepExtensions.Benchmarks.Engine;
using ML.DeepExtensions.Benchmarks.Tabular;
using ML.DeepExtensions.Benchmarks.Vision;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>
/// Every benchmark of ML.DeepExtensions, one subcommand each:
/// <c>dotnet run -c Release --project bench/ML.DeepExtensions.Benchmarks -- SUBCOMMAND [options]</c>
/// (<c>--help</c> lists them, <c>SUBCOMMAND --help</c> their options). bench/README.md says how a
/// family adds one: a file with a <c>Create()</c> that calls <c>BenchmarkCommand.Create</c>, and a
/// line in the list below.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Benchmarks of ML.DeepExtensions. Each subcommand prints a Markdown report headed by the date, CPU model and load average; progress goes to standard error.")
        {
            // One line per benchmark, grouped by family (folder).
            TabularCommand.Create(),
            EngineOverheadCommand.Create(),
            AccuracyBenchmark.Create(),
            TrainingThroughputBenchmark.Create(),
            ScoringThroughputBenchmark.Create(),
            FewShotTransferBenchmark.Create(),
            ResNet18ThroughputBenchmark.Create(),
            Memory.MemoryBenchmark.Command(),
            Scoring.BatchScoringBenchmark.Command(),
            Reinforcement.ReinforcementBenchmark.Create(),
            Generative.GanBenchmark.Create(),
            Generative.GanThroughputBenchmark.Create(),
            Generative.TabularGanBenchmark.Create(),
            Sequence.TextClassificationBenchmark.Create(),
            Sequence.SequenceFashionMnistBenchmark.Create(),
            Sequence.LstmThroughputBenchmark.Create(),
            Sequence.RecurrentPaddingBenchmark.Create(),
            Sequence.LanguageModelBenchmark.Create(),
            Sequence.SunspotsForecastBenchmark.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
