// Text classification from a CSV of texts with a recurrent network in an ML.NET pipeline.
//   1. Read a CSV with a header "Label,Text" (quoted fields may hold commas and line breaks) with
//      ML.NET's own text loader. Without --csv the sample writes one from four categories of the
//      Debian fortunes package (computers, politics, science, songs-poems).
//   2. MapValueToKey on the label, then TextClassifier on the raw text column: the trainer puts ML.NET's
//      own NormalizeText / TokenizeIntoWords / MapValueToKey in front of the network's ONNX graph.
//   3. Evaluate on a held-out 20% with ML.NET's multiclass evaluator; save the model; load it in a fresh
//      MLContext and classify new texts with a PredictionEngine (raw text in, category out).
// Usage: dotnet run --project samples/TextClassification [-- --csv FILE --epochs N --output DIR]
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;

int epochs = SampleSetup.Number("--epochs", 6);
string output = SampleSetup.Text("--output", Path.Combine(Path.GetTempPath(), "mldx-text-classification-sample"));
Directory.CreateDirectory(output);
string csv = SampleSetup.Text("--csv", "");
if (csv.Length == 0)
{
    csv = Path.Combine(output, "fortunes.csv");
    WriteFortunesCsv(csv, ["computers", "politics", "science", "songs-poems"]);
    Console.WriteLine($"Wrote {csv} from the Debian fortunes package");
}

var mlContext = new MLContext(seed: 1);
var data = mlContext.Data.LoadFromTextFile<TextRow>(csv, new TextLoader.Options { Separators = [','], HasHeader = true, AllowQuoting = true, ReadMultilines = true });
var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);

var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    .Append(mlContext.MulticlassClassification.Trainers.TextClassifier(new TextMulticlassOptions
    {
        TextColumnName = nameof(TextRow.Text),
        Architecture = TextClassifierDefaults.Architecture(RecurrentCell.Gru),
        MaxLength = 64,
        Epochs = epochs,
        Seed = 1,
        Progress = new Progress<ML.DeepExtensions.Training.TrainingProgress>(p => Console.WriteLine($"  epoch {p.Epoch}: loss {p.Logs["loss"]:F3}")),
    }))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedCategory", "PredictedLabel"));
Console.WriteLine($"Training a GRU text classifier for {epochs} epochs");
var model = pipeline.Fit(split.TrainSet);

var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine($"Held-out accuracy {metrics.MicroAccuracy:P1} (macro {metrics.MacroAccuracy:P1}), log-loss {metrics.LogLoss:F3}");

string modelPath = Path.Combine(output, "text-classifier.zip");
mlContext.Model.Save(model, data.Schema, modelPath);
Console.WriteLine($"Saved {modelPath}; it takes the raw Text column wherever ML.NET and ONNX Runtime run");

// A fresh context, as in another application: only ML.NET and the saved zip.
var fresh = new MLContext();
var loaded = fresh.Model.Load(modelPath, out _);
var engine = fresh.Model.CreatePredictionEngine<TextRow, Prediction>(loaded, new PredictionEngineOptions { OwnsTransformer = false });
foreach (string text in new[]
{
    "The compiler crashed again when I tried to link the kernel modules.",
    "The senator promised lower taxes and a new election law.",
    "The electron and the proton attract each other, said the physicist.",
    "Oh my love, the river sings of you beneath the summer moon.",
})
{
    var prediction = engine.Predict(new TextRow { Text = text });
    Console.WriteLine($"  {prediction.PredictedCategory,-12} {prediction.Score.Max():P0}  {text}");
}

(loaded as IDisposable)?.Dispose();
(model as IDisposable)?.Dispose();

static void WriteFortunesCsv(string path, string[] categories)
{
    var lines = new List<string> { "Label,Text" };
    lines.AddRange(Fortunes.Read(SampleSetup.DataDirectory("fortunes", Fortunes.DefaultDirectory), categories).Select(f => $"{f.Category},\"{f.Text.Replace("\"", "\"\"", StringComparison.Ordinal)}\""));
    File.WriteAllLines(path, lines);
}

internal sealed class TextRow
{
    [LoadColumn(0)]
    public string Label { get; set; } = "";

    [LoadColumn(1)]
    public string Text { get; set; } = "";
}

internal sealed class Prediction
{
    public string PredictedCategory { get; set; } = "";

    public float[] Score { get; set; } = [];
}
