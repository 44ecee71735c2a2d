using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// The full Fashion-MNIST run: train on all 60,000 images through the ML.NET trainer, evaluate on
/// the 10,000 test images, and record per-epoch time and resident memory (after a full collection).
/// </summary>
internal static class AccuracyBenchmark
{
    public static string Run(string architecture, int epochs, int threads)
    {
        var context = new MLContext(seed: 1);
        var train = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train);
        var test = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Test);
        var recorder = new EpochRecorder();
        var options = VisionBenchmarkSetup.AccuracyOptions(VisionBenchmarkSetup.Architecture(architecture), epochs, threads, [recorder]);
        string loadBefore = VisionBenchmarkSetup.LoadAverage();
        double residentBefore = VisionBenchmarkSetup.ResidentMiB();

        var fit = Stopwatch.StartNew();
        var model = context.MulticlassClassification.Trainers.ImageClassifier(options).Fit(train);
        fit.Stop();
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(test));
        using var process = Process.GetCurrentProcess();

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Architecture `{architecture}`, {epochs} epochs, batch 128, AdamW 3e-3 (weight decay 5e-4), one-cycle, crop (padding 2) + flip, seed 1, {threads} libtorch thread(s); {VisionBenchmarkSetup.Machine()}; load average {loadBefore} before, {VisionBenchmarkSetup.LoadAverage()} after.");
        report.AppendLine();
        report.AppendLine("| Epoch | Seconds | Loss | Train accuracy | Resident MiB after epoch |");
        report.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var epoch in recorder.Epochs)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"| {epoch.Number} | {epoch.Seconds:F1} | {epoch.Loss:F4} | {epoch.Accuracy:P2} | {epoch.ResidentMiB:F0} |");
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"- Test accuracy (10,000 images): **{metrics.MicroAccuracy:P2}**, macro {metrics.MacroAccuracy:P2}, log-loss {metrics.LogLoss:F4}");
        report.AppendLine(CultureInfo.InvariantCulture, $"- Full `Fit` (statistics pass, training, ONNX export): **{fit.Elapsed.TotalMinutes:F1} min**; training loop alone {recorder.Epochs.Sum(e => e.Seconds) / 60:F1} min");
        report.AppendLine(CultureInfo.InvariantCulture, $"- Resident memory: {residentBefore:F0} MiB before `Fit`, after epoch 2 {recorder.Epochs.ElementAtOrDefault(1)?.ResidentMiB ?? double.NaN:F0} MiB, after the last epoch {recorder.Epochs[^1].ResidentMiB:F0} MiB; peak working set of the process {process.PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB");
        return report.ToString();
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
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}: {seconds:F1} s, loss {logs["loss"]:F4}, accuracy {logs["accuracy"]:P2}"));
        }
    }
}
