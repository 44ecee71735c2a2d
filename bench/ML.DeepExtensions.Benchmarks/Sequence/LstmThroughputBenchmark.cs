using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Datasets;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Sequence;

/// <summary>
/// Training sequences per second of one LSTM classifier (Fashion-MNIST images as 28 steps of 28
/// pixels, an LSTM, its last state, a dense layer to 10 classes), five ways, interleaved round by
/// round: <c>SequenceClassifier.Fit</c> streaming from the IDataView (epoch begin to epoch end), the
/// same over ML.NET's cache of that view, the later epochs of a 3-epoch Fit (steady state: the next
/// epoch is read while one trains), a hand-written TorchSharp loop over tensors built beforehand with the very same network module, and
/// PyTorch 1.13 (Debian's python3-torch) with <c>nn.LSTM</c> of the same size. Same batch size,
/// optimizer (AdamW 1e-3) and thread count everywhere.
/// </summary>
internal static class LstmThroughputBenchmark
{
    public static Command Create()
    {
        var rows = new Option<int>("--rows") { Description = "Training images per epoch.", DefaultValueFactory = _ => 6400 }.AtLeast(128);
        var units = new Option<int>("--units") { Description = "LSTM units.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var rounds = new Option<int>("--rounds") { Description = "Interleaved timed rounds after a warm-up round.", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "libtorch threads on every side.", DefaultValueFactory = _ => 2 }.AtLeast(1);
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per batch.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var python = new Option<string?>("--python") { Description = "Python with torch for the PyTorch peer (Debian: /usr/bin/python3); omit to skip it." };
        return BenchmarkCommand.Create("lstm-throughput", "Training sequences/s of an LSTM classifier: SequenceClassifier.Fit vs a hand-written TorchSharp loop vs PyTorch, interleaved.",
            [rows, units, rounds, threads, batchSize, python],
            parse => Run(parse.GetValue(rows), parse.GetValue(units), parse.GetValue(rounds), parse.GetValue(threads), parse.GetValue(batchSize), parse.GetValue(python)));
    }

    public static BenchmarkReport Run(int rows, int units, int rounds, int threads, int batchSize, string? python)
    {
        set_num_threads(threads);
        NetworkLayer[] layers = [Layer.Lstm(units), Layer.SequencePooling(SequencePoolingMode.Last)];
        var context = new MLContext(seed: 1);
        var data = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, rows);
        var pixels = data.GetColumn<float[]>("Features").SelectMany(p => p).ToArray();
        var labels = data.GetColumn<uint>("Label").Select(l => (long)l - 1).ToArray();
        var (mean, std) = ColumnStatistics(pixels);
        using var sequences = tensor(pixels, [rows, 28, 28]);
        using var targets = tensor(labels);

        // The same rows from ML.NET's cache: the file is gzipped IDX, which every streaming pass decompresses.
        var cached = context.Data.Cache(data);
        var sides = new InterleavedSides()
            .Add("ML.NET pipeline (SequenceClassifier, streaming from IDataView)", () => Trainer(context, data, layers, rows, threads, batchSize), bold: true)
            .Add("ML.NET pipeline, the same rows from ML.NET's cache (mlContext.Data.Cache)", () => Trainer(context, cached, layers, rows, threads, batchSize), bold: true)
            .Add("ML.NET pipeline, streaming, epochs 2-3 of a 3-epoch Fit (each reads the next epoch ahead while it trains)", () => Trainer(context, data, layers, rows, threads, batchSize, epochs: 3), bold: true)
            .Add("Hand-written TorchSharp loop, same network module, pre-built tensors", () => RawLoop(sequences, targets, layers, mean, std, batchSize))
            .Add("PyTorch 1.13 (Debian python3-torch), nn.LSTM of the same size", () => python is null ? null : PyTorch(python, rows, units, threads, batchSize))
            .Run(rounds, "sequences/s");
        var table = sides.Table("sequences/s", reference: 3);

        return new BenchmarkReport()
            .Paragraph($"Fashion-MNIST, {rows:N0} images per epoch as 28 steps of 28 pixels; LSTM {units}, last state, dense 10; batch {batchSize}, AdamW 1e-3, {threads} libtorch thread(s); {rounds} interleaved rounds after a warm-up round (the order rotating), one epoch per side per round (the steady-state side: epochs 2-3 of a 3-epoch Fit, their median).")
            .Table(table);
    }

    /// <summary>Mean and deviation of each of the 28 pixel columns over all steps of all images, as the trainer computes them.</summary>
    private static (float[] Mean, float[] Std) ColumnStatistics(float[] pixels)
    {
        var sum = new double[28];
        var squares = new double[28];
        for (int i = 0; i < pixels.Length; i++)
        {
            sum[i % 28] += pixels[i];
            squares[i % 28] += (double)pixels[i] * pixels[i];
        }

        double n = pixels.Length / 28.0;
        var mean = sum.Select(s => (float)(s / n)).ToArray();
        var std = squares.Select((s, k) => (float)Math.Max(Math.Sqrt(Math.Max(0, (s / n) - (mean[k] * (double)mean[k]))), 1e-6)).ToArray();
        return (mean, std);
    }

    /// <summary>Rows per second of a Fit's epochs after the first (the first alone when <paramref name="epochs"/> is 1), median.</summary>
    private static double Trainer(MLContext context, IDataView data, NetworkLayer[] layers, int rows, int threads, int batchSize, int epochs = 1)
    {
        var timer = new EpochTimer();
        var options = new SequenceClassifierOptions
        {
            Steps = 28,
            StepFeatures = 28,
            Architecture = layers,
            Epochs = epochs,
            Data = { BatchSize = batchSize },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3 },
            IntraOpThreads = threads,
            Seed = 1,
            Callbacks = [timer],
        };
        using var model = context.MulticlassClassification.Trainers.SequenceClassifier(options).Fit(data);
        return rows / Statistics.Median(epochs == 1 ? timer.Epochs : timer.Epochs.Skip(1).ToList());
    }

    private static double RawLoop(Tensor sequences, Tensor targets, NetworkLayer[] layers, float[] mean, float[] std, int batchSize)
    {
        random.manual_seed(1);
        var network = NetworkBuilder.Build(layers, [28, 28], 10, new Standardization(mean, std));
        return Engine.RawClassifierEpoch.RowsPerSecond(network, sequences, targets, batchSize);
    }

    private static double? PyTorch(string python, int rows, int units, int threads, int batchSize) =>
        PythonPeer.ImagesPerSecond(python, "lstm_throughput.py",
            ["--rows", rows.ToString(CultureInfo.InvariantCulture), "--units", units.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
             "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture), "--data", VisionBenchmarkSetup.DataDirectory()]);
}
