// Generative adversarial networks with ML.DeepExtensions:
//   part 1: a class-conditional GAN on Fashion-MNIST; ten generated images per class saved as PNG
//           files (through ImageAnalytics' ConvertToImage), and the generator saved as an ML.NET model;
//   part 2: a synthetic copy of a CSV table with the tabular GAN.
// Usage: dotnet run --project samples/Generative [-- --epochs N --rows N --output DIR]
// The defaults (2 epochs on 6,000 images, small networks) take a few minutes on two cores and give
// rough but recognisable classes; docs/generative-adversarial-networks.md lists what to change for more.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using ML.DeepExtensions;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Datasets;

int epochs = SampleSetup.Number("--epochs", 2);
int rows = SampleSetup.Number("--rows", 6000);
string output = SampleSetup.Text("--output", Path.Combine(Path.GetTempPath(), "mldx-generative-sample"));
Directory.CreateDirectory(output);
var mlContext = new MLContext(seed: 1);

Console.WriteLine($"1. Conditional GAN on {rows} Fashion-MNIST images, {epochs} epochs");
var images = mlContext.Data.LoadFashionMnist(FashionMnistSplit.Train, SampleSetup.DataDirectory("fashion-mnist", FashionMnist.DefaultDirectory), maxRows: rows);
var gan = mlContext.Transforms.ImageGan(new ImageGanOptions
{
    LabelColumnName = "Label",
    Epochs = epochs,
    BaseFilters = 16,
    SampleGrid = new SampleGridOptions { Directory = output, Columns = 10 },
    Progress = new Progress<TrainingProgress>(p => Console.WriteLine($"   epoch {p.Epoch}: d_loss {p.Logs["d_loss"]:F3}, g_loss {p.Logs["g_loss"]:F3}")),
}).Fit(images);

var classes = gan.ClassNames!;
var requested = classes.SelectMany(c => Enumerable.Repeat(c, 10)).ToArray();
var generated = gan.Sample(requested.Length, requested, seed: 7);
var pictures = mlContext.Transforms.ConvertToImage(28, 28, "Picture", "GeneratedImage", ImagePixelExtractingEstimator.ColorBits.Red)
    .Fit(generated).Transform(generated).GetColumn<MLImage>("Picture").ToArray();
for (int i = 0; i < pictures.Length; i++)
{
    string folder = Path.Combine(output, requested[i].Replace('/', '-'));
    Directory.CreateDirectory(folder);
    pictures[i].Save(Path.Combine(folder, $"{i % 10}.png"));
    pictures[i].Dispose();
}

mlContext.Model.Save(gan.Generator, gan.GeneratorInputSchema, Path.Combine(output, "generator.zip"));
Console.WriteLine($"   {pictures.Length} PNG files (one folder per class), the sample grids and generator.zip in {output}");

Console.WriteLine("\n2. A synthetic copy of a CSV table");
string csv = Path.Combine(output, "customers.csv");
WriteDemoTable(csv);
var table = mlContext.Data.LoadFromTextFile(csv, new TextLoader.Options
{
    HasHeader = true,
    Separators = [','],
    Columns = [new("Age", DataKind.Single, 0), new("Income", DataKind.Single, 1), new("City", DataKind.String, 2), new("Churned", DataKind.String, 3)],
});
var tabular = mlContext.Transforms.TabularGan(new TabularGanOptions { Epochs = 300, HiddenSize = 128, Seed = 1 }).Fit(table);
// Saved and loaded again, as a later process would: the file holds the generator and the columns' encoding.
string tabularPath = Path.Combine(output, "customers.tgan");
tabular.Save(tabularPath);
var synthetic = TabularGanModel.Load(tabularPath).Sample(1000, seed: 1);
string syntheticCsv = Path.Combine(output, "customers-synthetic.csv");
using (var stream = File.Create(syntheticCsv))
{
    mlContext.Data.SaveAsText(synthetic, stream, separatorChar: ',', headerRow: true, schema: false);
}

var realIncome = table.GetColumn<float>("Income").ToArray();
var fakeIncome = synthetic.GetColumn<float>("Income").ToArray();
Console.WriteLine($"   income below 50k: real {realIncome.Count(x => x < 50) / (double)realIncome.Length:P0}, synthetic {fakeIncome.Count(x => x < 50) / (double)fakeIncome.Length:P0}");
Console.WriteLine($"   {syntheticCsv}");

static void WriteDemoTable(string path)
{
    // Income is bimodal and tied to the city; churn is rarer among high earners.
    var random = new Random(3);
    string[] cities = ["Oslo", "Bergen", "Tromsø"];
    var lines = new List<string> { "Age,Income,City,Churned" };
    for (int i = 0; i < 1000; i++)
    {
        string city = cities[random.NextDouble() < 0.6 ? 0 : random.NextDouble() < 0.75 ? 1 : 2];
        bool high = random.NextDouble() < (city == "Oslo" ? 0.4 : 0.15);
        double income = (high ? 90 : 35) + ((high ? 12 : 6) * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        double age = 20 + (45 * random.NextDouble());
        string churned = random.NextDouble() < (high ? 0.05 : 0.25) ? "yes" : "no";
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"{age:F0},{income:F1},{city},{churned}"));
    }

    File.WriteAllLines(path, lines);
}

