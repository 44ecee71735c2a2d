using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Tests.Tabular;

namespace ML.DeepExtensions.Tests.MLNet;

/// <summary>
/// The library reaches three ML.NET internals (see docs/architecture.md). These tests fail loudly,
/// naming which one, if an ML.NET upgrade breaks it.
/// </summary>
[TestClass]
public sealed class MLNetInternalsGuardTests
{
    [TestMethod]
    public void TheCatalogsLeadToTheMLContextEnvironment()
    {
        var context = new MLContext(seed: 3);
        object[] catalogs =
        [
            context.MulticlassClassification.Trainers,
            context.BinaryClassification.Trainers,
            context.Regression.Trainers,
        ];

        foreach (var catalog in catalogs)
        {
            Assert.IsInstanceOfType<IHostEnvironment>(CatalogEnvironment.From(catalog), catalog.GetType().Name);
        }
    }

    [TestMethod]
    public void TrainingProgressReachesMLContextLog()
    {
        var context = new MLContext(seed: 1);
        var messages = new List<string>();
        context.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, TabularFixtures.Rows(40))).Transform(TabularFixtures.Load(context, TabularFixtures.Rows(40)));

        context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [4], epochs: 2).Fit(data);

        Assert.IsTrue(messages.Any(m => m.Contains("MlpMulticlass: epoch 2/2", StringComparison.Ordinal)), string.Join("\n", messages.Take(20)));
        Assert.IsTrue(messages.Any(m => m.Contains("40 rows x 5 features", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void TheMLContextSeedIsTheDefaultSeed()
    {
        float[] Scores(int contextSeed)
        {
            var context = new MLContext(seed: contextSeed);
            var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, TabularFixtures.Rows(60))).Transform(TabularFixtures.Load(context, TabularFixtures.Rows(60)));
            var model = context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [4], epochs: 1).Fit(data);
            return model.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        }

        CollectionAssert.AreEqual(Scores(21), Scores(21));
        CollectionAssert.AreNotEqual(Scores(21), Scores(22));
    }

    [TestMethod]
    public void MLNetScorersCanBeCreatedForEveryTask()
    {
        var context = new MLContext();
        var data = context.Data.LoadFromEnumerable(new[] { new RawRow { Raw = [0.5f, -1f, 2f], Single = [0.25f], Label = 2 } });
        var keyed = context.Transforms.Conversion.MapValueToKey("Key", "Label").Fit(data).Transform(data);

        var multiclass = MLNetScorers.Multiclass(context, keyed.Schema, "Raw", 3, "Key", ["a", "b", "c"]).Transform(keyed);
        var binary = MLNetScorers.Binary(context, keyed.Schema, "Single").Transform(keyed);
        var regression = MLNetScorers.Regression(context, keyed.Schema, "Single").Transform(keyed);

        var softmax = multiclass.GetColumn<float[]>("Score").Single();
        double total = Math.Exp(0.5) + Math.Exp(-1) + Math.Exp(2);
        Assert.AreEqual(Math.Exp(2) / total, softmax[2], 1e-6);
        Assert.AreEqual(3u, multiclass.GetColumn<uint>("PredictedLabel").Single());
        Assert.AreEqual(0.25f, binary.GetColumn<float>("Score").Single());
        Assert.IsTrue(binary.GetColumn<bool>("PredictedLabel").Single());
        Assert.AreEqual(0.25f, regression.GetColumn<float>("Score").Single());
    }

    [TestMethod]
    public void SchemaShapeColumnsCanBeCreated()
    {
        var column = SchemaShapes.Key("PredictedLabel", withTextKeyValues: true);

        Assert.AreEqual("PredictedLabel", column.Name);
        Assert.IsTrue(column.IsKey);
        Assert.IsTrue(column.Annotations.Any(a => a.Name == "KeyValues"));
    }

    private sealed class RawRow
    {
        [VectorType(3)]
        public float[] Raw { get; set; } = [];

        [VectorType(1)]
        public float[] Single { get; set; } = [];

        public int Label { get; set; }
    }
}
