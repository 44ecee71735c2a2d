using Microsoft.ML;
using ML.DeepExtensions.Supervised;
using ML.DeepExtensions.Tabular;

namespace ML.DeepExtensions.Tests.Tabular;

/// <summary>
/// Label standardisation makes regression independent of the label's scale (issue 12, item 3): the
/// loss compares standardised values, so labels near 1e19, whose squares overflow float32, train
/// as well as labels near 1.
/// </summary>
[TestClass]
public sealed class RegressionLabelScaleTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1e10)]
    [DataRow(1e19)]
    [DataRow(1e-20)]
    public void LabelsAtAnyScaleReachAGoodRSquared(double scale)
    {
        var context = new MLContext(seed: 1);
        var model = context.Regression.Trainers.Mlp(new MlpRegressionOptions { HiddenLayers = [32], Epochs = 20, Seed = 1 })
            .Fit(Scaled(context, TabularFixtures.Rows(300, seed: 1), scale));

        var metrics = context.Regression.Evaluate(model.Transform(Scaled(context, TabularFixtures.Rows(100, seed: 2), scale)));

        TestContext.WriteLine($"label scale {scale:G3}: R² {metrics.RSquared:F4}, final loss {model.History["loss"][^1]:G4}");
        Assert.IsGreaterThan(0.95, metrics.RSquared, $"R² {metrics.RSquared} at label scale {scale}");
        Assert.IsTrue(double.IsFinite(model.History["loss"][^1]) && double.IsFinite(model.History["rmse"][^1]), "loss and rmse stay finite");
    }

    [TestMethod]
    [DataRow(RegressionLoss.Huber)]
    public void OtherLossesAlsoTrainAtALargeLabelScale(RegressionLoss loss)
    {
        var context = new MLContext(seed: 1);
        var model = context.Regression.Trainers.Mlp(new MlpRegressionOptions { HiddenLayers = [32], Epochs = 20, Seed = 1, Loss = loss, HuberDelta = 1e18 })
            .Fit(Scaled(context, TabularFixtures.Rows(300, seed: 1), 1e19));

        var metrics = context.Regression.Evaluate(model.Transform(Scaled(context, TabularFixtures.Rows(100, seed: 2), 1e19)));

        Assert.IsGreaterThan(0.9, metrics.RSquared, $"R² {metrics.RSquared} with {loss}");
    }

    /// <summary>The fixture's target (about ±1,000) rescaled to about ±<paramref name="scale"/>, as the label.</summary>
    private static IDataView Scaled(MLContext context, List<TabularFixtures.Row> rows, double scale)
    {
        foreach (var row in rows)
        {
            row.Target = (float)(row.Target / 1000.0 * scale);
        }

        return context.Transforms.CopyColumns("Label", nameof(TabularFixtures.Row.Target)).Fit(TabularFixtures.Load(context, rows)).Transform(TabularFixtures.Load(context, rows));
    }
}
