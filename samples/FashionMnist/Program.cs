// Fashion-MNIST end to end with ML.DeepExtensions' image classifier:
//   part 1: a few hundred images as PNG files in a folder, trained through ML.NET's LoadImages;
//   part 2: the IDX files as an IDataView: train with progress, evaluate, save, load, predict.
// Usage: dotnet run --project samples/FashionMnist [-- --epochs N --rows N --architecture lenet|vgg|resnet]
// The defaults take under a minute on two cores (about 88% test accuracy); `--epochs 20 --rows 60000`
// is the full run behind docs/benchmarks.md (94.4% in about 15 minutes).
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;

var settings = SampleSettings.Parse(args);
var mlContext = new MLContext(seed: 1);
string dataDirectory = SampleSettings.FindDataDirectory();
Console.WriteLine($"Fashion-MNIST from {dataDirectory}");

TrainFromImageFolder(mlContext, dataDirectory);
TrainFromIdxFiles(mlContext, dataDirectory, settings);

static void TrainFromImageFolder(MLContext mlContext, string dataDirectory)
{
    Console.WriteLine("\n1. A folder of PNG images through LoadImages → ExtractPixels → ImageClassifier");
    string folder = Directory.CreateTempSubdirectory("FashionMnistImages-").FullName;
    try
    {
        var source = mlContext.Data.LoadFashionMnist(FashionMnistSplit.Test, dataDirectory, maxRows: 600);
        var pixels = source.GetColumn<float[]>("Features").ToArray();
        var labels = source.GetColumn<uint>("Label").ToArray();
        var files = new List<ImageFile>();
        for (int i = 0; i < pixels.Length; i++)
        {
            string className = FashionMnist.ClassNames[(int)labels[i] - 1].Replace('/', '-');
            string path = Path.Combine(folder, className, $"{i:D4}.png");
            SavePng(path, pixels[i]);
            files.Add(new ImageFile { Path = path, Label = className });
        }

        Console.WriteLine($"   wrote {files.Count} PNG files under {folder}, one folder per class");
        var images = mlContext.Data.LoadFromEnumerable(files);
        var split = mlContext.Data.TrainTestSplit(images, testFraction: 0.2, seed: 1);
        var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: folder, inputColumnName: nameof(ImageFile.Path))
            .Append(mlContext.Transforms.ResizeImages("Image", imageWidth: 28, imageHeight: 28))
            .Append(mlContext.Transforms.ConvertToGrayscale("Image"))
            .Append(mlContext.Transforms.ExtractPixels("Features", "Image"))
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
            .Append(mlContext.MulticlassClassification.Trainers.ImageClassifier(architecture: Architectures.LeNet, epochs: 10, batchSize: 16));
        var model = pipeline.Fit(split.TrainSet);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        Console.WriteLine($"   LeNet trained on about 80% of {files.Count} images: test accuracy {metrics.MicroAccuracy:P1} (10 classes, a tiny training set)");
    }
    finally
    {
        Directory.Delete(folder, recursive: true);
    }
}

