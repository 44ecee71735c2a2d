using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Benchmarks.Sequence;

/// <summary>
/// Fashion-MNIST read as sequences of 28 rows of 28 pixels: test accuracy of our LSTM and GRU sequence
/// classifiers. Anchor: the data set's own benchmark table has GRU+SVM at 89.7%.
/// </summary>
internal static class SequenceFashionMnistBenchmark
{
    public static Command Create()
    {
        var epochs = new Option<int>("--epochs") { Description = "Epochs per network.", DefaultValueFactory = _ => 15 }.AtLeast(1);
        var units = new Option<int>("--units") { Description = "Recurrent units per direction.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var trainRows = new Option<int?>("--train-rows") { Description = "Train on the first N images only (a quick check; default all 60,000)." };
        var testRows = new Option<int?>("--test-rows") { Description = "Test on the first N images only (default all 10,000)." };
        var cells = new Option<string>("--cells") { Description = "Recurrent cells, comma-separated (Lstm, Gru, Simple).", DefaultValueFactory = _ => "Lstm,Gru" };
        var threads = new Option<int>("--threads") { Description = "libtorch threads.", DefaultValueFactory = _ => 2 }.AtLeast(1);
        return BenchmarkCommand.Create("sequence-fashion-mnist",
            "Fashion-MNIST as 28 row steps of 28 pixels: test accuracy of our LSTM and GRU sequence classifiers (anchor: GRU+SVM 89.7%).",
            [epochs, units, trainRows, testRows, cells, threads],
            parse => Run(parse.GetValue(epochs), parse.GetValue(units), parse.GetValue(trainRows), parse.GetValue(testRows),
                [.. parse.GetValue(cells)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => Enum.Parse<RecurrentCell>(c, ignoreCase: true))],
                parse.GetValue(threads)));
    }

    public static BenchmarkReport Run(int epochs, int units, int? trainRows, int? testRows, IReadOnlyList<RecurrentCell> cells, int threads)
    {
        var context = new MLContext(seed: 1);
        var train = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, trainRows);
        var test = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Test, testRows);
        var table = new ReportTable(("Network", false), ("Test accuracy", true), ("Fit minutes", true));
        foreach (var cell in cells)
        {
            var options = new SequenceClassifierOptions
            {
                Steps = FashionMnist.ImageSize,
                StepFeatures = FashionMnist.ImageSize,
                Architecture = [cell switch { RecurrentCell.Gru => Layer.Gru(units, bidirectional: true), RecurrentCell.Simple => Layer.SimpleRnn(units, bidirectional: true), _ => Layer.Lstm(units, bidirectional: true) },
                    Layer.SequencePooling(SequencePoolingMode.Max)],
                Epochs = epochs,
                Seed = 1,
                IntraOpThreads = threads,
                Data = { BatchSize = 128 },
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 3e-3, WeightDecay = 1e-4 },
                LearningRateSchedule = new OneCycleSchedule(WarmupFraction: 0.2),
            };
            BenchmarkCommand.Progress($"fitting {cell} ({units} units, bidirectional), {epochs} epochs");
            var clock = Stopwatch.StartNew();
            var model = context.MulticlassClassification.Trainers.SequenceClassifier(options).Fit(train);
            clock.Stop();
            double accuracy = context.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
            BenchmarkCommand.Progress($"{cell}: test accuracy {accuracy:P2}");
            table.AddRow($"{cell} (bidirectional {units}, max pooling)", accuracy.ToString("P2", CultureInfo.InvariantCulture), Statistics.Number(clock.Elapsed.TotalMinutes, 1));
        }

        return new BenchmarkReport()
            .Paragraph($"Fashion-MNIST images as 28 steps of 28 pixels (rows top to bottom), each pixel column standardised inside the network; {epochs} epochs, batch 128, AdamW 3e-3 with one-cycle, seed 1, {threads} libtorch thread(s); no augmentation. Anchor: GRU+SVM 89.7% in the data set's benchmark table; goal at least 90%.")
            .Table(table);
    }
}
