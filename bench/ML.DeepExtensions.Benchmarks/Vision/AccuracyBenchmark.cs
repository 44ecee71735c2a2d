using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// The full Fashion-MNIST run: train on all 60,000 images through the ML.NET trainer, evaluate on
/// the 10,000 test images, and record per-epoch time and resident memory (after a full collection).
/// </summary>
internal static class AccuracyBenchmark
{
    public static Command Create()
    {
        var architecture = VisionBenchmarkSetup.ArchitectureOption();
        var epochs = new Option<int>("--epochs") { Description = "Epochs of the accuracy run.", DefaultValueFactory = _ => 15 }.AtLeast(1);
        var threads = VisionBenchmarkSetup.ThreadsOption();
        var rows = new Option<int?>("--rows") { Description = "Train on the first N training images only (for a quick check; the default is all 60,000)." };
        rows.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--rows must be at least 1.");
            }
        });
        return BenchmarkCommand.Create("vision-accuracy", "Full Fashion-MNIST training and test accuracy, with per-epoch time and memory.",
            [architecture, epochs, threads, rows],
            parse => Run(parse.GetValue(architecture)!, parse.GetValue(epochs), parse.GetValue(threads), parse.GetValue(rows)));
    }

    public static BenchmarkReport Run(string architecture, int epochs, int threads, int? rows = null)
    {
        var context = new MLContext(seed: 1);
        var train = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, rows);
        var test = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Test);
        var recorder = new EpochRecorder();
        var options = VisionBenchmarkSetup.AccuracyOptions(VisionBenchmarkSetup.Architecture(architecture), epochs, threads, [recorder]);
        double residentBefore = VisionBenchmarkSetup.ResidentMiB();

        var fit = Stopwatch.StartNew();
        var model = context.MulticlassClassification.Trainers.ImageClassifier(options).Fit(train);
        fit.Stop();
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(test));
        using var process = Process.GetCurrentProcess();

        var table = new ReportTable(("Epoch", true), ("Seconds", true), ("Loss", true), ("Train accuracy", true), ("Resident MiB after epoch", true));
        foreach (var epoch in recorder.Epochs)
        {
            table.AddRow(epoch.Number.ToString(CultureInfo.InvariantCulture), Statistics.Number(epoch.Seconds, 1), Statistics.Number(epoch.Loss, 4),
                epoch.Accuracy.ToString("P2", CultureInfo.InvariantCulture), Statistics.Number(epoch.ResidentMiB, 0));
        }

        return new BenchmarkReport()
            .Paragraph($"Architecture `{architecture}`, {(rows is int n ? "the first " + n.ToString("N0", CultureInfo.InvariantCulture) + " training images" : "all 60,000 training images")}, {epochs} epochs, batch 128, AdamW 3e-3 (weight decay 5e-4), one-cycle, crop (padding 2) + flip, seed 1, {threads} libtorch thread(s).")
            .Table(table)
            .Bullets(
                $"Test accuracy (10,000 images): **{metrics.MicroAccuracy:P2}**, macro {metrics.MacroAccuracy:P2}, log-loss {metrics.LogLoss:F4}",
                $"Full `Fit` (statistics pass, training, ONNX export): **{fit.Elapsed.TotalMinutes:F1} min**; training loop alone {recorder.Epochs.Sum(e => e.Seconds) / 60:F1} min",
                $"Resident memory: {residentBefore:F0} MiB before `Fit`, after epoch 2 {recorder.Epochs.ElementAtOrDefault(1)?.ResidentMiB ?? double.NaN:F0} MiB, after the last epoch {recorder.Epochs[^1].ResidentMiB:F0} MiB; peak working set of the process {process.PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB");
    }

    private sealed record EpochRecord(int Number, double Seconds, double Loss, double Accuracy, double ResidentMiB);

    private sealed class EpochRecorder : ITrainingCallback
    {
        private readonly Stopwatch _stopwatch = new();

        public List<EpochRecord> Epochs { get; } = [];

        public void OnEpochBegin(TrainingRun run, int epoch) => _stopwatch.Restart();

        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
        {
            double seconds = _stopwatch.Elapsed.TotalSeconds;
            Epochs.Add(new EpochRecord(epoch + 1, seconds, logs["loss"], logs["accuracy"], VisionBenchmarkSetup.ResidentMiB()));
            BenchmarkCommand.Progress($"epoch {epoch + 1}: {seconds:F1} s, loss {logs["loss"]:F4}, accuracy {logs["accuracy"]:P2}");
        }
    }
}
