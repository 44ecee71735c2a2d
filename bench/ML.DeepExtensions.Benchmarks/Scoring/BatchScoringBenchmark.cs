using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using ML.DeepExtensions.Benchmarks.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Vision;

namespace ML.DeepExtensions.Benchmarks.Scoring;

/// <summary>
/// <c>batch-scoring</c>: rows/s of a saved model through four paths, side by side in interleaved
/// rounds (medians): <c>Transform</c> (ML.NET's OnnxTransformer, row by row), the library's
/// <see cref="BatchScorer"/>, the <c>mldx score</c> tool end to end (CSV in, CSV out, process start
/// included), and raw ONNX Runtime on a batched graph of the same network over in-memory arrays;
/// plus reading the input view alone, the cost every IDataView path pays before any model runs.
/// Models: a SmallVgg CNN on Fashion-MNIST and an MLP on the digits set. Then the tool's peak
/// memory on a generated digits CSV of two sizes (goal: flat).
/// </summary>
internal static class BatchScoringBenchmark
{
    public static Command Command()
    {
        var rows = new Option<int>("--rows") { Description = "Rows per timed pass of the CNN (Fashion-MNIST test images, repeated).", DefaultValueFactory = _ => 10_000 };
        var mlpRows = new Option<int>("--mlp-rows") { Description = "Rows per timed pass of the MLP (digits rows repeated); the MLP scores ~2M rows/s, so a pass needs many rows to outlast timer and GC jitter.", DefaultValueFactory = _ => 1_000_000 };
        var models = new Option<string>("--models") { Description = "Which models to measure: all, cnn or mlp.", DefaultValueFactory = _ => "all" };
        models.AcceptOnlyFromAmong("all", "cnn", "mlp");
        var rounds = new Option<int>("--rounds") { Description = "Interleaved timed rounds after a warm-up round.", DefaultValueFactory = _ => 3 };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per ONNX Runtime call in the batched paths.", DefaultValueFactory = _ => 256 };
        var threads = new Option<int?>("--intra-op-threads") { Description = "ONNX Runtime threads inside one call, for BatchScorer, mldx and the raw path alike; default: ONNX Runtime's (one per physical core)." };
        var trainRows = new Option<int>("--train-rows") { Description = "Fashion-MNIST images to train the CNN on (one epoch; speed does not depend on accuracy).", DefaultValueFactory = _ => 2000 };
        var memoryRows = new Option<int[]>("--memory-rows") { Description = "Sizes of the generated CSVs for the peak-memory runs.", DefaultValueFactory = _ => [100_000, 1_000_000], AllowMultipleArgumentsPerToken = true };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file." };
        var command = new Command("batch-scoring", "Scoring rows/s: Transform row by row vs BatchScorer vs the mldx CLI vs raw batched ONNX Runtime, and the CLI's peak memory on large CSVs.")
        {
            rows, mlpRows, models, rounds, batchSize, threads, trainRows, memoryRows, output,
        };
        command.SetAction(parse =>
        {
            string report = Run(parse.GetValue(rows), parse.GetValue(mlpRows), parse.GetValue(models)!, parse.GetValue(rounds), parse.GetValue(batchSize), parse.GetValue(threads), parse.GetValue(trainRows), parse.GetValue(memoryRows) ?? []);
            Console.WriteLine(report);
            if (parse.GetValue(output) is { } file)
            {
                File.WriteAllText(file.FullName, report);
            }

            return 0;
        });
        return command;
    }

    // RawGraph: the network alone, batch-first. ScorerGraph: what BatchScorer runs for a multiclass
    // model, the same network with the softmax as a second output.
    private sealed record Subject(string Name, ITransformer Model, DataViewSchema Schema, IDataView Data, float[][] Features, byte[] RawGraph, byte[] ScorerGraph, long[] RowShape);

