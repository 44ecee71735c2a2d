using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;
using static ML.DeepExtensions.Layers.Layer;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>What the vision benchmarks share: data location, architectures, training options.</summary>
internal static class VisionBenchmarkSetup
{
    /// <summary>
    /// Three 3×3 convolution blocks at 28, 14 and 7 pixels (32, 64, 128 channels, batch norm), then 256 units:
    /// about 15.5 MFLOP per image forward (SmallVgg: about 38), a cheaper alternative for the 20-minute goal.
    /// </summary>
    public static IReadOnlyList<NetworkLayer> ThreeBlockVgg { get; } =
    [
        Conv2D(32), BatchNorm(), Relu(), MaxPool2D(),
        Conv2D(64), BatchNorm(), Relu(), MaxPool2D(),
        Conv2D(128), BatchNorm(), Relu(), MaxPool2D(),
        Flatten(), Dense(256), BatchNorm(), Relu(), Dropout(0.4),
    ];

    /// <summary>The options the vision subcommands share; each subcommand adds those it uses, so their defaults stay the same everywhere.</summary>
    public static Option<string> ArchitectureOption() => new Option<string>("--architecture") { Description = "lenet, vgg, vgg3 or resnet.", DefaultValueFactory = _ => "vgg3" }
        .AcceptOnlyFromAmong("lenet", "vgg", "vgg3", "resnet");

    public static Option<int> ThreadsOption() => new Option<int>("--threads") { Description = "libtorch intra-op threads.", DefaultValueFactory = _ => Environment.ProcessorCount }.AtLeast(1);

    public static Option<int> RoundsOption() => new Option<int>("--rounds") { Description = "Interleaved timed rounds after a warm-up round.", DefaultValueFactory = _ => 3 }.AtLeast(1);

    public static Option<int> RowsOption() => new Option<int>("--rows") { Description = "Images per timed epoch or scoring pass.", DefaultValueFactory = _ => 6000 }.AtLeast(1);

    public static Option<int> BatchSizeOption() => new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 128 }.AtLeast(1);

    public static IReadOnlyList<NetworkLayer> Architecture(string name) => name switch
    {
        "lenet" => Architectures.LeNet,
        "vgg" => Architectures.SmallVgg,
        "resnet" => Architectures.SmallResNet,
        "vgg3" => ThreeBlockVgg,
        _ => throw new ArgumentException($"Unknown architecture '{name}': use lenet, vgg, vgg3 or resnet."),
    };

    /// <summary>The folder holding ML.DeepExtensions.sln.</summary>
    public static string RepositoryRoot()
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

    /// <summary>The repository's .data/fashion-mnist, which the build fills from the Debian package.</summary>
    public static string DataDirectory() => Path.Combine(RepositoryRoot(), ".data", "fashion-mnist");

    public static IDataView Load(MLContext context, FashionMnistSplit split, int? rows = null) =>
        context.Data.LoadFashionMnist(split, DataDirectory(), rows);

    /// <summary>The training recipe of the accuracy run (AdamW, one-cycle, crop + flip).</summary>
    public static ImageClassifierOptions AccuracyOptions(IReadOnlyList<NetworkLayer> architecture, int epochs, int threads, IReadOnlyList<ITrainingCallback> callbacks) => new()
    {
        Architecture = architecture,
        Epochs = epochs,
        Data = { BatchSize = 128 },
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 3e-3, WeightDecay = 5e-4 },
        LearningRateSchedule = new OneCycleSchedule(WarmupFraction: 0.2),
        Augmentation = new ImageAugmentationOptions { RandomCropPadding = 2, HorizontalFlip = true },
        Seed = 1,
        IntraOpThreads = threads,
        Callbacks = callbacks,
    };

    /// <summary>Resident memory after a full collection, in MiB (managed and native).</summary>
    public static double ResidentMiB()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }
}