static void TrainFromIdxFiles(MLContext mlContext, string dataDirectory, SampleSettings settings)
{
    Console.WriteLine($"\n2. The IDX files as an IDataView: {settings.Architecture}, {settings.Epochs} epochs on {settings.Rows:N0} training images");
    var train = mlContext.Data.LoadFashionMnist(FashionMnistSplit.Train, dataDirectory, maxRows: settings.Rows);
    var test = mlContext.Data.LoadFashionMnist(FashionMnistSplit.Test, dataDirectory);
    var progressBar = new TrainingProgressBar(); // a live bar fed by the Progress option, one step per epoch
    var options = new ImageClassifierOptions
    {
        Architecture = settings.Layers,
        Epochs = settings.Epochs,
        Data = { BatchSize = 128 },
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 3e-3, WeightDecay = 5e-4 },
        LearningRateSchedule = new OneCycleSchedule(WarmupFraction: 0.2),
        Augmentation = new ImageAugmentationOptions { RandomCropPadding = 2, HorizontalFlip = true },
        Seed = 1,
        Progress = progressBar,
    };

    var stopwatch = Stopwatch.StartNew();
    var model = progressBar.Run($"Training {settings.Architecture}", () => mlContext.MulticlassClassification.Trainers.ImageClassifier(options).Fit(train));
    Console.WriteLine($"   trained in {stopwatch.Elapsed.TotalMinutes:F1} min");

    var scored = model.Transform(test);
    var metrics = mlContext.MulticlassClassification.Evaluate(scored);
    Console.WriteLine($"   test accuracy {metrics.MicroAccuracy:P2}, log-loss {metrics.LogLoss:F3}");
    Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

    string modelPath = Path.Combine(Directory.CreateTempSubdirectory("FashionMnistModel-").FullName, "fashion-mnist-cnn.zip");
    mlContext.Model.Save(model, train.Schema, modelPath);
    Console.WriteLine($"   saved {modelPath} ({new FileInfo(modelPath).Length / 1024:N0} KiB)");
    string historyPlot = Path.ChangeExtension(modelPath, ".history.png");
    string historyCsv = Path.ChangeExtension(modelPath, ".history.csv");
    model.History.SavePlot(historyPlot);
    model.History.SaveCsv(historyCsv);
    Console.WriteLine($"   and its training curves: {historyPlot}, {historyCsv}");

    var loaded = new MLContext().Model.Load(modelPath, out _);
    var predictions = mlContext.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel")
        .Append(mlContext.Transforms.Conversion.MapKeyToValue("TrueName", "Label"))
        .Fit(loaded.Transform(test)).Transform(loaded.Transform(test));
    Console.WriteLine("   predictions of the reloaded model:");
    foreach (var row in mlContext.Data.CreateEnumerable<Prediction>(predictions, reuseRowObject: false).Take(8))
    {
        Console.WriteLine($"     {row.TrueName,-12} → {row.PredictedName,-12} {row.Score.Max():P1}");
    }
}

static void SavePng(string path, float[] grayscale)
{
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    var bgra = new byte[grayscale.Length * 4];
    for (int i = 0; i < grayscale.Length; i++)
    {
        byte value = (byte)grayscale[i];
        bgra[i * 4] = bgra[(i * 4) + 1] = bgra[(i * 4) + 2] = value;
        bgra[(i * 4) + 3] = 255;
    }

    using var image = MLImage.CreateFromPixels(28, 28, MLPixelFormat.Bgra32, bgra);
    image.Save(path);
}

internal sealed class ImageFile
{
    public string Path { get; set; } = "";

    public string Label { get; set; } = "";
}

internal sealed class Prediction
{
    public string TrueName { get; set; } = "";

    public string PredictedName { get; set; } = "";

    public float[] Score { get; set; } = [];
}

internal sealed record SampleSettings(int Epochs, int Rows, string Architecture)
{
    public IReadOnlyList<NetworkLayer> Layers => Architecture switch
    {
        "lenet" => Architectures.LeNet,
        "resnet" => Architectures.SmallResNet,
        _ => Architectures.SmallVgg,
    };

    public static SampleSettings Parse(string[] args)
    {
        var settings = new SampleSettings(Epochs: 2, Rows: 20_000, Architecture: "vgg");
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            settings = args[i] switch
            {
                "--epochs" => settings with { Epochs = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--rows" => settings with { Rows = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--architecture" => settings with { Architecture = args[i + 1].ToLowerInvariant() },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. Use --epochs N, --rows N, --architecture lenet|vgg|resnet."),
            };
        }

        return settings;
    }

    /// <summary>The repository's .data/fashion-mnist (filled by the build), else the Debian package's folder.</summary>
    public static string FindDataDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ML.DeepExtensions.sln")))
            {
                string candidate = Path.Combine(directory.FullName, ".data", "fashion-mnist");
                return Directory.Exists(candidate) ? candidate : FashionMnist.DefaultDirectory;
            }
        }

        return FashionMnist.DefaultDirectory;
    }
}
