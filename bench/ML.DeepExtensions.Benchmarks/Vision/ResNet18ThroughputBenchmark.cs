using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// Fine-tuning torchvision's resnet18 on Fashion-MNIST images resized to its input size: python3-torchvision
/// creates the network and saves its state_dict, this library loads it (<see cref="PretrainedNetwork.FromPyTorchStateDict"/>,
/// grayscale adaptation, a new 10-class head) and fine-tunes it through the ML.NET trainer; PyTorch 1.13
/// fine-tunes the same network the same way. Images per second of the second (timed) epoch on each side.
/// </summary>
internal static class ResNet18ThroughputBenchmark
{
    public static Command Create()
    {
        var python = new Option<string>("--python") { Description = "Python with torch and torchvision (Debian: /usr/bin/python3).", DefaultValueFactory = _ => "/usr/bin/python3" };
        var size = new Option<int>("--size") { Description = "Image side after resizing (resnet18's input size is 224).", DefaultValueFactory = _ => 224 }.AtLeast(32);
        var rows = new Option<int>("--rows") { Description = "Images per epoch.", DefaultValueFactory = _ => 256 }.AtLeast(1);
        var batchSize = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var threads = VisionBenchmarkSetup.ThreadsOption();
        var from = new Option<string>("--from") { Description = "state-dict (loaded with grayscale adaptation) or onnx (torch.onnx.export, imported; 3-channel copies of the images).", DefaultValueFactory = _ => "state-dict" }
            .AcceptOnlyFromAmong("state-dict", "onnx");
        return BenchmarkCommand.Create("vision-resnet18-throughput",
            "Fine-tuning torchvision's resnet18 (from its PyTorch state_dict or its ONNX export) on resized Fashion-MNIST: images/s of this library vs PyTorch.",
            [python, size, rows, batchSize, threads, from],
            parse => Run(parse.GetValue(python)!, parse.GetValue(size), parse.GetValue(rows), parse.GetValue(batchSize), parse.GetValue(threads), parse.GetValue(from)!));
    }

    public static BenchmarkReport Run(string python, int size, int rows, int batchSize, int threads, string from)
    {
        bool onnx = from == "onnx";
        string folder = Directory.CreateTempSubdirectory("resnet18-").FullName;
        try
        {
            string stateDict = Path.Combine(folder, "resnet18.pt");
            string onnxFile = Path.Combine(folder, "resnet18.onnx");
            BenchmarkCommand.Progress($"PyTorch: creating resnet18, saving its state_dict and ONNX export, timing its fine-tuning at {size}x{size}");
            double pytorch = PyTorch(python, stateDict, onnxFile, size, rows, batchSize, threads, onnx ? 3 : 1);

            var description = new NetworkDescription
            {
                InputShape = [1, size, size], Layers = TorchvisionResNet.ResNet18, Outputs = 1000, Normalization = InputNormalization.Image,
            };
            var backbone = onnx
                ? PretrainedNetwork.FromOnnxFile(onnxFile)
                : PretrainedNetwork.FromPyTorchStateDict(stateDict, description, new PyTorchStateDictOptions
                {
                    ParameterNames = TorchvisionResNet.ParameterName, AdaptInputChannels = true,
                    PixelScale = 1 / 255f, ChannelMean = [0.485f, 0.456f, 0.406f], ChannelStd = [0.229f, 0.224f, 0.225f],
                });

            var context = new MLContext(seed: 1);
            var data = Resized(context, size, rows, onnx ? 3 : 1);
            var timer = new EpochTimer();
            BenchmarkCommand.Progress($"ML.DeepExtensions: fine-tuning the loaded resnet18, 2 epochs of {rows} images");
            context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
            {
                Pretrained = new PretrainedOptions { Network = backbone },
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3 },
                Epochs = 2, Seed = 1, IntraOpThreads = threads, Data = { BatchSize = batchSize }, Callbacks = [timer],
                ComputeTrainingMetrics = false,
            }).Fit(data);
            double ours = rows / timer.Epochs[^1];

            var table = new ReportTable(("Side", false), ("Images/s (timed epoch)", true));
            table.AddRow($"ML.DeepExtensions ImageClassifier, Pretrained = resnet18 {(onnx ? "ONNX import" : "state_dict")}", Statistics.Number(ours, 1));
            table.AddRow("PyTorch 1.13 (Debian python3-torch), same network and recipe", Statistics.Number(pytorch, 1));
            return new BenchmarkReport()
                .Paragraph($"torchvision resnet18 (random weights from python3-torchvision, seed 1) {(onnx ? "imported from its torch.onnx.export file (the images as 3-channel copies)" : "loaded from its state_dict with grayscale adaptation")} and a new 10-class head; {rows} Fashion-MNIST training images resized to {size}x{size}; batch {batchSize}, AdamW 1e-3, {threads} libtorch thread(s); one warm-up epoch, then one timed epoch on each side.")
                .Table(table)
                .Bullets($"Ratio ML.DeepExtensions / PyTorch: **{ours / pytorch:F3}**");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double PyTorch(string python, string stateDict, string onnxFile, int size, int rows, int batchSize, int threads, int channels)
    {
        string script = Path.Combine(VisionBenchmarkSetup.RepositoryRoot(), "bench", "pytorch", "resnet18_finetune_throughput.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            script, "--size", size.ToString(CultureInfo.InvariantCulture), "--rows", rows.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture), "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture),
            "--data", VisionBenchmarkSetup.DataDirectory(), "--state-dict", stateDict, "--onnx", onnxFile,
            "--channels", channels.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The PyTorch side failed (install python3-torch and python3-torchvision for {python}): {errors}");
        }

        return JsonDocument.Parse(output).RootElement.GetProperty("images_per_second").GetDouble();
    }

    /// <summary>The first training images, bilinearly resized to size × size (half-pixel centres, as torch's interpolate).</summary>
    private static IDataView Resized(MLContext context, int size, int rows, int channels)
    {
        var source = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, rows);
        var images = source.GetColumn<float[]>("Features").ToArray();
        var labels = source.GetColumn<uint>("Label").ToArray();
        var resized = images.Select((pixels, i) => new Row
        {
            Features = [.. Enumerable.Repeat(Resize(pixels, 28, size), channels).SelectMany(p => p)],
            Label = labels[i].ToString(CultureInfo.InvariantCulture),
        }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, channels, size, size);
        var data = context.Data.LoadFromEnumerable(resized, schema);
        return context.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    private static float[] Resize(float[] pixels, int from, int to)
    {
        var result = new float[to * to];
        double scale = (double)from / to;
        for (int y = 0; y < to; y++)
        {
            double sy = Math.Clamp(((y + 0.5) * scale) - 0.5, 0, from - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, from - 1);
            for (int x = 0; x < to; x++)
            {
                double sx = Math.Clamp(((x + 0.5) * scale) - 0.5, 0, from - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, from - 1);
                double top = (pixels[(y0 * from) + x0] * (1 - (sx - x0))) + (pixels[(y0 * from) + x1] * (sx - x0));
                double bottom = (pixels[(y1 * from) + x0] * (1 - (sx - x0))) + (pixels[(y1 * from) + x1] * (sx - x0));
                result[(y * to) + x] = (float)((top * (1 - (sy - y0))) + (bottom * (sy - y0)));
            }
        }

        return result;
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }
}
