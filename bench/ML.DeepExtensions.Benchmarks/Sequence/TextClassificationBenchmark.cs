using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
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
        var methods = new Option<string>("--methods") { Description = "Methods to run, comma-separated: sdca, lightgbm (slow on FeaturizeText's wide sparse features), lstm, gru.", DefaultValueFactory = _ => "sdca,lightgbm,lstm,gru" };
        var dropout = new Option<double>("--dropout") { Description = "Dropout rate of our networks after the embedding and after the pooling; 0 for none (TextClassifierDefaults.Architecture).", DefaultValueFactory = _ => 0 };
        var seeds = new Option<int>("--seeds") { Description = "Our networks: train this many, with seeds --seed, --seed + 1, ..., and average their class probabilities (an ensemble); 1 for a single network.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Our networks: first train them this many epochs on every other fortunes category plus the training part (one many-way task), then fine-tune on the benchmark's categories for --epochs; 0 (the default) trains from scratch.", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var scoresOut = new Option<string?>("--scores-out") { Description = "Folder to write each network method's scored rows to (<method>.tsv: label key, then the class probabilities), for --combine." };
        var combine = new Option<string?>("--combine") { Description = "Comma-separated --scores-out files of runs on the same split: evaluate the mean of their class probabilities instead of training." };
        var validationOnly = new Option<bool>("--validation-only") { Description = "Score on a validation split of the training part (the same share of each category) instead of the test part, which is never read (for choosing settings)." };
        return BenchmarkCommand.Create("text-classification",
            "Fortunes category classification: our LSTM and GRU against ML.NET FeaturizeText + SdcaMaximumEntropy and + LightGbm on the same split.",
            [categories, perCategory, testFraction, epochs, maxLength, threads, seed, methods, dropout, seeds, pretrainEpochs, scoresOut, combine, validationOnly],
            parse => parse.GetValue(combine) is { } files
                ? Combine(files.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                : Run(new Settings([.. parse.GetValue(categories)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                parse.GetValue(perCategory), parse.GetValue(testFraction), parse.GetValue(epochs), parse.GetValue(maxLength), parse.GetValue(threads), parse.GetValue(seed),
                [.. parse.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => m.ToLowerInvariant())],
                parse.GetValue(dropout), parse.GetValue(seeds), parse.GetValue(pretrainEpochs), parse.GetValue(scoresOut), parse.GetValue(validationOnly))));
    }

    internal sealed record Settings(IReadOnlyList<string> Categories, int? PerCategory, double TestFraction, int Epochs, int MaxLength, int Threads, int Seed,
        IReadOnlyList<string> Methods, double Dropout, int Seeds, int PretrainEpochs, string? ScoresOut, bool ValidationOnly);

    public static BenchmarkReport Run(Settings settings)
    {
        var (categories, seed, epochs, maxLength, threads) = (settings.Categories, settings.Seed, settings.Epochs, settings.MaxLength, settings.Threads);
        var context = new MLContext(seed: seed);
        var (train, test) = Split(Fortunes.Read(DataDirectory(), categories), settings.PerCategory, settings.TestFraction, seed);
        if (settings.ValidationOnly)
        {
            // The test part is dropped here, unread: the validation part comes from the training part alone.
            (train, test) = Split(train, null, settings.TestFraction, seed);
        }

        string part = settings.ValidationOnly ? "validation" : "test";
        BenchmarkCommand.Progress($"{train.Count} training and {test.Count} {part} fortunes in {categories.Count} categories");
        var label = context.Transforms.Conversion.MapValueToKey("Label", nameof(FortuneText.Category)).Fit(context.Data.LoadFromEnumerable(train));
        var trainData = label.Transform(context.Data.LoadFromEnumerable(train));
        var testData = label.Transform(context.Data.LoadFromEnumerable(test));
        string network = (settings.Dropout > 0 ? $"bidirectional 64, max pooling, dropout {settings.Dropout}" : "bidirectional 64, max pooling")
            + (settings.Seeds > 1 ? $", mean of {settings.Seeds} seeds" : "")
            + (settings.PretrainEpochs > 0 ? $", pretrained {settings.PretrainEpochs} epochs on the other categories" : "");
        var pretraining = settings.PretrainEpochs > 0 && settings.Methods.Any(m => m is "lstm" or "gru")
            ? FortunesPretraining.Create(context, DataDirectory(), categories, train)
            : null;
        if (pretraining is not null)
        {
            BenchmarkCommand.Progress($"pretraining corpus: {pretraining.OtherFortunes} fortunes of {pretraining.OtherCategories} other categories ({pretraining.LeftOut} left out as copies of benchmark fortunes) + the {train.Count} training fortunes");
        }

        var methods = new (string Key, string Name, Func<IDataView, IDataView, IDataView> FitAndScore)[]
        {
            ("sdca", "ML.NET FeaturizeText + SdcaMaximumEntropy", (data, rows) => Score(context.Transforms.Text.FeaturizeText("Features", nameof(FortuneText.Text))
                .AppendCacheCheckpoint(context).Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(data), rows)),
            ("lightgbm", "ML.NET FeaturizeText + LightGbm", (data, rows) => Score(context.Transforms.Text.FeaturizeText("Features", nameof(FortuneText.Text))
                .AppendCacheCheckpoint(context).Append(context.MulticlassClassification.Trainers.LightGbm()).Fit(data), rows)),
            ("lstm", $"ML.DeepExtensions LSTM ({network})", (data, rows) => Networks(context, RecurrentCell.Lstm, settings, pretraining, data, rows)),
            ("gru", $"ML.DeepExtensions GRU ({network})", (data, rows) => Networks(context, RecurrentCell.Gru, settings, pretraining, data, rows)),
        };
        var unknown = settings.Methods.Except(methods.Select(m => m.Key)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown method(s) {string.Join(", ", unknown)}: use sdca, lightgbm, lstm, gru.");
        }

        var table = new ReportTable(("Method", false), (settings.ValidationOnly ? "Validation accuracy (micro)" : "Test accuracy (micro)", true), ("Macro accuracy", true), ("Log-loss", true), (settings.Seeds > 1 ? "Fit seconds (all seeds)" : "Fit seconds", true));
        var results = new List<(string Name, double Accuracy)>();
        foreach (var (key, name, fitAndScore) in methods.Where(m => settings.Methods.Contains(m.Key)))
        {
            BenchmarkCommand.Progress($"fitting {name}");
            var clock = Stopwatch.StartNew();
            var scored = fitAndScore(trainData, testData);
            clock.Stop();
            if (settings.ScoresOut is { } folder && key is "lstm" or "gru")
            {
                Directory.CreateDirectory(folder);
                SaveScores(context, scored, Path.Combine(folder, $"{key}.tsv"));
            }

            var metrics = context.MulticlassClassification.Evaluate(scored);
            BenchmarkCommand.Progress($"{name}: accuracy {metrics.MicroAccuracy:P2}, macro {metrics.MacroAccuracy:P2} ({clock.Elapsed.TotalSeconds:F0} s)");
            results.Add((name, metrics.MicroAccuracy));
            table.AddRow(name, metrics.MicroAccuracy.ToString("P2", CultureInfo.InvariantCulture), metrics.MacroAccuracy.ToString("P2", CultureInfo.InvariantCulture),
                Statistics.Number(metrics.LogLoss, 3), Statistics.Number(clock.Elapsed.TotalSeconds, 0));
        }

        var ours = results.Where(r => !r.Name.StartsWith("ML.NET", StringComparison.Ordinal)).ToList();
        var theirs = results.Where(r => r.Name.StartsWith("ML.NET", StringComparison.Ordinal)).ToList();
        string split = settings.ValidationOnly
            ? $"{train.Count:N0} training and {test.Count:N0} validation fortunes (validation: the last {settings.TestFraction:P0} of each category's training part; the test part was not read)"
            : $"{train.Count:N0} training and {test.Count:N0} test fortunes (the last {settings.TestFraction:P0} of each category after a seeded shuffle, seed {seed})";
        string dropout = settings.Dropout > 0 ? $", dropout {settings.Dropout} after the embedding and after the pooling" : "";
        string input = pretraining is null
            ? "from raw text (ML.NET NormalizeText, TokenizeIntoWords, MapValueToKey of at most 20,000 tokens)"
            : $"from token keys (ML.NET NormalizeText, TokenizeIntoWords, MapValueToKey of at most 60,000 tokens, fitted on the pretraining corpus: {pretraining.OtherFortunes:N0} fortunes of the {pretraining.OtherCategories} other category files, {pretraining.LeftOut} copies of benchmark fortunes left out, plus the training part)";
        string pretrained = pretraining is null ? "" : $" after {settings.PretrainEpochs} epochs on the pretraining corpus as one {pretraining.OtherCategories + categories.Count}-way task (output layer replaced)";
        string ensemble = settings.Seeds > 1 ? $", the mean class probabilities of {settings.Seeds} networks (seeds {seed}–{seed + settings.Seeds - 1})" : "";
        var report = new BenchmarkReport()
            .Paragraph($"Fortunes (Debian package `fortunes`), categories {string.Join(", ", categories)}; {split}. Our networks: TextClassifier {input}, embedding 64, one bidirectional layer of 64 units per direction, max pooling{dropout}, {maxLength} tokens, {epochs} epochs{pretrained}{ensemble}, batch 32, Adam 1e-3, {threads} libtorch thread(s). ML.NET: FeaturizeText defaults (word 1-2-grams and character 3-grams), trainer defaults.")
            .Table(table);
        if (ours.Count > 0 && theirs.Count > 0)
        {
            double bestOurs = ours.Max(r => r.Accuracy), bestMLNet = theirs.Max(r => r.Accuracy);
            report.Bullets([$"Best of ours {bestOurs:P2} against ML.NET's best {bestMLNet:P2}: {100 * (bestOurs - bestMLNet):+0.0;-0.0} points (goal: above ML.NET's best)."]);
        }

        return report;
    }

    /// <summary>The scored rows, materialised (the model may be disposed afterwards).</summary>
    private static IDataView Score(ITransformer model, IDataView data)
    {
        var scored = model.Transform(data);
        var context = new MLContext();
        var rows = context.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false).ToList();
        (model as IDisposable)?.Dispose();
        return Scored(context, rows, ClassCount(scored));
    }

    /// <summary>
    /// Trains one network per seed (settings.Seed, +1, ...) and returns the test rows scored with the
    /// mean of their class probabilities, the predicted label its arg max.
    /// </summary>
    private static IDataView Networks(MLContext context, RecurrentCell cell, Settings settings, FortunesPretraining? pretraining, IDataView train, IDataView test)
    {
        PretrainedNetwork? pretrained = null;
        if (pretraining is not null)
        {
            // Both classifiers read the corpus' vocabulary; the pretrained network is trained once, with the first seed.
            train = pretraining.Vocabulary.Transform(train);
            test = pretraining.Vocabulary.Transform(test);
            pretrained = pretraining.Pretrain(context, Options(cell, settings, settings.Seed, FortunesPretraining.Label, FortunesPretraining.TokenColumn, settings.PretrainEpochs));
        }

        List<ScoredRow>? sum = null;
        int classes = 0;
        for (int k = 0; k < settings.Seeds; k++)
        {
            var options = pretrained is null
                ? Options(cell, settings, settings.Seed + k)
                : Options(cell, settings, settings.Seed + k, tokens: FortunesPretraining.TokenColumn, pretrained: pretrained);
            using var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(train);
            var scored = model.Transform(test);
            classes = ClassCount(scored);
            var rows = context.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false).ToList();
            if (settings.Seeds > 1)
            {
                var single = context.MulticlassClassification.Evaluate(Scored(context, rows, classes));
                BenchmarkCommand.Progress($"{cell} seed {settings.Seed + k}: accuracy {single.MicroAccuracy:P2}");
            }

            sum = AddToMean(sum, rows, settings.Seeds, $"seed {settings.Seed + k}");
        }

        return Scored(context, sum!, classes);
    }

    private static void SaveScores(MLContext context, IDataView scored, string path)
    {
        var lines = context.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false)
            .Select(r => string.Join('\t', [r.Label.ToString(CultureInfo.InvariantCulture), .. r.Score.Select(x => x.ToString("R", CultureInfo.InvariantCulture))]));
        File.WriteAllLines(path, lines);
        BenchmarkCommand.Progress($"scores written to {path}");
    }

    /// <summary>The mean of the class probabilities in <paramref name="files"/> (rows in the same order), evaluated with ML.NET's evaluator.</summary>
    private static BenchmarkReport Combine(string[] files)
    {
        if (files.Length < 2)
        {
            throw new ArgumentException("--combine needs at least two score files.");
        }

        List<ScoredRow>? sum = null;
        foreach (string file in files)
        {
            var rows = File.ReadAllLines(file).Select((line, i) => ParseScores(line, file, i + 1)).ToList();
            sum = AddToMean(sum, rows, files.Length, file);
        }

        var context = new MLContext();
        var metrics = context.MulticlassClassification.Evaluate(Scored(context, sum!, sum![0].Score.Length));
        var table = new ReportTable(("Scores averaged", false), ("Accuracy (micro)", true), ("Macro accuracy", true), ("Log-loss", true));
        table.AddRow(string.Join(" + ", files.Select(Path.GetFileName)), metrics.MicroAccuracy.ToString("P2", CultureInfo.InvariantCulture),
            metrics.MacroAccuracy.ToString("P2", CultureInfo.InvariantCulture), Statistics.Number(metrics.LogLoss, 3));
        return new BenchmarkReport().Paragraph($"The mean of the class probabilities of {string.Join(", ", files)} ({sum.Count:N0} rows).").Table(table);
    }

    /// <summary>One line of a --scores-out file: the label key, then one probability per class.</summary>
    private static ScoredRow ParseScores(string line, string file, int lineNumber)
    {
        var fields = line.Split('\t');
        var scores = new float[fields.Length - 1];
        uint label = 0;
        bool valid = fields.Length > 1 && uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out label) && label > 0;
        for (int c = 0; valid && c < scores.Length; c++)
        {
            valid = float.TryParse(fields[c + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out scores[c]) && float.IsFinite(scores[c]);
        }

        return valid
            ? new ScoredRow { Label = label, Score = scores }
            : throw new FormatException($"{file}, line {lineNumber}: '{line}' is not a label key followed by tab-separated class probabilities (a --scores-out file).");
    }

    /// <summary>Adds <paramref name="rows"/>' probabilities / <paramref name="count"/> to the running mean (started from the first rows).</summary>
    private static List<ScoredRow> AddToMean(List<ScoredRow>? sum, List<ScoredRow> rows, int count, string source)
    {
        sum ??= [.. rows.Select(r => new ScoredRow { Label = r.Label, Score = new float[r.Score.Length] })];
        if (rows.Count != sum.Count)
        {
            throw new ArgumentException($"{source} has {rows.Count} scored rows, the first has {sum.Count}: the scores must come from runs on the same split.");
        }

        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Label != sum[i].Label || rows[i].Score.Length != sum[i].Score.Length)
            {
                throw new ArgumentException($"{source}, row {i + 1}: label {rows[i].Label} with {rows[i].Score.Length} classes, but the first has label {sum[i].Label} with {sum[i].Score.Length}: not the same split.");
            }

            for (int c = 0; c < rows[i].Score.Length; c++)
            {
                sum[i].Score[c] += rows[i].Score[c] / count;
            }
        }

        return sum;
    }

    private static int ClassCount(IDataView scored) => (int)((KeyDataViewType)scored.Schema["Label"].Type).Count;

    /// <summary>Label, Score and PredictedLabel (the arg max of Score) as ML.NET's multiclass evaluator reads them.</summary>
    private static IDataView Scored(MLContext context, List<ScoredRow> rows, int classes)
    {
        var definition = SchemaDefinition.Create(typeof(ScoredRow));
        definition[nameof(ScoredRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        definition[nameof(ScoredRow.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        definition[nameof(ScoredRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, classes);
        // CreateEnumerable gives a key's raw value (1 = the first class), but LoadFromEnumerable takes
        // the class index (0 = the first class): the round trip would shift every key by one.
        var indexed = rows.Select(row => new ScoredRow
        {
            Label = row.Label - 1,
            Score = row.Score,
            PredictedLabel = (uint)Array.IndexOf(row.Score, row.Score.Max()),
        });
        return context.Data.LoadFromEnumerable(indexed.ToList(), definition);
    }

    private sealed class ScoredRow
    {
        public uint Label { get; set; }

        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }
    }

    /// <summary>
    /// Our network's options: from the raw text column, or from a token key column when
    /// <paramref name="tokens"/> is set; started from <paramref name="pretrained"/> when set (its
    /// layers replace the architecture).
    /// </summary>
    private static TextMulticlassOptions Options(RecurrentCell cell, Settings settings, int seed, string label = "Label", string? tokens = null, int? epochs = null,
        PretrainedNetwork? pretrained = null) => new()
    {
        LabelColumnName = label,
        TextColumnName = tokens is null ? nameof(FortuneText.Text) : null,
        FeatureColumnName = tokens ?? "Tokens",
        Architecture = settings.Dropout > 0 ? WithDropout(TextClassifierDefaults.Architecture(cell), settings.Dropout) : TextClassifierDefaults.Architecture(cell),
        Pretrained = pretrained is null ? null : new PretrainedOptions { Network = pretrained },
        MaxLength = settings.MaxLength,
        Epochs = epochs ?? settings.Epochs,
        Seed = seed,
        IntraOpThreads = settings.Threads,
        Optimizer = new OptimizerOptions { LearningRate = 1e-3 },
    };

    /// <summary>The default network (embedding, recurrent layer, pooling) with dropout after the embedding and after the pooling.</summary>
    private static IReadOnlyList<NetworkLayer> WithDropout(IReadOnlyList<NetworkLayer> layers, double rate) =>
        [layers[0], Layer.Dropout(rate), .. layers.Skip(1), Layer.Dropout(rate)];

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
