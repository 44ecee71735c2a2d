using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Generative;

namespace ML.DeepExtensions.Tests.Generative;

[TestClass]
public sealed class TabularGanTests
{
    public TestContext TestContext { get; set; } = null!;

    public sealed class Row
    {
        public float Income { get; set; }

        public string City { get; set; } = "";

        public float Age { get; set; }

        public string Segment { get; set; } = "";
    }

    public sealed class DoubleRow
    {
        public double Income { get; set; }
    }

    /// <summary>Income is bimodal (70 % near 20, 30 % near 80); City is 60/30/10 %; Segment follows Income.</summary>
    private static Row[] Rows(int count, int seed = 1)
    {
        var random = new Random(seed);
        string[] cities = ["Oslo", "Bergen", "Tromsø"];
        return Enumerable.Range(0, count).Select(i =>
        {
            bool high = random.NextDouble() < 0.3;
            double u = random.NextDouble();
            return new Row
            {
                Income = (float)((high ? 80 : 20) + ((high ? 5 : 2) * Normal(random))),
                City = cities[u < 0.6 ? 0 : u < 0.9 ? 1 : 2],
                Age = (float)(20 + (40 * random.NextDouble())),
                Segment = high ? "premium" : "basic",
            };
        }).ToArray();
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static IDataView Table(MLContext context, Row[] rows) =>
        context.Transforms.Conversion.MapValueToKey("Segment").Fit(context.Data.LoadFromEnumerable(rows)).Transform(context.Data.LoadFromEnumerable(rows));

    private static TabularGanOptions Options(int seed = 3) => new() { Epochs = 100, BatchSize = 100, HiddenSize = 64, NoiseSize = 16, Seed = seed, IntraOpThreads = 1 }; // one thread: a tiny MLP only waits at libtorch's barriers on a loaded machine

    [TestMethod]
    public void ModeSpecificNormalisationFindsTheModesAndRoundTripsValues()
    {
        var random = new Random(2);
        var values = Rows(2000).Select(r => r.Income).ToArray();
        var column = NumericColumn.Fit("Income", values, 10, random);
        var dominant = column.Means.Zip(column.Deviations).OrderBy(m => m.First).ToArray();
        TestContext.WriteLine(string.Join("; ", dominant.Select(m => $"{m.First:F1} ± {m.Second:F1}")));
        Assert.IsTrue(column.Means.Any(m => Math.Abs(m - 20) < 3) && column.Means.Any(m => Math.Abs(m - 80) < 6), "a mode near each peak");
        var segment = new float[column.Width];
        foreach (float value in values.Take(50))
        {
            column.Encode(value, random, segment);
            Assert.AreEqual(value, column.Decode(segment), 1e-3, "decode(encode(x)) = x within a mode's range");
        }
    }

    [TestMethod]
    public void SyntheticRowsHaveTheTablesSchemaModesAndCategoryFrequencies()
    {
        var context = new MLContext(seed: 1);
        var table = Table(context, Rows(600));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var model = context.Transforms.TabularGan(Options()).Fit(table);
        TestContext.WriteLine($"Fit: {watch.Elapsed.TotalSeconds:F1} s");
        var synthetic = model.Sample(2000, seed: 5);

        CollectionAssert.AreEqual(table.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToArray(), synthetic.Schema.Select(c => c.Name).ToArray(), "the input's columns, in order");
        foreach (var column in table.Schema.Where(c => !c.IsHidden))
        {
            Assert.AreEqual(column.Type, synthetic.Schema[column.Name].Type, column.Name);
        }

        var segments = context.Transforms.Conversion.MapKeyToValue("SegmentName", "Segment").Fit(synthetic).Transform(synthetic).GetColumn<string>("SegmentName").ToArray();
        CollectionAssert.IsSubsetOf(segments.Distinct().ToArray(), new[] { "basic", "premium" }, "key values kept");
        var income = synthetic.GetColumn<float>("Income").ToArray();
        var cities = synthetic.GetColumn<string>("City").ToArray();
        double low = income.Count(x => x < 50) / (double)income.Length;
        double oslo = cities.Count(c => c == "Oslo") / (double)cities.Length;
        double tromso = cities.Count(c => c == "Tromsø") / (double)cities.Length;
        TestContext.WriteLine($"income < 50: {low:P1} (real 70 %), Oslo {oslo:P1} (60 %), Tromsø {tromso:P1} (10 %), d_loss {model.History.Epochs[^1]["d_loss"]:F3}");
        TestContext.WriteLine("synthetic income deciles: " + string.Join(", ", income.Order().Where((_, i) => i % 200 == 0).Select(x => x.ToString("F0", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.AreEqual(0.7, low, 0.15);
        Assert.AreEqual(0.6, oslo, 0.15);
        Assert.AreEqual(0.1, tromso, 0.1);
        Assert.IsTrue(income.Count(x => x is > 35 and < 65) < 0.15 * income.Length, "few values between the modes");

        CollectionAssert.AreEqual(income, model.Sample(2000, seed: 5).GetColumn<float>("Income").ToArray(), "the same seed gives the same rows");
        var again = context.Transforms.TabularGan(Options()).Fit(table).Sample(50, seed: 5).GetColumn<float>("Income").ToArray();
        CollectionAssert.AreEqual(income.Take(50).ToArray(), again, "the same training seed gives the same generator");
    }

    [TestMethod]
    public void AResumedTabularRunEndsWithTheWeightsOfAnUninterruptedOne()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-tgan-").FullName;
        try
        {
            var context = new MLContext(seed: 1);
            var table = Table(context, Rows(200));
            TabularGanOptions Settings(string folder, string? resume = null) => new()
            {
                Epochs = 4, BatchSize = 50, HiddenSize = 16, NoiseSize = 4, Seed = 9, IntraOpThreads = 1,
                Checkpoints = new ML.DeepExtensions.Training.CheckpointOptions { Directory = Path.Combine(directory, folder) },
                ResumeFromCheckpoint = resume,
            };
            var full = context.Transforms.TabularGan(Settings("full")).Fit(table);
            var resumed = context.Transforms.TabularGan(Settings("resumed", Path.Combine(directory, "full", "checkpoint-epoch-0002.mldx"))).Fit(table);
            ImageGanTests.AssertSameWeights(full.GeneratorNetwork, resumed.GeneratorNetwork, "tabular generator");
            CollectionAssert.AreEqual(full.Sample(20, seed: 1).GetColumn<float>("Income").ToArray(), resumed.Sample(20, seed: 1).GetColumn<float>("Income").ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void ASavedTabularGanLoadsAndSamplesTheSameRowsWithTheSameSchema()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-tgan-save-").FullName;
        try
        {
            var context = new MLContext(seed: 1);
            var table = Table(context, Rows(200));
            var model = context.Transforms.TabularGan(new TabularGanOptions { Epochs = 3, BatchSize = 50, HiddenSize = 16, NoiseSize = 4, Seed = 9, IntraOpThreads = 1 }).Fit(table);
            string path = Path.Combine(directory, "customers.tgan");
            model.Save(path);
            var loaded = TabularGanModel.Load(path);

            var expected = model.Sample(40, seed: 2);
            var actual = loaded.Sample(40, seed: 2);
            CollectionAssert.AreEqual(expected.Schema.Select(c => $"{c.Name}:{c.Type}").ToArray(), actual.Schema.Select(c => $"{c.Name}:{c.Type}").ToArray());
            CollectionAssert.AreEqual(expected.GetColumn<float>("Income").ToArray(), actual.GetColumn<float>("Income").ToArray());
            CollectionAssert.AreEqual(expected.GetColumn<string>("City").ToArray(), actual.GetColumn<string>("City").ToArray());
            CollectionAssert.AreEqual(expected.GetColumn<uint>("Segment").ToArray(), actual.GetColumn<uint>("Segment").ToArray());
            Assert.HasCount(3, loaded.History.Epochs);

            string damaged = Path.Combine(directory, "damaged.tgan");
            File.WriteAllBytes(damaged, File.ReadAllBytes(path).AsSpan(0, 40).ToArray());
            Assert.ThrowsExactly<InvalidDataException>(() => TabularGanModel.Load(damaged));
            string other = Path.Combine(directory, "other.tgan");
            File.WriteAllText(other, "Income,City\n1,Oslo\n");
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => TabularGanModel.Load(other)).Message, "is not a tabular GAN");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void ColumnsOfOtherTypesAndMissingValuesAreRefusedNamingThem()
    {
        var context = new MLContext(seed: 1);
        var doubles = context.Data.LoadFromEnumerable(new[] { new DoubleRow { Income = 1 }, new DoubleRow { Income = 2 } });
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.TabularGan(new TabularGanOptions { NumericColumns = ["Income"], Epochs = 1 }).Fit(doubles));
        StringAssert.Contains(error.Message, "'Income' is Double");
        StringAssert.Contains(error.Message, "ConvertType");

        var rows = Rows(10);
        rows[4].Income = float.NaN;
        var missing = Assert.ThrowsExactly<DataValidationException>(() => context.Transforms.TabularGan(new TabularGanOptions { Epochs = 1 }).Fit(Table(context, rows)));
        StringAssert.Contains(missing.Message, "'Income' holds NaN in row 4");
    }
}
