// Transfer learning with ML.DeepExtensions on Fashion-MNIST:
//   1. pretrain a CNN on five classes (T-shirt/top, Trouser, Pullover, Dress, Coat) and save it;
//   2. learn the other five (Sandal, Shirt, Sneaker, Bag, Ankle boot) from a few images per class:
//      from scratch, by fine-tuning the saved network (head first, then gradually the backbone),
//      and with the frozen network as an ML.NET featurizer under LightGbm;
//   3. save the fine-tuned model, load it in a fresh MLContext and predict.
// Usage: dotnet run -c Release --project samples/TransferLearning [-- --shots 50 --pretrain-rows 12000 --pretrain-epochs 2 --epochs 20]
// The defaults take a few minutes on two cores.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;

var settings = Settings.Parse(args);
var mlContext = new MLContext(seed: 1);
string dataDirectory = Settings.FindDataDirectory();
var oldClasses = FashionMnist.ClassNames.Take(5).ToArray();
var newClasses = FashionMnist.ClassNames.Skip(5).ToArray();
var train = Images.Read(mlContext, mlContext.Data.LoadFashionMnist(FashionMnistSplit.Train, dataDirectory));
var test = Images.Read(mlContext, mlContext.Data.LoadFashionMnist(FashionMnistSplit.Test, dataDirectory));
string folder = Directory.CreateTempSubdirectory("TransferLearning-").FullName;

// 1. Pretrain on the first five classes and save the model like any ML.NET model.
var pretrainRows = train.Where(i => oldClasses.Contains(i.Label)).Take(settings.PretrainRows).ToList();
Console.WriteLine($"1. Pretraining SmallVgg on {pretrainRows.Count:N0} images of {string.Join(", ", oldClasses)} ({settings.PretrainEpochs} epochs)");
var pretrainData = Images.Load(mlContext, pretrainRows, oldClasses);
var pretrained = mlContext.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
{
    Architecture = Architectures.SmallVgg, Epochs = settings.PretrainEpochs, Seed = 1, Data = { BatchSize = 128 },
}).Fit(pretrainData);
string pretrainedPath = Path.Combine(folder, "five-classes.zip");
mlContext.Model.Save(pretrained, pretrainData.Schema, pretrainedPath);
Console.WriteLine($"   saved {pretrainedPath}");

// 2. A new task: the other five classes, from a few labelled images each.
var random = new Random(7);
var fewRows = newClasses.SelectMany(c => train.Where(i => i.Label == c).OrderBy(_ => random.Next()).Take(settings.Shots)).ToList();
var few = Images.Load(mlContext, fewRows, newClasses);
var newTestRows = test.Where(i => newClasses.Contains(i.Label)).ToList();
var newTest = Images.Load(mlContext, newTestRows, newClasses);
Console.WriteLine($"\n2. Learning {string.Join(", ", newClasses)} from {settings.Shots} images per class; testing on {newTestRows.Count:N0} images");

double Accuracy(ITransformer model) => mlContext.MulticlassClassification.Evaluate(model.Transform(newTest)).MicroAccuracy;

var scratch = mlContext.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
{
    Architecture = Architectures.SmallVgg, Epochs = settings.Epochs, Seed = 2, Data = { BatchSize = 32 },
}).Fit(few);
Console.WriteLine($"   from scratch:                                accuracy {Accuracy(scratch):P1}");