    public static string Run(int rows, int mlpRows, string models, int rounds, int batchSize, int? threads, int trainRows, int[] memoryRows)
    {
        string folder = Directory.CreateTempSubdirectory("mldx-bench-scoring-").FullName;
        try
        {
            string loadBefore = Machine.LoadAverage();
            var report = new StringBuilder();
            var subjects = new List<(Subject Subject, int Rows)>();
            if (models is "all" or "cnn")
            {
                subjects.Add((FashionCnn(rows, trainRows), rows));
            }

            var digits = DigitsMlp(mlpRows);
            if (models is "all" or "mlp")
            {
                subjects.Add((digits, mlpRows));
            }

            string sizes = string.Join(", ", subjects.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Rows:N0} rows per pass for the {s.Subject.Name}")));
            report.AppendLine(CultureInfo.InvariantCulture, $"{sizes}; {rounds} interleaved rounds after a warm-up round, batch {batchSize}, {(threads is { } t ? $"{t} ONNX Runtime thread(s) per call" : "ONNX Runtime default threading")}; {Environment.ProcessorCount} cores, {Cpu()}; load {loadBefore} before.");
            report.AppendLine();
            report.AppendLine("| Model | Path | Median rows/s | Rounds | vs raw ONNX Runtime, same graph | vs raw, network only |");
            report.AppendLine("|---|---|---:|---|---:|---:|");
            foreach (var (subject, subjectRows) in subjects)
            {
                Measure(subject, subjectRows, rounds, batchSize, threads, folder, report);
            }

            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"Peak resident memory of `mldx score` (digits MLP, CSV in and out, batch {batchSize}), as the tool reports it (kernel VmHWM):");
            report.AppendLine();
            report.AppendLine("| Rows | CSV size | Seconds | Peak memory |");
            report.AppendLine("|---:|---:|---:|---:|");
            string model = Path.Combine(folder, "digits.zip");
            new MLContext().Model.Save(digits.Model, digits.Schema, model);
            foreach (int n in memoryRows)
            {
                string csv = Path.Combine(folder, $"digits-{n}.csv");
                WriteCsv(csv, digits.Features, n);
                var (seconds, summary) = RunCli(model, csv, Path.Combine(folder, "out.csv"), batchSize, threads);
                report.AppendLine(CultureInfo.InvariantCulture, $"| {n:N0} | {new FileInfo(csv).Length / (1024.0 * 1024.0):F0} MiB | {seconds:F1} | {PeakMiB(summary)} |");
                File.Delete(csv);
            }

            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"Load {Machine.LoadAverage()} after.");
            return report.ToString();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Measure(Subject subject, int rows, int rounds, int batchSize, int? threads, string folder, StringBuilder report)
    {
        string model = Path.Combine(folder, subject.Name + ".zip");
        new MLContext().Model.Save(subject.Model, subject.Schema, model);
        var loaded = new MLContext().Model.Load(model, out _);
        using var scorer = new MLContext().Model.CreateBatchScorer(model, out _, new BatchScorerOptions { BatchSize = batchSize, IntraOpThreads = threads });
        using var readAhead = new MLContext().Model.CreateBatchScorer(model, out _, new BatchScorerOptions { BatchSize = batchSize, IntraOpThreads = threads, ReadAhead = true });
        string csv = Path.Combine(folder, subject.Name + ".csv");
        WriteCsv(csv, subject.Features, rows);
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads is { } count)
        {
            sessionOptions.IntraOpNumThreads = count;
        }

        using var raw = new InferenceSession(subject.RawGraph, sessionOptions);
        using var sameGraph = new InferenceSession(subject.ScorerGraph, sessionOptions);
        var flat = subject.Features.SelectMany(f => f).ToArray();
        int width = subject.Features[0].Length;

