using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Sequence;

namespace ML.DeepExtensions.Tests.Sequence;

[TestClass]
public sealed class RecurrentForecasterTests
{
    public sealed class Point
    {
        public float Value { get; set; }
    }

    /// <summary>A noisy sine of period 12 around 100.</summary>
    private static float[] Series(int length, int seed = 1)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(t => (float)(100 + (20 * Math.Sin(2 * Math.PI * t / 12)) + random.NextDouble()))];
    }

    private static RecurrentForecasterOptions Options() => new()
    {
        WindowSize = 12,
        Horizon = 3,
        Architecture = [Layer.Gru(16, returnSequences: false)],
        Epochs = 25,
        Seed = 2,
        Optimizer = new() { LearningRate = 0.01 },
    };

    [TestMethod]
    public void ForecastsFromTheEndOfTheSeriesWithIntervalsAndTakesNewObservations()
    {
        var context = new MLContext(seed: 1);
        var series = Series(240);
        var model = context.Forecasting.ForecastByRecurrentNetwork(Options()).Fit(context.Data.LoadFromEnumerable(series.Select(v => new Point { Value = v })));
        var engine = model.CreateTimeSeriesEngine();

        var forecast = engine.Predict();
        var truth = Enumerable.Range(240, 3).Select(t => 100 + (20 * Math.Sin(2 * Math.PI * t / 12)) + 0.5).ToArray();
        double mae = forecast.Forecast.Zip(truth, (f, y) => Math.Abs(f - y)).Average();
        Assert.IsLessThan(3.0, mae, $"MAE of the 3-step forecast {mae:F2} (the seasonal swing is ±20)");
        for (int h = 0; h < 3; h++)
        {
            Assert.IsTrue(forecast.LowerBound[h] < forecast.Forecast[h] && forecast.Forecast[h] < forecast.UpperBound[h], $"step {h}: lower < forecast < upper");
        }

        var next = engine.Predict((float)truth[0]);
        Assert.AreEqual((float)truth[0], engine.Window[^1]);
        Assert.IsLessThan(3.0, Math.Abs(next.Forecast[0] - truth[1]), "after one observation the next step is forecast");
    }

    [TestMethod]
    public void TheSavedModelForecastsAWindowColumnWithoutTheEngine()
    {
        var context = new MLContext(seed: 1);
        var series = Series(120);
        var model = context.Forecasting.ForecastByRecurrentNetwork(Options()).Fit(context.Data.LoadFromEnumerable(series.Select(v => new Point { Value = v })));
        var expected = model.CreateTimeSeriesEngine().Predict();

        var definition = SchemaDefinition.Create(typeof(WindowRow));
        definition[nameof(WindowRow.Window)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 12);
        var windows = context.Data.LoadFromEnumerable([new WindowRow { Window = series[^12..] }], definition);
        using var stream = new MemoryStream();
        context.Model.Save(model, windows.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        var scored = loaded.Transform(windows);
        CollectionAssert.AreEqual(expected.Forecast, scored.GetColumn<float[]>("Forecast").Single());
        CollectionAssert.AreEqual(expected.UpperBound, scored.GetColumn<float[]>("UpperBound").Single());
        (loaded as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void ASavedForecasterForecastsInAProcessWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        var series = Series(96);
        var options = new RecurrentForecasterOptions { WindowColumnName = "Features", WindowSize = 12, Horizon = 2, Architecture = [Layer.Lstm(8, returnSequences: false)], Epochs = 3, Seed = 2 };
        var model = context.Forecasting.ForecastByRecurrentNetwork(options).Fit(context.Data.LoadFromEnumerable(series.Select(v => new Point { Value = v })));
        float[][] windows = [series[^12..], series[^24..^12]];
        var definition = SchemaDefinition.Create(typeof(FeaturesRow));
        definition[nameof(FeaturesRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 12);
        var data = context.Data.LoadFromEnumerable(windows.Select(w => new FeaturesRow { Features = w }), definition);
        var expected = model.Transform(data).GetColumn<float[]>("Forecast").ToArray();

        var output = ML.DeepExtensions.Tests.MLNet.SavedModelInAnotherProcessTests.ScoreElsewhere(context, model, data.Schema, windows);

        var header = output[0].Split('\t').ToList();
        CollectionAssert.AreEquivalent(new[] { "Forecast", "LowerBound", "UpperBound" }, header);
        for (int i = 0; i < windows.Length; i++)
        {
            var forecast = output[i + 1].Split('\t')[header.IndexOf("Forecast")].Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            CollectionAssert.AreEqual(expected[i], forecast, $"window {i}");
        }
    }

    public sealed class FeaturesRow
    {
        public float[] Features { get; set; } = [];
    }

    [TestMethod]
    public void BadSeriesAndSettingsAreNamed()
    {
        var context = new MLContext(seed: 1);
        var forecasting = context.Forecasting;
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => forecasting.ForecastByRecurrentNetwork(horizon: 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => forecasting.ForecastByRecurrentNetwork(confidenceLevel: 1));

        var shortSeries = context.Data.LoadFromEnumerable(Series(10).Select(v => new Point { Value = v }));
        var tooShort = Assert.ThrowsExactly<ArgumentException>(() => forecasting.ForecastByRecurrentNetwork(windowSize: 8, horizon: 3).Fit(shortSeries));
        StringAssert.Contains(tooShort.Message, "10 rows");

        var withGap = Series(60);
        withGap[17] = float.NaN;
        var gap = Assert.ThrowsExactly<ArgumentException>(() => forecasting.ForecastByRecurrentNetwork().Fit(context.Data.LoadFromEnumerable(withGap.Select(v => new Point { Value = v }))));
        StringAssert.Contains(gap.Message, "row 17");
    }

    public sealed class WindowRow
    {
        public float[] Window { get; set; } = [];
    }
}
