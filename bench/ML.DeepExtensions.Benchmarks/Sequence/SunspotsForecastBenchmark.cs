using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Sequence;

/// <summary>
/// Yearly sunspots 1700–2008 (python3-statsmodels), the last 30 years held out: MAE and RMSE at
/// horizons 1 and 5 of our recurrent forecaster, the seasonal-naive forecast (11-year cycle) and
/// statsmodels ARIMA, all by the same rolling origin over the held-out years and scored by ML.NET's
/// regression evaluator. The network's window and units are chosen on a validation split inside the
/// training years (the 30 years before the held-out ones); the held-out years are read only once,
/// for the final figures.
/// </summary>
internal static class SunspotsForecastBenchmark
{
    private const int Horizon = 5;

    public static Command Create()
    {
        var heldOut = new Option<int>("--held-out") { Description = "Years held out at the end (also the validation length).", DefaultValueFactory = _ => 30 }.AtLeast(Horizon);
        var windows = new Option<string>("--windows") { Description = "Candidate windows (years), comma-separated; chosen on validation.", DefaultValueFactory = _ => "11,22,33" };
        var units = new Option<string>("--units") { Description = "Candidate recurrent units, comma-separated; chosen on validation.", DefaultValueFactory = _ => "16,32" };
        var cell = new Option<string>("--cell") { Description = "Recurrent cell: Lstm, Gru or Simple.", DefaultValueFactory = _ => "Gru" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per fit.", DefaultValueFactory = _ => 300 }.AtLeast(1);
        var seeds = new Option<int>("--seeds") { Description = "Seeds of the final fits (the median is reported).", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var selectionSeeds = new Option<int>("--selection-seeds") { Description = "Seeds per candidate on validation.", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var loss = new Option<string>("--loss") { Description = "SquaredError or AbsoluteError.", DefaultValueFactory = _ => "SquaredError" };
        var python = new Option<string>("--python") { Description = "Python with statsmodels for the ARIMA side (Debian: /usr/bin/python3 with python3-statsmodels).", DefaultValueFactory = _ => "/usr/bin/python3" };
        var threads = new Option<int>("--threads") { Description = "libtorch threads.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var learningRate = new Option<double>("--learning-rate") { Description = "AdamW learning rate (cosine decay to 0).", DefaultValueFactory = _ => 1e-2 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0 };
        var validationOnly = new Option<bool>("--validation-only") { Description = "Stop after the selection on the validation years: never touches the held-out years (for tuning)." };
        return BenchmarkCommand.Create("sunspots-forecast",
            "Sunspots, last 30 years held out: MAE and RMSE at horizons 1 and 5 of our recurrent forecaster, the 11-year seasonal-naive forecast and statsmodels ARIMA (order by AIC on the training years).",
            [heldOut, windows, units, cell, epochs, seeds, selectionSeeds, loss, python, threads, learningRate, weightDecay, validationOnly],
            parse => Run(new Settings(
                parse.GetValue(heldOut), Ints(parse.GetValue(windows)!), Ints(parse.GetValue(units)!),
                Enum.Parse<RecurrentCell>(parse.GetValue(cell)!, ignoreCase: true), parse.GetValue(epochs), parse.GetValue(seeds), parse.GetValue(selectionSeeds),
                Enum.Parse<ForecastLoss>(parse.GetValue(loss)!, ignoreCase: true), parse.GetValue(python)!, parse.GetValue(threads),
                parse.GetValue(learningRate), parse.GetValue(weightDecay), parse.GetValue(validationOnly))));
    }

    internal sealed record Settings(int HeldOut, int[] Windows, int[] Units, RecurrentCell Cell, int Epochs, int Seeds, int SelectionSeeds, ForecastLoss Loss, string Python, int Threads, double LearningRate, double WeightDecay, bool ValidationOnly);

    public static BenchmarkReport Run(Settings settings)
    {
        string csv = Path.Combine(VisionBenchmarkSetup.RepositoryRoot(), ".data", "statsmodels", "sunspots", "sunspots.csv");
        string directory = File.Exists(csv) ? Path.GetDirectoryName(Path.GetDirectoryName(csv))! : StatsmodelsSeries.DefaultDirectory;
        csv = Path.Combine(directory, "sunspots", "sunspots.csv");
        var points = StatsmodelsSeries.Sunspots(directory);
        var series = points.Select(p => p.Value).ToArray();
        int train = series.Length - settings.HeldOut, validationStart = train - settings.HeldOut;
        var context = new MLContext(seed: 1);

        // 1. Choose window and units on the last HeldOut training years (fitted on the years before them).
        var selection = new ReportTable(("Window", true), ("Units", true), ("Validation MAE h1", true), ("Validation MAE h5", true),
            ("Ensemble of the seeds, MAE h1", true), ("Ensemble, MAE h5", true));
        (int Window, int Units, double Score) best = (0, 0, double.PositiveInfinity);
        foreach (int window in settings.Windows)
        {
            foreach (int units in settings.Units)
            {
                var runs = Enumerable.Range(1, settings.SelectionSeeds)
                    .Select(seed => Network(context, series[..train], validationStart, window, units, seed, settings)).ToList();
                double mae1 = Statistics.Median(runs.Select(r => r.Metrics[0].MeanAbsoluteError));
                double mae5 = Statistics.Median(runs.Select(r => r.Metrics[Horizon - 1].MeanAbsoluteError));
                var ensemble = Score(context, series[..train], validationStart, Ensemble(runs));
                BenchmarkCommand.Progress($"validation: window {window}, {units} units: MAE h1 {mae1:F2}, h5 {mae5:F2}; ensemble h1 {ensemble[0].MeanAbsoluteError:F2}, h5 {ensemble[1].MeanAbsoluteError:F2}");
                selection.AddRow(window.ToString(CultureInfo.InvariantCulture), units.ToString(CultureInfo.InvariantCulture), Statistics.Number(mae1, 2), Statistics.Number(mae5, 2),
                    Statistics.Number(ensemble[0].MeanAbsoluteError, 2), Statistics.Number(ensemble[1].MeanAbsoluteError, 2));
                if ((mae1 + mae5) / 2 < best.Score)
                {
                    best = (window, units, (mae1 + mae5) / 2);
                }
            }
        }

        if (settings.ValidationOnly)
        {
            var (validationOrder, validationForecasts) = Arima(settings.Python, csv, validationStart, rows: train);
            var arimaValidation = Score(context, series[..train], validationStart, origin => validationForecasts[origin - validationStart]);
            return new BenchmarkReport()
                .Paragraph($"Validation only (fitted on the first {validationStart} years, validated on the next {settings.HeldOut}; the held-out years untouched): {settings.Cell}, {settings.Loss}, {settings.Epochs} epochs, AdamW {settings.LearningRate} weight decay {settings.WeightDecay}. ARIMA{validationOrder} on the same split: MAE h1 {arimaValidation[0].MeanAbsoluteError:F2}, h5 {arimaValidation[1].MeanAbsoluteError:F2}.")
                .Table(selection);
        }

        // 2. The chosen network on all training years, several seeds; held-out years scored once.
        var finals = Enumerable.Range(1, settings.Seeds).Select(seed => Network(context, series, train, best.Window, best.Units, seed, settings)).ToList();

        // 3. The peers, same origins and targets.
        var naive = Score(context, series, train, origin => [.. Enumerable.Range(0, Horizon).Select(h => series[origin + h - (11 * (1 + (h / 11)))])]);
        var (order, arimaForecasts) = Arima(settings.Python, csv, train, rows: series.Length);
        var arima = Score(context, series, train, origin => arimaForecasts[origin - train]);

        var table = new ReportTable(("Forecast", false), ("MAE h1", true), ("RMSE h1", true), ("MAE h5", true), ("RMSE h5", true));
        table.AddRow("Seasonal naive (value 11 years earlier)", Statistics.Number(naive[0].MeanAbsoluteError, 2), Statistics.Number(naive[0].RootMeanSquaredError, 2),
            Statistics.Number(naive[1].MeanAbsoluteError, 2), Statistics.Number(naive[1].RootMeanSquaredError, 2));
        table.AddRow($"statsmodels ARIMA{order} (AIC on the training years)", Statistics.Number(arima[0].MeanAbsoluteError, 2), Statistics.Number(arima[0].RootMeanSquaredError, 2),
            Statistics.Number(arima[1].MeanAbsoluteError, 2), Statistics.Number(arima[1].RootMeanSquaredError, 2));
        string Median(Func<ForecastBacktest, double> metric) => Statistics.Number(Statistics.Median(finals.Select(metric)), 2);
        string Range(Func<ForecastBacktest, double> metric) => Statistics.Range(finals.Select(metric), 1);
        table.AddRow($"Our {settings.Cell} forecaster (window {best.Window}, {best.Units} units), median of {settings.Seeds} seeds",
            Median(b => b.Metrics[0].MeanAbsoluteError), Median(b => b.Metrics[0].RootMeanSquaredError),
            Median(b => b.Metrics[Horizon - 1].MeanAbsoluteError), Median(b => b.Metrics[Horizon - 1].RootMeanSquaredError));
        table.AddRow("  its range over the seeds", Range(b => b.Metrics[0].MeanAbsoluteError), Range(b => b.Metrics[0].RootMeanSquaredError),
            Range(b => b.Metrics[Horizon - 1].MeanAbsoluteError), Range(b => b.Metrics[Horizon - 1].RootMeanSquaredError));
        var mean = Score(context, series, train, Ensemble(finals));
        table.AddRow($"The mean of the {settings.Seeds} seeds' forecasts (an ensemble)", Statistics.Number(mean[0].MeanAbsoluteError, 2), Statistics.Number(mean[0].RootMeanSquaredError, 2),
            Statistics.Number(mean[1].MeanAbsoluteError, 2), Statistics.Number(mean[1].RootMeanSquaredError, 2));
        double coverage = Statistics.Median(finals.Select(b => b.Coverage[0]));

        return new BenchmarkReport()
            .Paragraph($"Yearly sunspot numbers {points[0].Time.Year}–{points[^1].Time.Year} (Debian python3-statsmodels); training {points[0].Time.Year}–{points[train - 1].Time.Year} ({train} years), held out {points[train].Time.Year}–{points[^1].Time.Year} ({settings.HeldOut} years). Rolling origin over the held-out years, the same for all three: from each origin year o in the held-out part, forecast years o … o+4 from the actual values before o (no refit); horizon h is scored over the origins whose target year o+h−1 is held out ({settings.HeldOut} forecasts at h = 1, {settings.HeldOut - Horizon + 1} at h = 5). MAE and RMSE by ML.NET's regression evaluator (`mlContext.Regression.Evaluate`) for every row.")
            .Paragraph($"Our forecaster: `ForecastByRecurrentNetwork`, one {settings.Cell} layer returning its last state, one output per horizon step (5), series standardised inside the network, {settings.Loss} loss, {settings.Epochs} epochs, batch 32, AdamW {settings.LearningRate} (weight decay {settings.WeightDecay}) with cosine decay, trained once on the training years. Window and units chosen from windows {{{string.Join(", ", settings.Windows)}}} × units {{{string.Join(", ", settings.Units)}}} by the median over {settings.SelectionSeeds} seeds of the mean of MAE h1 and h5 on validation (fitted on {points[0].Time.Year}–{points[validationStart - 1].Time.Year}, validated on {points[validationStart].Time.Year}–{points[train - 1].Time.Year}); the held-out years were not used to choose anything. The 95% interval covered {coverage:P0} of the held-out values at h = 1 (median over seeds; in-sample residuals, so optimistic). ARIMA: `bench/statsmodels/sunspots_arima.py` by /usr/bin/python3: d by KPSS on the training years, then p ≤ 9, q ≤ 3 by AIC; the fitted parameters are applied to the actual series up to each origin.")
            .Table(table)
            .Paragraph($"Selection on validation ({settings.SelectionSeeds} seeds each, median):")
            .Table(selection);
    }

    private static ForecastBacktest Network(MLContext context, float[] series, int firstOrigin, int window, int units, int seed, Settings settings)
    {
        var options = new RecurrentForecasterOptions
        {
            WindowSize = window,
            Horizon = Horizon,
            Architecture = [settings.Cell switch { RecurrentCell.Lstm => Layer.Lstm(units, returnSequences: false), RecurrentCell.Simple => Layer.SimpleRnn(units, returnSequences: false), _ => Layer.Gru(units, returnSequences: false) }],
            Epochs = settings.Epochs,
            Loss = settings.Loss,
            Seed = seed,
            IntraOpThreads = settings.Threads,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay },
            LearningRateSchedule = new CosineSchedule(),
            ComputeTrainingMetrics = false,
        };
        var trainView = context.Data.LoadFromEnumerable(series[..firstOrigin].Select(v => new Point { Value = v }));
        using var model = context.Forecasting.ForecastByRecurrentNetwork(options).Fit(trainView);
        return model.Backtest(context.Data.LoadFromEnumerable(series.Select(v => new Point { Value = v })), firstOrigin);
    }

    /// <summary>Origin → the mean over the fits of their forecasts from that origin, step by step.</summary>
    private static Func<int, float[]> Ensemble(IReadOnlyList<ForecastBacktest> fits)
    {
        var byOrigin = fits.SelectMany(f => f.Forecasts).GroupBy(f => f.Origin)
            .ToDictionary(g => g.Key, g => Enumerable.Range(1, Horizon).Select(step => g.Where(f => f.Step == step).Select(f => f.Score).DefaultIfEmpty(float.NaN).Average()).ToArray());
        return origin => byOrigin[origin];
    }

    /// <summary>MAE/RMSE at h = 1 and h = Horizon of a forecaster given as origin → the next Horizon values, by ML.NET's evaluator.</summary>
    private static RegressionMetrics[] Score(MLContext context, float[] series, int firstOrigin, Func<int, float[]> forecast)
    {
        return [.. new[] { 1, Horizon }.Select(h =>
        {
            var rows = Enumerable.Range(firstOrigin, series.Length - firstOrigin - h + 1)
                .Select(origin => new Scored { Label = series[origin + h - 1], Score = forecast(origin)[h - 1] });
            return context.Regression.Evaluate(context.Data.LoadFromEnumerable(rows));
        })];
    }

    /// <summary>ARIMA chosen on the first <paramref name="train"/> rows, forecasts from every origin up to <paramref name="rows"/> (the script sees no later row).</summary>
    private static (string Order, float[][] Forecasts) Arima(string python, string csv, int train, int rows)
    {
        string script = Path.Combine(VisionBenchmarkSetup.RepositoryRoot(), "bench", "statsmodels", "sunspots_arima.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { script, "--csv", csv, "--train", train.ToString(CultureInfo.InvariantCulture), "--horizon", Horizon.ToString(CultureInfo.InvariantCulture), "--rows", rows.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        BenchmarkCommand.Progress($"ARIMA: choosing the order by AIC with {python}");
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The ARIMA side failed (install python3-statsmodels for {python}: apt-get install python3-statsmodels): {errors.Result}");
        }

        var root = JsonDocument.Parse(output).RootElement;
        string order = "(" + string.Join(",", root.GetProperty("order").EnumerateArray().Select(v => v.GetInt32().ToString(CultureInfo.InvariantCulture))) + ")";
        var forecasts = root.GetProperty("forecasts").EnumerateArray().Select(f => f.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        return (order, forecasts);
    }

    private static int[] Ints(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture))];

    private sealed class Point
    {
        public float Value { get; set; }
    }

    private sealed class Scored
    {
        public float Label { get; set; }

        public float Score { get; set; }
    }
}
