using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Networks.Vision;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// Training images per second of the same network, batch size, optimizer and thread count, three ways,
/// interleaved round by round: the ML.NET trainer streaming from the IDataView (the training loop's
/// time, from epoch begin to epoch end), a hand-written TorchSharp loop over tensors built beforehand,
/// and PyTorch (Debian's python3-torch) on the same architecture. No augmentation on any side.
/// </summary>
internal static class TrainingThroughputBenchmark
{
    public static Command Create()
    {
        var architecture = VisionBenchmarkSetup.ArchitectureOption();
        var rows = VisionBenchmarkSetup.RowsOption();
        var rounds = VisionBenchmarkSetup.RoundsOption();
        var threads = VisionBenchmarkSetup.ThreadsOption();
        var batchSize = VisionBenchmarkSetup.BatchSizeOption();
        var python = new Option<string?>("--python") { Description = "Python with torch for the PyTorch peer (Debian: /usr/bin/python3 with python3-torch); omit to skip it." };
        return BenchmarkCommand.Create("vision-training-throughput", "Training images/s: ML.NET trainer vs raw TorchSharp loop vs PyTorch, interleaved.",
            [architecture, rows, rounds, threads, batchSize, python],
            parse => Run(parse.GetValue(architecture)!, parse.GetValue(rows), parse.GetValue(rounds), parse.GetValue(threads), parse.GetValue(batchSize), parse.GetValue(python)));
    }

    public static BenchmarkReport Run(string architecture, int rows, int rounds, int threads, int batchSize, string? python)
    {
        set_num_threads(threads);
        var layers = VisionBenchmarkSetup.Architecture(architecture);
        var context = new MLContext(seed: 1);
        var data = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, rows);
        var pixels = data.GetColumn<float[]>("Features").SelectMany(p => p).ToArray();
        var labels = data.GetColumn<uint>("Label").Select(l => (long)l - 1).ToArray();
        using var images = tensor(pixels, [rows, 1, 28, 28]);
        using var targets = tensor(labels);

        var table = new InterleavedSides()
            .Add("ML.NET pipeline (ImageClassifier, streaming from IDataView)", () => Trainer(context, data, layers, rows, threads, batchSize), bold: true)
            .Add("Raw TorchSharp loop over pre-built tensors", () => RawLoop(images, targets, layers, batchSize))
            .Add("PyTorch (Debian python3-torch)", () => python is null ? null : PyTorch(python, architecture, rows, threads, batchSize))
            .Run(rounds, "images/s")
            .Table("images/s", reference: 1);

        return new BenchmarkReport()
            .Paragraph($"Architecture `{architecture}`, {rows:N0} images per epoch, batch {batchSize}, AdamW, {threads} thread(s), {rounds} interleaved rounds after a warm-up round.")
            .Table(table);
    }

    private static double Trainer(MLContext context, IDataView data, IReadOnlyList<NetworkLayer> layers, int rows, int threads, int batchSize)
    {
        var timer = new EpochTimer();
        var options = new ImageClassifierOptions
        {
            Architecture = layers,
            Epochs = 1,
            Data = { BatchSize = batchSize },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3 },
            IntraOpThreads = threads,
            Seed = 1,
            Callbacks = [timer],
        };
        context.MulticlassClassification.Trainers.ImageClassifier(options).Fit(data);
        return rows / timer.Seconds;
    }

    private static double RawLoop(Tensor images, Tensor targets, IReadOnlyList<NetworkLayer> layers, int batchSize)
    {
        random.manual_seed(1);
        var network = NetworkBuilder.Build(layers, [1, 28, 28], 10, new ImageNormalization(1f / 255f, [0.286f], [0.353f]));
        return Engine.RawClassifierEpoch.RowsPerSecond(network, images, targets, batchSize);
    }

    private static double? PyTorch(string python, string architecture, int rows, int threads, int batchSize) =>
        PythonPeer.ImagesPerSecond(python, "fashion_cnn_throughput.py",
            ["--architecture", architecture, "--rows", rows.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
             "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture), "--data", VisionBenchmarkSetup.DataDirectory()]);
}
