using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Supervised;
using ML.DeepExtensions.Tabular;

namespace ML.DeepExtensions.Tests.Tabular;

[TestClass]
public sealed class MlpBinaryAndRegressionTests
{
    [TestMethod]
    public void BinaryTrainerProducesMLNetBinaryColumnsThatEvaluateAndRoundTrip()
    {
        var context = new MLContext(seed: 1);
        var train = TabularFixtures.Load(context, TabularFixtures.Rows(300, seed: 1));
        var test = TabularFixtures.Load(context, TabularFixtures.Rows(100, seed: 2));
        var model = context.Transforms.CopyColumns("Label", nameof(TabularFixtures.Row.IsPositive))
            .Append(context.BinaryClassification.Trainers.Mlp(hiddenLayers: [16], epochs: 15))
            .Fit(train);

        var scored = model.Transform(test);
        var metrics = context.BinaryClassification.Evaluate(scored);

        Assert.AreEqual(NumberDataViewType.Single, scored.Schema["Score"].Type);
        Assert.AreEqual(NumberDataViewType.Single, scored.Schema["Probability"].Type);
        Assert.AreEqual(BooleanDataViewType.Instance, scored.Schema["PredictedLabel"].Type);
        Assert.IsGreaterThan(0.95, metrics.Accuracy);
        Assert.IsGreaterThan(0.98, metrics.AreaUnderRocCurve);

        var score = scored.GetColumn<float>("Score").ToArray();
        var probability = scored.GetColumn<float>("Probability").ToArray();
        var predicted = scored.GetColumn<bool>("PredictedLabel").ToArray();
        for (int i = 0; i < score.Length; i++)
        {
            Assert.AreEqual(1 / (1 + Math.Exp(-score[i])), probability[i], 1e-6, "Probability is the sigmoid of Score");
            Assert.AreEqual(score[i] > 0, predicted[i], "PredictedLabel is Score > 0");
        }

        // The logged training accuracy is the binary accuracy (logit > 0), not an arg max over one column.
        var trainer = model.LastTransformer;
        var trainMetrics = context.BinaryClassification.Evaluate(model.Transform(train));
        Assert.AreEqual(trainMetrics.Accuracy, trainer.History["accuracy"][^1], 0.05);

        var loaded = RoundTrip(context, model, train.Schema);
        var reloadedScores = loaded.Transform(test).GetColumn<float>("Probability").ToArray();
        Assert.IsLessThanOrEqualTo(1e-5, probability.Zip(reloadedScores, (a, b) => Math.Abs(a - b)).Max());
    }

    [TestMethod]
    public void RegressionTrainerLearnsTargetsOfAnyScaleAndRoundTrips()
    {
        var context = new MLContext(seed: 1);
        var train = TabularFixtures.Load(context, TabularFixtures.Rows(400, seed: 1));
        var test = TabularFixtures.Load(context, TabularFixtures.Rows(100, seed: 2));
        var model = context.Transforms.CopyColumns("Label", nameof(TabularFixtures.Row.Target))
            .Append(context.Regression.Trainers.Mlp(new MlpRegressionOptions { HiddenLayers = [32], Epochs = 40 }))
            .Fit(train);

        var scored = model.Transform(test);
        var metrics = context.Regression.Evaluate(scored);

        Assert.AreEqual(NumberDataViewType.Single, scored.Schema["Score"].Type);
        Assert.IsGreaterThan(0.97, metrics.RSquared, $"R² {metrics.RSquared}");

        var loaded = RoundTrip(context, model, train.Schema);
        var before = scored.GetColumn<float>("Score").ToArray();
        var after = loaded.Transform(test).GetColumn<float>("Score").ToArray();
        double largest = before.Max(Math.Abs);
        Assert.IsLessThanOrEqualTo(1e-5 * Math.Max(1, largest), before.Zip(after, (a, b) => Math.Abs(a - b)).Max());
    }

    [TestMethod]
    [DataRow(RegressionLoss.MeanAbsoluteError)]
    [DataRow(RegressionLoss.Huber)]
    public void RegressionLossesTrain(RegressionLoss loss)
    {
        var context = new MLContext(seed: 1);
        var train = context.Transforms.CopyColumns("Label", nameof(TabularFixtures.Row.Target)).Fit(TabularFixtures.Load(context, TabularFixtures.Rows(200))).Transform(TabularFixtures.Load(context, TabularFixtures.Rows(200)));
        var model = context.Regression.Trainers.Mlp(new MlpRegressionOptions { HiddenLayers = [16], Epochs = 20, Loss = loss }).Fit(train);

        Assert.IsLessThan(model.History["loss"][0], model.History["loss"][^1]);
    }

    internal static ITransformer RoundTrip(MLContext context, ITransformer model, DataViewSchema schema)
    {
        using var stream = new MemoryStream();
        context.Model.Save(model, schema, stream);
        stream.Position = 0;
        return new MLContext().Model.Load(stream, out _);
    }
}