// The saved zip is all it takes: the network, its weights and its input normalisation come back from it.
var backbone = PretrainedNetwork.FromModelFile(pretrainedPath);
int layers = backbone.Description.Layers.Count;
var fineTuned = mlContext.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
{
    // A new output layer for the five new classes; everything else starts from the saved weights.
    Pretrained = new PretrainedOptions { Network = backbone },
    // Train the head alone first, then unfreeze the backbone from the top down.
    FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)],
    Callbacks =
    [
        new GradualUnfreezing(
        [
            new UnfreezeStep(settings.Epochs / 4, [LayerSelector.Range(1 + (2 * layers / 3), 1 + layers)]),
            new UnfreezeStep(settings.Epochs / 2, [LayerSelector.Range(1 + (layers / 3), 1 + (2 * layers / 3))]),
            new UnfreezeStep(3 * settings.Epochs / 4, [LayerSelector.Range(1, 1 + (layers / 3))]),
        ]),
    ],
    // Discriminative learning rates: the pretrained layers move ten times slower than the new head.
    ParameterGroups = [new ParameterGroupOptions { Layers = [LayerSelector.AllExcept(LayerNames.Output)], LearningRateFactor = 0.1 }],
    Optimizer = new OptimizerOptions { LearningRate = 3e-3 },
    Epochs = settings.Epochs, Seed = 2, Data = { BatchSize = 32 },
}).Fit(few);
Console.WriteLine($"   fine-tuned (head first, gradual unfreezing): accuracy {Accuracy(fineTuned):P1}");

// The frozen backbone as an ML.NET featurizer: its 256-unit embedding, then any ML.NET trainer.
var featurized = mlContext.Transforms.FeaturizeByNetwork("Embedding", backbone)
    .Append(mlContext.MulticlassClassification.Trainers.LightGbm(featureColumnName: "Embedding", minimumExampleCountPerLeaf: 5))
    .Fit(few);
Console.WriteLine($"   frozen features + LightGbm:                  accuracy {Accuracy(featurized):P1}");

// 3. The fine-tuned model saves like any ML.NET model and loads without TorchSharp.
string fineTunedPath = Path.Combine(folder, "new-classes.zip");
mlContext.Model.Save(fineTuned, few.Schema, fineTunedPath);
var loaded = new MLContext().Model.Load(fineTunedPath, out _);
Console.WriteLine($"\n3. Saved {fineTunedPath}; predictions of the model loaded in a fresh MLContext:");
var engine = new MLContext().Model.CreatePredictionEngine<ImageInput, Prediction>(loaded);
foreach (var image in test.Where(i => newClasses.Contains(i.Label)).Take(6))
{
    var prediction = engine.Predict(new ImageInput { Features = image.Features });
    Console.WriteLine($"   {image.Label,-10} -> {newClasses[prediction.PredictedLabel - 1],-10} {prediction.Score.Max():P1}");
}

internal sealed class ImageInput
{
    [VectorType(1, 28, 28)]
    public float[] Features { get; set; } = [];
}

internal sealed class Prediction
{
    public uint PredictedLabel { get; set; }

    public float[] Score { get; set; } = [];
}

internal static class Images
{
    public sealed class Image
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    /// <summary>Fashion-MNIST rows with their class names.</summary>
    public static List<Image> Read(MLContext context, IDataView data) => context.Data
        .CreateEnumerable<IdxRow>(data, reuseRowObject: false)
        .Select(r => new Image { Features = r.Features, Label = FashionMnist.ClassNames[(int)r.Label - 1] })
        .ToList();

    /// <summary>The images with a key label over <paramref name="classes"/>, in that order.</summary>
    public static IDataView Load(MLContext context, IEnumerable<Image> images, IReadOnlyList<string> classes)
    {
        var data = context.Data.LoadFromEnumerable(images);
        var keys = context.Data.LoadFromEnumerable(classes.Select(c => new Image { Label = c, Features = new float[784] }));
        return context.Transforms.Conversion.MapValueToKey("Label", keyData: context.Transforms.SelectColumns("Label").Fit(keys).Transform(keys))
            .Fit(data).Transform(data);
    }

    private sealed class IdxRow
    {
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }
    }
}

internal sealed record Settings(int Shots, int PretrainRows, int PretrainEpochs, int Epochs)
{
    public static Settings Parse(string[] args)
    {
        var settings = new Settings(Shots: 50, PretrainRows: 12_000, PretrainEpochs: 2, Epochs: 20);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            settings = args[i] switch
            {
                "--shots" => settings with { Shots = value },
                "--pretrain-rows" => settings with { PretrainRows = value },
                "--pretrain-epochs" => settings with { PretrainEpochs = value },
                "--epochs" => settings with { Epochs = value },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. Use --shots N, --pretrain-rows N, --pretrain-epochs N, --epochs N."),
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
