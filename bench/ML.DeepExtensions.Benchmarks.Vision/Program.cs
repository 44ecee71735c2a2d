using System.CommandLine;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// <c>dotnet run -c Release --project bench/ML.DeepExtensions.Benchmarks.Vision -- accuracy | training-throughput | scoring-throughput</c>.
/// Each command prints a Markdown report (progress goes to standard error).
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var architecture = new Option<string>("--architecture") { Description = "lenet, vgg, vgg3 or resnet.", DefaultValueFactory = _ => "vgg3" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved timed rounds after a warm-up round.", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of the accuracy run.", DefaultValueFactory = _ => 15 };
        var rows = new Option<int>("--rows") { Description = "Images per timed epoch or scoring pass.", DefaultValueFactory = _ => 6000 };
        var batchSize = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 128 };
        var python = new Option<string?>("--python") { Description = "Python with torch for the PyTorch peer (Debian: /usr/bin/python3 with python3-torch); omit to skip it." };

        var accuracy = new Command("accuracy", "Full Fashion-MNIST training and test accuracy, with per-epoch time and memory.") { architecture, epochs, threads };
        accuracy.SetAction(parse => Print(AccuracyBenchmark.Run(parse.GetValue(architecture)!, parse.GetValue(epochs), parse.GetValue(threads))));

        var training = new Command("training-throughput", "Training images/s: ML.NET trainer vs raw TorchSharp loop vs PyTorch, interleaved.") { architecture, rows, rounds, threads, batchSize, python };
        training.SetAction(parse => Print(TrainingThroughputBenchmark.Run(
            parse.GetValue(architecture)!, parse.GetValue(rows), parse.GetValue(rounds), parse.GetValue(threads), parse.GetValue(batchSize), parse.GetValue(python))));

        var scoring = new Command("scoring-throughput", "Scoring images/s: loaded ML.NET model vs batched ONNX Runtime, interleaved.") { architecture, rows, rounds, batchSize };
        scoring.SetAction(parse => Print(ScoringThroughputBenchmark.Run(parse.GetValue(architecture)!, parse.GetValue(rows), parse.GetValue(rounds), parse.GetValue(batchSize))));

        return new RootCommand("Vision benchmarks of ML.DeepExtensions on Fashion-MNIST.") { accuracy, training, scoring }.Parse(args).Invoke();
    }

    private static int Print(string report)
    {
        Console.WriteLine(report);
        return 0;
    }
}
