// Trains a small neural network on the iris flowers inside an ML.NET pipeline, then evaluates,
// saves, reloads and uses it like any ML.NET model. Run from the repository root:
//     dotnet run --project samples/TabularQuickStart
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using ML.DeepExtensions;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;
using TabularQuickStart;

// A seeded context makes the split, the weight initialisation and the shuffling reproducible.
var mlContext = new MLContext(seed: 1);

// Step 1: load the data. The header line is "150,4,setosa,versicolor,virginica": row count,
// feature count, then the class names in class-index order.
string dataPath = Path.Combine(FindRepositoryRoot(), ".data", "sklearn", "iris.csv");
string[] classNames = File.ReadLines(dataPath).First().Split(',')[2..];
IDataView data = mlContext.Data.LoadFromTextFile<ModelInput>(dataPath, separatorChar: ',', hasHeader: true);
var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
Console.WriteLine($"1. Loaded {dataPath}");
Console.WriteLine($"   classes: {string.Join(", ", classNames)}; {Count(split.TrainSet)} training rows, {Count(split.TestSet)} test rows");

// Training reports each epoch to this live progress bar (Spectre.Console) through the Progress option.
var progressBar = new TrainingProgressBar();

// Step 2: build the pipeline: class index -> class name -> key label, four columns -> one
// Features vector, then the MLP. The network standardises the features itself.
var trainer = mlContext.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
{
    HiddenLayers = [16, 16],
    Epochs = 300,
    Data = { BatchSize = 16, ValidationFraction = 0.2 },
    Optimizer = new OptimizerOptions { LearningRate = 0.01 },
    EarlyStopping = new EarlyStoppingOptions { Monitor = "val_loss", Patience = 20 },
    Progress = progressBar,
});
var classIndexToName = classNames.Select((name, index) => KeyValuePair.Create(index, name));
var pipeline = mlContext.Transforms.Conversion.MapValue("Species", classIndexToName, nameof(ModelInput.ClassIndex))
    .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Species", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
    .Append(mlContext.Transforms.Concatenate("Features",
        nameof(ModelInput.SepalLength), nameof(ModelInput.SepalWidth), nameof(ModelInput.PetalLength), nameof(ModelInput.PetalWidth)))
    .Append(trainer)
    .Append(mlContext.Transforms.Conversion.MapKeyToValue(nameof(ModelOutput.PredictedSpecies), "PredictedLabel"));
Console.WriteLine("2. Pipeline: MapValue -> MapValueToKey -> Concatenate -> Mlp (16, 16) -> MapKeyToValue");

// Step 3: train. ValidationFraction holds out a fifth of the training rows for val_loss.
Console.WriteLine("3. Training");
var model = progressBar.Run("Training", () => pipeline.Fit(split.TrainSet));
var network = model.OfType<NeuralNetworkTransformer>().Single();
Console.WriteLine($"   trained {network.History.Epochs.Count} epochs"
    + (network.History.StoppedEarly ? " (early stopping)" : "")
    + (network.History.RestoredEpoch is int best ? $", kept the weights of epoch {best + 1}" : ""));

// Step 4: evaluate on the test rows the network never saw.
var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine("4. Test metrics");
Console.WriteLine($"   micro accuracy {metrics.MicroAccuracy:P1}, macro accuracy {metrics.MacroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

// Step 5: save as an ordinary ML.NET model zip, into a new folder so no existing file is replaced.
string modelPath = Path.Combine(Directory.CreateTempSubdirectory("TabularQuickStart-").FullName, "iris-mlp.zip");
mlContext.Model.Save(model, split.TrainSet.Schema, modelPath);
Console.WriteLine($"5. Saved {modelPath}");

// The training curves beside it: a PNG plot (loss and accuracy panels, validation dashed) and a CSV.
string historyPlot = Path.ChangeExtension(modelPath, ".history.png");
string historyCsv = Path.ChangeExtension(modelPath, ".history.csv");
network.History.SavePlot(historyPlot);
network.History.SaveCsv(historyCsv);
Console.WriteLine($"   and its training curves: {historyPlot}, {historyCsv}");

// Step 6: load it in a fresh context and predict. Scoring runs ML.NET's OnnxTransformer, so a
// process that loads this zip needs only Microsoft.ML, Microsoft.ML.OnnxTransformer and
// Microsoft.ML.OnnxRuntime, not ML.DeepExtensions or TorchSharp.
var loadedContext = new MLContext();
ITransformer loaded = loadedContext.Model.Load(modelPath, out _);
// OwnsTransformer = false: by default disposing an engine disposes the model it was made from, and
// for a loaded model that closes the ONNX Runtime session for every later Predict or Transform
// (dotnet/machinelearning#5945; docs/reliability.md). An engine is not thread-safe: use one per
// thread, or ML.DeepExtensions' mlContext.Model.CreateThreadSafePredictor where the library is referenced.
using var engine = loadedContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(loaded, new PredictionEngineOptions { OwnsTransformer = false });
Console.WriteLine("6. Predictions of the reloaded model (every 6th test row)");
Console.WriteLine("   sepal l, w   petal l, w   predicted   probability   actual");
foreach (var flower in mlContext.Data.CreateEnumerable<ModelInput>(split.TestSet, reuseRowObject: false).Where((_, row) => row % 6 == 0))
{
    var prediction = engine.Predict(flower);
    Console.WriteLine($"   {flower.SepalLength,4:F1} {flower.SepalWidth,4:F1}    {flower.PetalLength,4:F1} {flower.PetalWidth,4:F1}    "
        + $"{prediction.PredictedSpecies,-10}  {prediction.Score.Max(),11:P1}   {classNames[flower.ClassIndex]}");
}

static long Count(IDataView view) => view.GetRowCount() ?? view.GetColumn<float>(nameof(ModelInput.SepalLength)).LongCount();

// .data/ lives at the repository root, next to ML.DeepExtensions.sln; the build fetches it there.
static string FindRepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "ML.DeepExtensions.sln")))
        {
            return directory.FullName;
        }
    }

    throw new DirectoryNotFoundException("ML.DeepExtensions.sln not found above " + AppContext.BaseDirectory + "; run the sample from a clone of the repository.");
}
