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

    public sealed class DriverPoint
    {
        public float Value { get; set; }

        public float Driver { get; set; }
    }

    /// <summary>The value follows a random driver with a lag of one step: unpredictable from its own past alone.</summary>
    private static DriverPoint[] DrivenSeries(int length)
    {
        var random = new Random(3);
        var driver = Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
        return [.. Enumerable.Range(0, length).Select(t => new DriverPoint { Driver = driver[t], Value = t == 0 ? 0 : 10 * driver[t - 1] })];
    }

    [TestMethod]
    public void ACovariateColumnIsReadAsAnInputSeries()
    {
        var context = new MLContext(seed: 1);
        var points = DrivenSeries(260);
        var train = context.Data.LoadFromEnumerable(points[..200]);
        var all = context.Data.LoadFromEnumerable(points);
        RecurrentForecasterOptions Make(string[] covariates) => new()
        {
            FeatureColumnNames = covariates,
            WindowSize = 4,
            Horizon = 1,
            Architecture = [Layer.Gru(16, returnSequences: false)],
            Epochs = 40,
            Seed = 2,
            Optimizer = new() { LearningRate = 0.01 },
        };

        using var alone = context.Forecasting.ForecastByRecurrentNetwork(Make([])).Fit(train);
        using var driven = context.Forecasting.ForecastByRecurrentNetwork(Make(["Driver"])).Fit(train);
        double maeAlone = alone.Backtest(all, firstOrigin: 200).Metrics[0].MeanAbsoluteError;
        double maeDriven = driven.Backtest(all, firstOrigin: 200).Metrics[0].MeanAbsoluteError;

        Assert.IsLessThan(maeAlone / 3, maeDriven, $"held-out MAE with the driver {maeDriven:F3}, without {maeAlone:F3} (the values spread over 0-10)");
        var engine = driven.CreateTimeSeriesEngine();
        var next = engine.Predict(observation: 10 * points[^1].Driver, 0.8f);
        Assert.AreEqual(8.0, next.Forecast[0], 1.0, "the next value is ten times the driver just observed");
        Assert.ThrowsExactly<ArgumentException>(() => engine.Observe(1f));
        Assert.ThrowsExactly<ArgumentException>(() => engine.Observe(1f, float.NaN));
    }

    [TestMethod]
    public void ABacktestScoresEveryHeldOutOriginWithMLNetRegressionMetrics()
    {
        var context = new MLContext(seed: 1);
        var series = Series(240);
        var data = context.Data.LoadFromEnumerable(series.Select(v => new Point { Value = v }));
        using var model = context.Forecasting.ForecastByRecurrentNetwork(Options()).Fit(context.Data.LoadFromEnumerable(series[..200].Select(v => new Point { Value = v })));

        var backtest = model.Backtest(data, firstOrigin: 200);

        Assert.HasCount(3, backtest.Metrics);
        Assert.AreEqual(40, backtest.Forecasts.Count(f => f.Step == 1), "origins 200..239");
        Assert.AreEqual(38, backtest.Forecasts.Count(f => f.Step == 3), "step 3 only where row origin + 2 exists");
        var step3 = backtest.Forecasts.Where(f => f.Step == 3).ToList();
        Assert.AreEqual(step3.Average(f => Math.Abs(f.Label - f.Score)), backtest.Metrics[2].MeanAbsoluteError, 1e-4);
        Assert.AreEqual(Math.Sqrt(step3.Average(f => (f.Label - f.Score) * (double)(f.Label - f.Score))), backtest.Metrics[2].RootMeanSquaredError, 1e-4);
        Assert.IsLessThan(3.0, backtest.Metrics[0].MeanAbsoluteError);
        Assert.AreEqual(series[202], step3[0].Label);
        var fromEngine = model.CreateTimeSeriesEngine().Predict();
        CollectionAssert.AreEqual(fromEngine.Forecast, backtest.Forecasts.Where(f => f.Origin == 200).Select(f => f.Score).ToArray(), "origin 200 is the engine's first forecast");
        Assert.IsTrue(backtest.Coverage.All(c => c is >= 0 and <= 1));
    }

    [TestMethod]
    public void BadCovariatesAndBacktestsAreNamed()
    {
        var context = new MLContext(seed: 1);
        var points = DrivenSeries(60);
        points[23].Driver = float.NaN;
        var options = new RecurrentForecasterOptions { FeatureColumnNames = ["Driver"], WindowSize = 4, Epochs = 1 };
        var gap = Assert.ThrowsExactly<ArgumentException>(() => context.Forecasting.ForecastByRecurrentNetwork(options).Fit(context.Data.LoadFromEnumerable(points)));
        StringAssert.Contains(gap.Message, "'Driver'");
        StringAssert.Contains(gap.Message, "row 23");

        var missing = Assert.ThrowsExactly<ArgumentException>(() => context.Forecasting.ForecastByRecurrentNetwork(new RecurrentForecasterOptions { FeatureColumnNames = ["Temperature"] })
            .Fit(context.Data.LoadFromEnumerable(points)));
        StringAssert.Contains(missing.Message, "'Temperature'");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Forecasting.ForecastByRecurrentNetwork(new RecurrentForecasterOptions { FeatureColumnNames = ["Value"] }));

        using var model = context.Forecasting.ForecastByRecurrentNetwork(new RecurrentForecasterOptions { WindowSize = 4, Horizon = 2, Epochs = 1, Seed = 1 })
            .Fit(context.Data.LoadFromEnumerable(Series(30).Select(v => new Point { Value = v })));
        var late = Assert.ThrowsExactly<ArgumentException>(() => model.Backtest(context.Data.LoadFromEnumerable(Series(30).Select(v => new Point { Value = v })), firstOrigin: 30));
        StringAssert.Contains(late.Message, "30 rows");
    }

    public sealed class WindowRow
    {
        public float[] Window { get; set; } = [];
    }
}
