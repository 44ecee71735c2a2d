// Forecasting a real series with a recurrent network in an ML.NET pipeline:
// yearly sunspot numbers 1700-2008 (Debian's python3-statsmodels), the last 30 years held out.
//   1. Fit ForecastByRecurrentNetwork on 1700-1978 (a GRU reading 33-year windows, 5 years ahead, 90% interval;
//      the settings the sunspots benchmark chose on validation years).
//   2. Back-test: forecasts from every held-out year, scored with ML.NET's regression evaluator.
//   3. Retrain on every year, forecast 2009-2013 from the end of the series with the time-series engine.
//   4. Save the model (it forecasts wherever ML.NET and ONNX Runtime run) and a PNG plot of the series,
//      the back-test forecasts and the forecast with its interval (ScottPlot).
// Usage: dotnet run --project samples/Forecasting [-- --epochs N --output DIR]
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;
using ML.DeepExtensions.Training;

int epochs = SampleSetup.Number("--epochs", 100);
string output = SampleSetup.Text("--output", Path.Combine(Path.GetTempPath(), "mldx-forecasting-sample"));
Directory.CreateDirectory(output);
var mlContext = new MLContext(seed: 1);

var sunspots = StatsmodelsSeries.Sunspots(SampleSetup.DataDirectory("statsmodels", StatsmodelsSeries.DefaultDirectory));
int heldOut = 30, train = sunspots.Count - heldOut;
var years = sunspots.Select(p => (double)p.Time.Year).ToArray();
Console.WriteLine($"Sunspots {years[0]}-{years[^1]}: training on {years[0]}-{years[train - 1]}, holding out {years[train]}-{years[^1]}");

RecurrentForecasterOptions Options() => new()
{
    InputColumnName = nameof(SeriesPoint.Value),
    WindowSize = 33,
    Horizon = 5,
    Loss = ForecastLoss.AbsoluteError,
    ConfidenceLevel = 0.9,
    Architecture = [Layer.Gru(16, returnSequences: false)],
    Epochs = epochs,
    Seed = 1,
    IntraOpThreads = 1, // a network this small trains fastest on one libtorch thread
    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-2 },
    LearningRateSchedule = new CosineSchedule(),
};

// 1-2. Fit on the training years, back-test over the held-out ones.
var all = mlContext.Data.LoadFromEnumerable(sunspots);
using (var model = mlContext.Forecasting.ForecastByRecurrentNetwork(Options()).Fit(mlContext.Data.LoadFromEnumerable(sunspots.Take(train))))
{
    var backtest = model.Backtest(all, firstOrigin: train);
    for (int h = 1; h <= 5; h += 4)
    {
        var metrics = backtest.Metrics[h - 1];
        Console.WriteLine($"  {h} year(s) ahead: MAE {metrics.MeanAbsoluteError:F1}, RMSE {metrics.RootMeanSquaredError:F1}, 90% interval covered {backtest.Coverage[h - 1]:P0}");
    }

    var oneAhead = backtest.Forecasts.Where(f => f.Step == 1).ToList();
    using var final = mlContext.Forecasting.ForecastByRecurrentNetwork(Options()).Fit(all);
    var forecast = final.CreateTimeSeriesEngine().Predict();
    Console.WriteLine("Forecast from the end of the series (retrained on every year):");
    for (int h = 0; h < forecast.Forecast.Length; h++)
    {
        Console.WriteLine($"  {years[^1] + h + 1}: {forecast.Forecast[h]:F1} (90% interval {forecast.LowerBound[h]:F1} to {forecast.UpperBound[h]:F1})");
    }

    // 4. The saved model maps a window of the last 33 values to the forecast and its bounds.
    string modelPath = Path.Combine(output, "sunspots-forecaster.zip");
    var definition = SchemaDefinition.Create(typeof(WindowRow));
    definition[nameof(WindowRow.Window)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 33);
    var window = mlContext.Data.LoadFromEnumerable([new WindowRow { Window = [.. sunspots.Skip(sunspots.Count - 33).Select(p => p.Value)] }], definition);
    mlContext.Model.Save(final, window.Schema, modelPath);

    var plot = new ScottPlot.Plot();
    int from = sunspots.Count - 90;
    var observed = plot.Add.Scatter(years[from..], sunspots.Skip(from).Select(p => (double)p.Value).ToArray());
    observed.LegendText = "observed";
    observed.MarkerSize = 3;
    var backtested = plot.Add.Scatter(oneAhead.Select(f => years[f.Origin]).ToArray(), oneAhead.Select(f => (double)f.Score).ToArray());
    backtested.LegendText = "back-test, 1 year ahead (model fitted to 1978)";
    backtested.MarkerSize = 3;
    var futureYears = Enumerable.Range(1, forecast.Forecast.Length).Select(h => years[^1] + h).ToArray();
    var band = plot.Add.FillY(futureYears, [.. forecast.LowerBound.Select(v => (double)v)], [.. forecast.UpperBound.Select(v => (double)v)]);
    band.LegendText = "90% interval";
    band.FillColor = ScottPlot.Colors.Green.WithAlpha(0.3);
    var future = plot.Add.Scatter(futureYears, [.. forecast.Forecast.Select(v => (double)v)]);
    future.LegendText = "forecast 2009-2013";
    future.MarkerSize = 5;
    plot.Add.VerticalLine(years[train] - 0.5);
    plot.Title("Yearly sunspot numbers: GRU forecaster in an ML.NET pipeline");
    plot.XLabel("year");
    plot.YLabel("sunspot number");
    plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = year => year.ToString("F0", CultureInfo.InvariantCulture) };
    plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
    string png = Path.Combine(output, "sunspots-forecast.png");
    plot.SavePng(png, 1000, 500);
    Console.WriteLine($"Saved {modelPath} and {png}");
}

internal sealed class WindowRow
{
    public float[] Window { get; set; } = [];
}
