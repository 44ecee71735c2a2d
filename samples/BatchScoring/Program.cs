// Batch scoring with ML.DeepExtensions: train and save a small model, then score a CSV file with
// the library's BatchScorer and export the network for deployment. The same file can be scored
// from the command line with mldx (printed at the end).
//
//   dotnet run --project samples/BatchScoring [output-folder]
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Scoring;

string folder = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "mldx-batch-scoring-sample");
Directory.CreateDirectory(folder);
string modelPath = Path.Combine(folder, "model.zip");
string csvPath = Path.Combine(folder, "customers.csv");
var mlContext = new MLContext(seed: 1);

// 1. Train a multiclass MLP on generated rows (three segments, four features) and save it. The
//    label is keyed outside the model, so scoring needs only the features.
var training = mlContext.Data.LoadFromEnumerable(Customers.Generate(2000, seed: 1));
var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Customer.Segment)).Fit(training).Transform(training);
var model = mlContext.MulticlassClassification.Trainers.Mlp(hiddenLayers: [32], epochs: 20).Fit(keyed);
mlContext.Model.Save(model, keyed.Schema, modelPath);
Console.WriteLine($"Saved {modelPath}");

// 2. A file to score: the columns mldx reads (Features.0..3 for the Features vector) plus an Id.
var rows = Customers.Generate(50_000, seed: 7);
using (var writer = new StreamWriter(csvPath))
{
    writer.WriteLine("Id,Features.0,Features.1,Features.2,Features.3,Segment");
    foreach (var row in rows)
    {
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Id},{string.Join(',', row.Features.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))},{row.Segment}"));
    }
}

// 3. Score it with the library: the loaded model, with its network evaluated 512 rows at a time.
using var scorer = mlContext.Model.CreateBatchScorer(modelPath, out _, new BatchScorerOptions { BatchSize = 512 });
var input = mlContext.Data.LoadFromTextFile<CsvCustomer>(csvPath, separatorChar: ',', hasHeader: true);
var scored = scorer.Transform(input);
var named = mlContext.Transforms.Conversion.MapKeyToValue("Predicted", "PredictedLabel").Fit(scored).Transform(scored);
var predicted = named.GetColumn<string>("Predicted").ToArray();
var actual = input.GetColumn<string>(nameof(CsvCustomer.Segment)).ToArray();
double accuracy = predicted.Zip(actual).Count(p => p.First == p.Second) / (double)actual.Length;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Scored {predicted.Length:N0} rows with BatchScorer; accuracy {accuracy:P1}; first: {predicted[0]} (actual {actual[0]})"));

// 4. The deployable ONNX model: dynamic batch, Score / PredictedLabel outputs, contract in its metadata.
string onnxPath = Path.Combine(folder, "model.onnx");
using (var onnx = File.Create(onnxPath))
{
    mlContext.Model.ExportDeployableOnnx(model, keyed.Schema, onnx);
}

Console.WriteLine($"Exported {onnxPath}");
Console.WriteLine();
Console.WriteLine("The same from the command line:");
Console.WriteLine($"  dotnet run --project tools/ML.DeepExtensions.Cli -- score {modelPath} {csvPath} -o {Path.Combine(folder, "scored.csv")} --keep Id");
Console.WriteLine($"  dotnet run --project tools/ML.DeepExtensions.Cli -- inspect {modelPath}");
Console.WriteLine($"  dotnet run --project tools/ML.DeepExtensions.Cli -- export-onnx {modelPath} -o {onnxPath} --force");

/// <summary>A training row.</summary>
internal sealed class Customer
{
    public string Id { get; set; } = "";

    [VectorType(4)]
    public float[] Features { get; set; } = [];

    public string Segment { get; set; } = "";
}

/// <summary>A row of the CSV file, as TextLoader reads it.</summary>
internal sealed class CsvCustomer
{
    [LoadColumn(0)]
    public string Id { get; set; } = "";

    [LoadColumn(1, 4), VectorType(4)]
    public float[] Features { get; set; } = [];

    [LoadColumn(5)]
    public string Segment { get; set; } = "";
}

internal static class Customers
{
    private static readonly string[] Segments = ["bargain", "regular", "premium"];

    /// <summary>Three segments separated along different features, with noise.</summary>
    public static List<Customer> Generate(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            int segment = random.Next(3);
            return new Customer
            {
                Id = $"c{seed}-{i}",
                Features = [.. Enumerable.Range(0, 4).Select(f => (float)((f == segment ? 2.5 : 0) + random.NextDouble() + (f == 3 ? segment * 0.5 : 0)))],
                Segment = Segments[segment],
            };
        }).ToList();
    }
}
