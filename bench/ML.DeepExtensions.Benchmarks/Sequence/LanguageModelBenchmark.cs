using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Sequence;

/// <summary>
/// Character language model on fortunes (Debian package <c>fortunes</c>): bits per character on held-out
/// fortunes against <c>xz -9</c> on the same text, alone and conditioned on the training text
/// (xz(train + test) − xz(train)), plus samples generated from a prompt.
/// </summary>
internal static class LanguageModelBenchmark
{
    public static Command Create()
    {
        var categories = new Option<string>("--categories") { Description = "Category files, comma-separated.", DefaultValueFactory = _ => string.Join(",", Fortunes.BenchmarkCategories) };
        var perCategory = new Option<int?>("--per-category") { Description = "At most N fortunes per category (a quick check; default all)." };
        var testFraction = new Option<double>("--test-fraction") { Description = "Share of each category held out.", DefaultValueFactory = _ => 0.1 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs (training also stops at --minutes).", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var minutes = new Option<double>("--minutes") { Description = "Training time budget in minutes (stops after the current window).", DefaultValueFactory = _ => 20 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units per layer.", DefaultValueFactory = _ => 256 }.AtLeast(1);
        var layers = new Option<int>("--layers") { Description = "Stacked layers.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var cell = new Option<RecurrentCell>("--cell") { Description = "Lstm, Gru or Simple.", DefaultValueFactory = _ => RecurrentCell.Lstm };
        var sequenceLength = new Option<int>("--sequence-length") { Description = "Truncated BPTT window.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Texts per batch.", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var learningRate = new Option<double>("--learning-rate") { Description = "Adam learning rate.", DefaultValueFactory = _ => 3e-3 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads (1: a recurrent step is many small operations, and on a loaded machine every extra thread makes each wait on the slowest).", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the network and the samples.", DefaultValueFactory = _ => 1 };
        var prompt = new Option<string>("--prompt") { Description = "Prompt of the samples.", DefaultValueFactory = _ => "The " };
        return BenchmarkCommand.Create("language-model",
            "Character language model on fortunes: held-out bits per character against xz -9 (alone and conditioned on the training text), and samples.",
            [categories, perCategory, testFraction, epochs, minutes, hidden, layers, cell, sequenceLength, batch, learningRate, dropout, threads, seed, prompt],
            parse => Run(new Settings(
                [.. parse.GetValue(categories)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                parse.GetValue(perCategory), parse.GetValue(testFraction), parse.GetValue(epochs), parse.GetValue(minutes), parse.GetValue(hidden),
                parse.GetValue(layers), parse.GetValue(cell), parse.GetValue(sequenceLength), parse.GetValue(batch), parse.GetValue(learningRate),
                parse.GetValue(dropout), parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(prompt)!)));
    }

    private sealed record Settings(IReadOnlyList<string> Categories, int? PerCategory, double TestFraction, int Epochs, double Minutes, int Hidden, int Layers,
        RecurrentCell Cell, int SequenceLength, int Batch, double LearningRate, double Dropout, int Threads, int Seed, string Prompt);

    private static BenchmarkReport Run(Settings s)
    {
        var context = new MLContext(seed: s.Seed);
        var (train, test) = Split(Fortunes.Read(DataDirectory(), s.Categories), s.PerCategory, s.TestFraction, s.Seed);
        long trainCharacters = train.Sum(t => t.Text.Length + 1L), testCharacters = test.Sum(t => t.Text.Length + 1L);
        BenchmarkCommand.Progress($"{train.Count} training fortunes ({trainCharacters:N0} characters with one line break each), {test.Count} held out ({testCharacters:N0})");

        string folder = Directory.CreateTempSubdirectory("lm-bench-").FullName;
        string trainFile = Path.Combine(folder, "train.txt"), testFile = Path.Combine(folder, "test.txt"), bothFile = Path.Combine(folder, "train-test.txt");
        // One fortune per line, Latin-1 (one byte per character, as the files are read): xz sees exactly the model's symbols.
        File.WriteAllText(trainFile, Lines(train), Encoding.Latin1);
        File.WriteAllText(testFile, Lines(test), Encoding.Latin1);
        File.WriteAllText(bothFile, Lines(train) + Lines(test), Encoding.Latin1);
        long xzTest = XzBytes(testFile), xzTrain = XzBytes(trainFile), xzBoth = XzBytes(bothFile);
        double xzAlone = xzTest * 8.0 / testCharacters, xzConditional = (xzBoth - xzTrain) * 8.0 / testCharacters;
        BenchmarkCommand.Progress($"xz -9: {xzAlone:F3} bits/char alone, {xzConditional:F3} conditioned on the training text");

        var budget = new TimeBudget(TimeSpan.FromMinutes(s.Minutes));
        var options = new CharacterLanguageModelOptions
        {
            TextColumnName = nameof(FortuneText.Text),
            Cell = s.Cell,
            HiddenUnits = s.Hidden,
            Layers = s.Layers,
            SequenceLength = s.SequenceLength,
            BatchSize = s.Batch,
            Dropout = s.Dropout,
            Epochs = s.Epochs,
            Seed = s.Seed,
            IntraOpThreads = s.Threads,
            Optimizer = new OptimizerOptions { LearningRate = s.LearningRate },
            Callbacks = [budget],
            Progress = new Progress<TrainingProgress>(p => BenchmarkCommand.Progress(
                $"epoch {p.Epoch}: train {p.Logs["bits_per_character"]:F3} bits/char, held out {p.Logs.GetValueOrDefault("val_bits_per_character", double.NaN):F3}, {p.GlobalStep} steps, {p.Elapsed.TotalMinutes:F1} min")),
        };
        var trainData = context.Data.LoadFromEnumerable(train);
        var testData = context.Data.LoadFromEnumerable(test);
        var clock = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using var model = context.Transforms.Text.CharacterLanguageModel(options).Fit(trainData, testData);
        clock.Stop();
        // The share of the CPU the training got: on a shared machine a time budget buys fewer steps.
        double cpuMinutes = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMinutes;
        double bits = model.BitsPerCharacter(testData);
        // The running mean over the last (possibly partial) epoch, as trained: re-scoring 1.1M characters costs minutes.
        double trainBits = model.History["bits_per_character"][^1];
        int epochsRun = model.History.Epochs.Count;
        long steps = budget.Steps;
        BenchmarkCommand.Progress($"ours: {bits:F3} bits/char held out ({trainBits:F3} on the training text), {steps} steps, {clock.Elapsed.TotalMinutes:F1} min ({cpuMinutes:F1} min of CPU)");

        var samples = new[] { (0.5, (int?)null), (0.8, (int?)10), (1.0, (int?)null) }
            .Select((t, i) => (t.Item1, t.Item2, Text: model.Generate(s.Prompt, 300, new GenerationOptions { Temperature = t.Item1, TopK = t.Item2, Seed = s.Seed + i })))
            .ToList();
        Directory.Delete(folder, recursive: true);

        var table = new ReportTable(("Method", false), ("Held-out bits per character", true));
        table.AddRow($"ML.DeepExtensions {s.Cell} {s.Layers}x{s.Hidden}", Statistics.Number(bits, 3));
        table.AddRow("xz -9 on the held-out text alone", Statistics.Number(xzAlone, 3));
        table.AddRow("xz -9 conditioned on the training text: xz(train + test) − xz(train)", Statistics.Number(xzConditional, 3));
        return new BenchmarkReport()
            .Paragraph($"Fortunes (Debian package `fortunes`), categories {string.Join(", ", s.Categories)}: {train.Count:N0} training fortunes ({trainCharacters:N0} symbols) and {test.Count:N0} held out ({testCharacters:N0} symbols; the last {s.TestFraction:P0} of each category after a seeded shuffle, seed {s.Seed}). A symbol is a character or the end of a fortune (a line break for xz, which reads one fortune per line in Latin-1, one byte per character). Ours: CharacterLanguageModel, {s.Cell} {s.Layers} x {s.Hidden}, embedding 64, dropout {s.Dropout}, truncated BPTT windows of {s.SequenceLength}, batches of {s.Batch} fortunes, Adam {s.LearningRate}, gradient norm clipped at 1, {epochsRun} epoch(s) (the last may be partial), {steps:N0} steps, in {clock.Elapsed.TotalMinutes:F1} min with {cpuMinutes:F1} min of CPU time (budget {s.Minutes} min, {s.Threads} libtorch thread(s)); {trainBits:F3} bits/char on the training text during the last epoch.")
            .Table(table)
            .Bullets([
                $"Ours against xz alone: {bits - xzAlone:+0.000;-0.000} bits/char; against xz conditioned on the training text: {bits - xzConditional:+0.000;-0.000} (goal: below xz).",
                .. samples.Select(x => (FormattableString)$"Sample, prompt \"{s.Prompt}\", temperature {x.Item1}{(x.Item2 is int k ? $", top-k {k}" : "")}: `{s.Prompt}{x.Text.Replace("`", "'", StringComparison.Ordinal)}`"),
            ]);
    }

    private static string Lines(IEnumerable<FortuneText> texts) => string.Concat(texts.Select(t => t.Text + "\n"));

    private static long XzBytes(string path)
    {
        var start = new ProcessStartInfo("xz", ["-9", "-c", "-k", path]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("xz could not be started; install the Debian package xz-utils.");
        using var buffer = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(buffer);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"xz -9 failed on '{path}' with exit code {process.ExitCode}.");
        }

        return buffer.Length;
    }

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

    private static string DataDirectory()
    {
        string repository = Path.Combine(VisionBenchmarkSetup.RepositoryRoot(), ".data", "fortunes");
        return Directory.Exists(repository) ? repository : Fortunes.DefaultDirectory;
    }

    /// <summary>Ends training after the window during which the budget ran out.</summary>
    private sealed class TimeBudget(TimeSpan budget) : ITrainingCallback
    {
        private readonly Stopwatch _clock = new();

        public bool ReadsBatchLogs => false;

        public long Steps { get; private set; }

        public void OnTrainBegin(TrainingRun run) => _clock.Start();

        public void OnTrainEnd(TrainingRun run) => Steps = run.Step;

        public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs)
        {
            if (globalStep % 200 == 0)
            {
                BenchmarkCommand.Progress($"step {globalStep}, {_clock.Elapsed.TotalMinutes:F1} min");
            }

            if (_clock.Elapsed > budget)
            {
                run.StopTraining = true;
            }
        }
    }
}
