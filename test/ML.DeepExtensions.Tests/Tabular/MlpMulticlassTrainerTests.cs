using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Tabular;

[TestClass]
public sealed class MlpMulticlassTrainerTests
{
    [TestMethod]
    public void TrainsEvaluatesAndRoundTripsThroughModelSave()
    {
        var context = new MLContext(seed: 1);
        var train = TabularFixtures.Load(context, TabularFixtures.Rows(300, seed: 1));
        var test = TabularFixtures.Load(context, TabularFixtures.Rows(100, seed: 2));
        var pipeline = TabularFixtures.KeyLabel(context)
            .Append(context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [16], epochs: 15));

        var model = pipeline.Fit(train);
        var scored = model.Transform(test);
        var metrics = context.MulticlassClassification.Evaluate(scored);

        Assert.IsGreaterThan(0.95, metrics.MacroAccuracy, $"macro accuracy {metrics.MacroAccuracy}");
        Assert.IsLessThan(0.3, metrics.LogLoss);

        string path = Path.Combine(Path.GetTempPath(), $"mldx-mlp-{Guid.NewGuid():N}.zip");
        try
        {
            context.Model.Save(model, train.Schema, path);
            var loaded = new MLContext().Model.Load(path, out _);
            var before = Scores(scored);
            var after = Scores(loaded.Transform(test));
            Assert.AreEqual(before.Length, after.Length);
            double maxDiff = before.Zip(after, (a, b) => Math.Abs(a - b)).Max();
            Assert.IsLessThanOrEqualTo(1e-5, maxDiff);
            CollectionAssert.AreEqual(PredictedNames(scored), PredictedNames(loaded.Transform(test)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void OutputColumnsFollowMLNetConventions()
    {
        var context = new MLContext(seed: 1);
        var train = TabularFixtures.Load(context, TabularFixtures.Rows(60));
        var model = TabularFixtures.KeyLabel(context)
            .Append(context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [8], epochs: 2))
            .Fit(train);

        var schema = model.Transform(train).Schema;

        var score = schema["Score"];
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), score.Type);
        var predicted = schema["PredictedLabel"];
        Assert.IsInstanceOfType<KeyDataViewType>(predicted.Type);
        Assert.AreEqual(3UL, ((KeyDataViewType)predicted.Type).Count);
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        predicted.GetKeyValues(ref names);
        CollectionAssert.AreEqual(KeyNames(schema["Label"]), names.DenseValues().Select(v => v.ToString()).ToArray());
    }

    [TestMethod]
    public void PredictionEngineWorksUnchanged()
    {
        var context = new MLContext(seed: 1);
        var rows = TabularFixtures.Rows(300);
        var model = TabularFixtures.KeyLabel(context)
            .Append(context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [16], epochs: 15))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedCategory", "PredictedLabel"))
            .Fit(TabularFixtures.Load(context, rows));

        var engine = context.Model.CreatePredictionEngine<TabularFixtures.Row, Prediction>(model);
        var correct = rows.Take(50).Count(r => engine.Predict(r).PredictedCategory == r.Category);

        Assert.IsGreaterThanOrEqualTo(47, correct);
        Assert.AreEqual(3, engine.Predict(rows[0]).Score.Length);
        Assert.AreEqual(1.0, engine.Predict(rows[0]).Score.Sum(), 1e-5);
    }

    [TestMethod]
    public void HistoryAndNetworkAreAvailableAfterFit()
    {
        var context = new MLContext(seed: 1);
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, TabularFixtures.Rows(100))).Transform(TabularFixtures.Load(context, TabularFixtures.Rows(100)));
        var trainer = context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            HiddenLayers = [8],
            Epochs = 4,
            Data = { ValidationFraction = 0.2 },
            BatchNormalization = true,
            Dropout = 0.1,
        });

        var model = trainer.Fit(data);

        Assert.AreEqual(4, model.History.Epochs.Count);
        Assert.IsFalse(double.IsNaN(model.History["val_accuracy"][3]));
        Assert.IsNotEmpty(model.Network.parameters());
        Assert.IsGreaterThan(100, model.OnnxModel.Length);
    }

    [TestMethod]
    public void SameSeedGivesIdenticalScores()
    {
        float[] Train(int seed)
        {
            var context = new MLContext(seed: seed);
            var data = TabularFixtures.Load(context, TabularFixtures.Rows(120));
            var model = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [8], epochs: 3)).Fit(data);
            return Scores(model.Transform(data));
        }

        CollectionAssert.AreEqual(Train(5), Train(5));
        CollectionAssert.AreNotEqual(Train(5), Train(6));
    }

    internal static float[] Scores(IDataView scored) =>
        scored.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();

    private static uint[] PredictedNames(IDataView scored) => scored.GetColumn<uint>("PredictedLabel").ToArray();

    private static string[] KeyNames(DataViewSchema.Column column)
    {
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        column.GetKeyValues(ref names);
        return names.DenseValues().Select(v => v.ToString()).ToArray();
    }

    private sealed class Prediction
    {
        public string PredictedCategory { get; set; } = "";

        public float[] Score { get; set; } = [];
    }
}
