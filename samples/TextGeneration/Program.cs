// A character-level language model with ML.DeepExtensions, trained on Debian's fortunes:
//   1. train an LSTM on the fortunes' text (one fortune per row of an IDataView);
//   2. measure bits per character on held-out fortunes, directly and with ML.NET's multiclass evaluator;
//   3. generate text from a prompt with temperature, top-k and a seed;
//   4. save the ML.NET model (next-character scoring) and the ONNX step graph, and generate again from the file.
// Usage: dotnet run --project samples/TextGeneration [-- --epochs N --fortunes N --output DIR]
// The defaults (a small LSTM, 2 epochs on 2,000 fortunes) take a few minutes on two cores and give
// word-like text; docs/sequence-models.md says what to change for more.
using System.Globalization;
using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;
using ML.DeepExtensions.Training;

int epochs = SampleSetup.Number("--epochs", 2);
int count = SampleSetup.Number("--fortunes", 2000);
string output = SampleSetup.Text("--output", Path.Combine(Path.GetTempPath(), "mldx-text-generation-sample"));
Directory.CreateDirectory(output);
var mlContext = new MLContext(seed: 1);

var fortunes = Fortunes.Read(SampleSetup.DataDirectory("fortunes", Fortunes.DefaultDirectory), Fortunes.BenchmarkCategories);
var random = new Random(1);
var shuffled = fortunes.OrderBy(_ => random.Next()).Take(count + 200).ToList();
var train = mlContext.Data.LoadFromEnumerable(shuffled.Take(count));
var heldOut = mlContext.Data.LoadFromEnumerable(shuffled.Skip(count));

Console.WriteLine($"1. Training a character LSTM on {count} fortunes, {epochs} epochs");
var trainer = mlContext.Transforms.Text.CharacterLanguageModel(new CharacterLanguageModelOptions
{
    TextColumnName = nameof(FortuneText.Text),
    HiddenUnits = 128,
    Layers = 1,
    Epochs = epochs,
    IntraOpThreads = 1,
    Progress = new Progress<TrainingProgress>(p => Console.WriteLine(
        $"   epoch {p.Epoch}: {p.Logs["bits_per_character"]:F3} bits/char on the training text, {p.Logs["val_bits_per_character"]:F3} held out")),
});
using var model = trainer.Fit(train, heldOut);

Console.WriteLine("\n2. Bits per character on the held-out fortunes");
Console.WriteLine($"   directly:                 {model.BitsPerCharacter(heldOut):F3}");
var firstFew = mlContext.Data.TakeRows(heldOut, 20);
var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(model.CreateNextCharacterData(firstFew)));
Console.WriteLine($"   ML.NET evaluator, first 20 fortunes: log-loss / ln 2 = {metrics.LogLoss / Math.Log(2):F3} (directly: {model.BitsPerCharacter(firstFew):F3})");

Console.WriteLine("\n3. Generated text (prompt \"The \")");
foreach (var (temperature, topK) in new[] { (0.5, (int?)null), (0.8, (int?)10), (1.0, (int?)null) })
{
    var options = new GenerationOptions { Temperature = temperature, TopK = topK, Seed = 7 };
    Console.WriteLine($"   temperature {temperature}{(topK is int k ? $", top-k {k}" : "")}: The {model.Generate("The ", 200, options)}");
}

Console.WriteLine("\n4. Saving");
string zip = Path.Combine(output, "next-character.zip"), step = Path.Combine(output, "generator.onnx");
mlContext.Model.Save(model, mlContext.Data.LoadFromEnumerable(Array.Empty<FortuneText>()).Schema, zip);
model.SaveGenerator(step);
using var generator = CharacterGenerator.Load(step);
Console.WriteLine($"   {zip} (ML.NET: Text -> Score, PredictedLabel of the next character) and {step} (ONNX step graph)");
Console.WriteLine($"   from the file, greedy: The {generator.Generate("The ", 120, new GenerationOptions { TopK = 1 })}");
var loaded = mlContext.Model.Load(zip, out _);
// PredictedLabel is a key over the vocabulary; ML.NET's MapKeyToValue gives the character itself.
var contexts = mlContext.Data.LoadFromEnumerable(Array.Empty<FortuneText>());
var withCharacter = loaded.Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedCharacter", "PredictedLabel").Fit(loaded.Transform(contexts)));
var engine = mlContext.Model.CreatePredictionEngine<FortuneText, NextCharacter>(withCharacter, new PredictionEngineOptions { OwnsTransformer = false });
Console.WriteLine($"   the loaded zip's most likely character after \"Computers are \": '{engine.Predict(new FortuneText { Text = "Computers are " }).PredictedCharacter}'");
(loaded as IDisposable)?.Dispose();

internal sealed class NextCharacter
{
    public string PredictedCharacter { get; set; } = "";
}
