using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Sequence;

/// <summary>
/// Fortunes category classification (Debian package <c>fortunes</c>, one file per category): our LSTM
/// and GRU text classifiers against ML.NET's own text pipeline, FeaturizeText + SdcaMaximumEntropy and
/// FeaturizeText + LightGbm, on the same seeded, per-category split.
/// </summary>
internal static class TextClassificationBenchmark
{
    public static Command Create()
    {
        var categories = new Option<string>("--categories") { Description = "Category files, comma-separated.", DefaultValueFactory = _ => string.Join(",", Fortunes.BenchmarkCategories) };
        var perCategory = new Option<int?>("--per-category") { Description = "At most N fortunes per category (a quick check; default all)." };
        var testFraction = new Option<double>("--test-fraction") { Description = "Share of each category held out for testing.", DefaultValueFactory = _ => 0.2 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of our networks.", DefaultValueFactory = _ => 12 }.AtLeast(1);
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per fortune our networks read.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "libtorch threads.", DefaultValueFactory = _ => 2 }.AtLeast(1);
        var seed = new Option<int>("--seed") { Description = "Seed of the split and of the networks.", DefaultValueFactory = _ => 1 };
        var lightGbm = new Option<bool>("--lightgbm") { Description = "Include FeaturizeText + LightGbm (slow on FeaturizeText's wide sparse features).", DefaultValueFactory = _ => true };
        return BenchmarkCommand.Create("text-classification",
            "Fortunes category classification: our LSTM and GRU against ML.NET FeaturizeText + SdcaMaximumEntropy and + LightGbm on the same split.",
            [categories, perCategory, testFraction, epochs, maxLength, threads, seed, lightGbm],
            parse => Run([.. parse.GetValue(categories)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                parse.GetValue(perCategory), parse.GetValue(testFraction), parse.GetValue(epochs), parse.GetValue(maxLength), parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(lightGbm)));
    }

    public static BenchmarkReport Run(IReadOnlyList<string> categories, int? perCategory, double testFraction, int epochs, int maxLength, int threads, int seed, bool lightGbm)
    {
        var context = new MLContext(seed: seed);
        var (train, test) = Split(Fortunes.Read(DataDirectory(), categories), perCategory, testFraction, seed);
        BenchmarkCommand.Progress($"{train.Count} training and {test.Count} test fortunes in {categories.Count} categories");
        var label = context.Transforms.Conversion.MapValueToKey("Label", nameof(FortuneText.Category)).Fit(context.Data.LoadFromEnumerable(train));
        var trainData = label.Transform(context.Data.LoadFromEnumerable(train));
        var testData = label.Transform(context.Data.LoadFromEnumerable(test));

        var methods = new (string Name, Func<IDataView, ITransformer> Fit)[]
        {
            ("ML.NET FeaturizeText + SdcaMaximumEntropy", data => context.Transforms.Text.FeaturizeText("Features", nameof(FortuneText.Text))
                .AppendCacheCheckpoint(context).Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(data)),
            ("ML.NET FeaturizeText + LightGbm", data => context.Transforms.Text.FeaturizeText("Features", nameof(FortuneText.Text))
                .AppendCacheCheckpoint(context).Append(context.MulticlassClassification.Trainers.LightGbm()).Fit(data)),
            ("ML.DeepExtensions LSTM (bidirectional 64, max pooling)", data => context.MulticlassClassification.Trainers.TextClassifier(Options(RecurrentCell.Lstm, epochs, maxLength, seed, threads)).Fit(data)),
            ("ML.DeepExtensions GRU (bidirectional 64, max pooling)", data => context.MulticlassClassification.Trainers.TextClassifier(Options(RecurrentCell.Gru, epochs, maxLength, seed, threads)).Fit(data)),
        };

        var table = new ReportTable(("Method", false), ("Test accuracy (micro)", true), ("Macro accuracy", true), ("Log-loss", true), ("Fit seconds", true));
        var results = new List<(string Name, double Accuracy)>();
        foreach (var (name, fit) in methods.Where(m => lightGbm || !m.Name.Contains("LightGbm", StringComparison.Ordinal)))
        {
            BenchmarkCommand.Progress($"fitting {name}");
            var clock = Stopwatch.StartNew();
            var model = fit(trainData);
            clock.Stop();
            var metrics = context.MulticlassClassification.Evaluate(model.Transform(testData));
            BenchmarkCommand.Progress($"{name}: accuracy {metrics.MicroAccuracy:P2}, macro {metrics.MacroAccuracy:P2} ({clock.Elapsed.TotalSeconds:F0} s)");
            results.Add((name, metrics.MicroAccuracy));
            table.AddRow(name, metrics.MicroAccuracy.ToString("P2", CultureInfo.InvariantCulture), metrics.MacroAccuracy.ToString("P2", CultureInfo.InvariantCulture),
                Statistics.Number(metrics.LogLoss, 3), Statistics.Number(clock.Elapsed.TotalSeconds, 0));
            (model as IDisposable)?.Dispose();
        }

        double bestMLNet = results.Where(r => r.Name.StartsWith("ML.NET", StringComparison.Ordinal)).Max(r => r.Accuracy);
        double bestOurs = results.Where(r => !r.Name.StartsWith("ML.NET", StringComparison.Ordinal)).Max(r => r.Accuracy);
        return new BenchmarkReport()
            .Paragraph($"Fortunes (Debian package `fortunes`), categories {string.Join(", ", categories)}; {train.Count:N0} training and {test.Count:N0} test fortunes (the last {testFraction:P0} of each category after a seeded shuffle, seed {seed}). Our networks: TextClassifier from raw text (ML.NET NormalizeText, TokenizeIntoWords, MapValueToKey of at most 20,000 tokens), embedding 64, one bidirectional layer of 64 units per direction, max pooling, {maxLength} tokens, {epochs} epochs, batch 32, Adam 1e-3, {threads} libtorch thread(s). ML.NET: FeaturizeText defaults (word 1-2-grams and character 3-grams), trainer defaults.")
            .Table(table)
            .Bullets([$"Best of ours {bestOurs:P2} against ML.NET's best {bestMLNet:P2}: {100 * (bestOurs - bestMLNet):+0.0;-0.0} points (goal: above ML.NET's best)."]);
    }

    private static TextMulticlassOptions Options(RecurrentCell cell, int epochs, int maxLength, int seed, int threads) => new()
    {
        LabelColumnName = "Label",
        TextColumnName = nameof(FortuneText.Text),
        Architecture = TextClassifierDefaults.Architecture(cell),
        MaxLength = maxLength,
        Epochs = epochs,
        Seed = seed,
        IntraOpThreads = threads,
        Optimizer = new OptimizerOptions { LearningRate = 1e-3 },
    };

    private static (List<FortuneText> Train, List<FortuneText> Test) Split(IReadOnlyList<FortuneText> all, int? perCategory, double testFraction, int seed)
    {
        var train = new List<FortuneText>();
        var test = new List<FortuneText>();
        foreach (var group in all.GroupBy(f => f.Category))
        {
            var random = new Random(seed);
            var rows = group.OrderBy(_ => random.Next()).Take(perCategory ?? int.MaxValue).ToList();
            int testCount = (int)Math.Round(rows.Count * testFraction);
            train.AddRange(rows.Take(rows.Count - testCount));
            test.AddRange(rows.Skip(rows.Count - testCount));
        }

        var shuffle = new Random(seed + 1);
        return ([.. train.OrderBy(_ => shuffle.Next())], test);
    }

    /// <summary>The repository's .data/fortunes (the build fills it from the Debian package), else the system's.</summary>
    private static string DataDirectory()
    {
        string repository = Path.Combine(VisionBenchmarkSetup.RepositoryRoot(), ".data", "fortunes");
        return Directory.Exists(repository) ? repository : Fortunes.DefaultDirectory;
    }
}