        var results = new Dictionary<string, List<double>>
        {
            ["Transform (OnnxTransformer, row by row)"] = [],
            ["BatchScorer"] = [],
            [threads is null ? "BatchScorer, ReadAhead = true (ONNX Runtime threads: cores - 1)" : "BatchScorer, ReadAhead = true"] = [],
            ["mldx score, CSV in and out, end to end"] = [],
            ["Reading the input view alone (no model): the floor under Transform and BatchScorer"] = [],
            ["Raw ONNX Runtime, network only, in-memory arrays"] = [],
            [SameGraph] = [],
        };
        var paths = results.Keys.ToArray();
        for (int round = 0; round <= rounds; round++)
        {
            double[] rates =
            [
                rows / Time(() => Drain(loaded.Transform(subject.Data))),
                rows / Time(() => Drain(scorer.Transform(subject.Data))),
                rows / Time(() => Drain(readAhead.Transform(subject.Data))),
                rows / RunCli(model, csv, Path.Combine(folder, "out.csv"), batchSize, threads).Seconds,
                rows / Time(() => DrainFeatures(subject.Data)),
                rows / Time(() => RawOnnx(raw, flat, rows, width, subject.RowShape, batchSize)),
                rows / Time(() => RawOnnx(sameGraph, flat, rows, width, subject.RowShape, batchSize)),
            ];
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{subject.Name} round {round}: {string.Join(", ", rates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))} rows/s"));
            if (round > 0)
            {
                for (int i = 0; i < paths.Length; i++)
                {
                    results[paths[i]].Add(rates[i]);
                }
            }
        }

        double networkOnly = Statistics(results[paths[^2]]);
        double same = Statistics(results[SameGraph]);
        foreach (var path in paths)
        {
            double median = Statistics(results[path]);
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {subject.Name} | {path} | {median:F0} | {string.Join(", ", results[path].Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))} | {median / same:F3} | {median / networkOnly:F3} |");
        }
    }

    private static Subject FashionCnn(int rows, int trainRows)
    {
        var context = new MLContext(seed: 1);
        string data = Path.Combine(RepositoryRoot(), ".data", "fashion-mnist");
        var train = context.Data.LoadFashionMnist(FashionMnistSplit.Train, data, trainRows);
        var test = context.Data.LoadFashionMnist(FashionMnistSplit.Test, data, Math.Min(rows, 10_000));
        var model = context.MulticlassClassification.Trainers.ImageClassifier(architecture: Architectures.SmallVgg, epochs: 1).Fit(train);
        var features = Repeat(test.GetColumn<float[]>("Features").ToArray(), rows);
        var view = InMemory(context, features);
        return new Subject("Fashion-MNIST SmallVgg", model, train.Schema, view, features, RawGraph(model, [1, 28, 28], softmax: false), RawGraph(model, [1, 28, 28], softmax: true), [1, 28, 28]);
    }

    private static Subject DigitsMlp(int rows)
    {
        var context = new MLContext(seed: 1);
        var digits = SklearnDataset.Digits.Load(context);
        var keyed = context.Transforms.Conversion.MapValueToKey("Label").Fit(digits).Transform(digits);
        var model = context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [64, 32], epochs: 5).Fit(keyed);
        var features = Repeat(digits.GetColumn<float[]>("Features").ToArray(), rows);
        return new Subject("digits MLP", model, keyed.Schema, InMemory(context, features), features, RawGraph(model, [64], softmax: false), RawGraph(model, [64], softmax: true), [64]);
    }

    private const string SameGraph = "Raw ONNX Runtime, the scorer's graph (logits and softmax), in-memory arrays";

    /// <summary>
    /// The same trained network exported batch-first by the public exporter: [N, ...row] → logits [N, K];
    /// with <paramref name="softmax"/>, also their softmax as a second output, as BatchScorer computes for a multiclass model.
    /// </summary>
    private static byte[] RawGraph(NeuralNetworkTransformer model, long[] rowShape, bool softmax)
    {
        var graph = new OnnxGraphBuilder("raw-batched");
        graph.AddInput("input", OnnxElementType.Float, [(OnnxDim)"N", .. rowShape.Select(d => (OnnxDim)d)]);
        string output = new OnnxModuleExporter().Export(graph, model.Network, "input");
        var classes = graph.TryGetType(output)!.Dims![^1];
        graph.AddOutput(output, "output", OnnxElementType.Float, "N", classes);
        if (softmax)
        {
            string probabilities = graph.AddNode("Softmax", [output], [OnnxAttribute.Int("axis", 1)]);
            graph.AddOutput(probabilities, "softmax", OnnxElementType.Float, "N", classes);
        }

        return graph.ToBytes();
    }

    private static void RawOnnx(InferenceSession session, float[] flat, int rows, int width, long[] rowShape, int batchSize)
    {
        using var runOptions = new RunOptions();
        for (int start = 0; start < rows; start += batchSize)
        {
            int count = Math.Min(batchSize, rows - start);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, flat.AsMemory(start * width, count * width), [count, .. rowShape]);
            using var outputs = session.Run(runOptions, ["input"], [input], session.OutputNames);
            _ = outputs[0].GetTensorDataAsSpan<float>().Length;
        }
    }

    private static void Drain(IDataView scored)
    {
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var value = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref value);
        }
    }

    private static void DrainFeatures(IDataView data)
    {
        var column = data.Schema["Features"];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var value = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref value);
        }
    }

    private static (double Seconds, string Summary) RunCli(string model, string input, string output, int batchSize, int? threads)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { MldxPath(), "score", model, input, "-o", output, "--force", "--no-progress", "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        if (threads is { } count)
        {
            start.ArgumentList.Add("--threads");
            start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        double seconds = stopwatch.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"mldx failed ({process.ExitCode}): {stderr.Result}");
        }

        return (seconds, stderr.Result);
    }

    private static string PeakMiB(string summary)
    {
        int at = summary.IndexOf("peak memory ", StringComparison.Ordinal);
        return at < 0 ? "n/a" : summary[(at + "peak memory ".Length)..].Split('.', '\n')[0].Trim();
    }

    private static void WriteCsv(string path, float[][] features, int rows)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write(string.Join(',', Enumerable.Range(0, features[0].Length).Select(i => $"Features.{i}")));
        writer.Write('\n');
        for (int r = 0; r < rows; r++)
        {
            var row = features[r % features.Length];
            for (int i = 0; i < row.Length; i++)
            {
                if (i > 0)
                {
                    writer.Write(',');
                }

                writer.Write(row[i].ToString("R", CultureInfo.InvariantCulture));
            }

            writer.Write('\n');
        }
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }

    private static IDataView InMemory(MLContext context, float[][] features)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features[0].Length);
        return context.Data.LoadFromEnumerable(features.Select(f => new FeatureRow { Features = f }).ToList(), schema);
    }

    private static float[][] Repeat(float[][] rows, int count) => Enumerable.Range(0, count).Select(i => rows[i % rows.Length]).ToArray();

    private static double Time(Action action)
    {
        var stopwatch = Stopwatch.StartNew();
        action();
        return stopwatch.Elapsed.TotalSeconds;
    }

    private static double Statistics(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Cpu() =>
        File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown CPU" : "unknown CPU";

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ML.DeepExtensions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("Run the benchmark from inside the ML.DeepExtensions repository.");
    }

    /// <summary>The mldx tool built next to this benchmark (same configuration), by the project reference.</summary>
    private static string MldxPath()
    {
        string configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        string path = Path.Combine(RepositoryRoot(), "tools", "ML.DeepExtensions.Cli", "bin", configuration, "net10.0", "mldx.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build tools/ML.DeepExtensions.Cli ({configuration}) first: {path} is missing.", path);
    }
}
