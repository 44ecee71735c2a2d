using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Sequence;

/// <summary>One forecast of a back-test: the origin it was made from, how far ahead, the actual value and the forecast.</summary>
public sealed class BacktestForecast
{
    /// <summary>The first forecast row of this origin (the forecast reads the rows before it).</summary>
    public int Origin { get; init; }

    /// <summary>Steps ahead, 1 … Horizon: this forecast is for row <c>Origin + Step − 1</c>.</summary>
    public int Step { get; init; }

    /// <summary>The actual value (named as ML.NET's regression evaluator expects).</summary>
    public float Label { get; init; }

    /// <summary>The forecast (named as ML.NET's regression evaluator expects).</summary>
    public float Score { get; init; }

    /// <summary>The lower bound of the interval.</summary>
    public float LowerBound { get; init; }

    /// <summary>The upper bound of the interval.</summary>
    public float UpperBound { get; init; }
}

/// <summary>
/// A rolling-origin back-test: every forecast, and ML.NET's regression metrics (MAE, RMSE, R²) for each
/// step ahead, computed by <c>mlContext.Regression.Evaluate</c> over that step's forecasts.
/// </summary>
public sealed class ForecastBacktest
{
    private ForecastBacktest(IReadOnlyList<BacktestForecast> forecasts, IReadOnlyList<RegressionMetrics> metrics, IReadOnlyList<double> coverage)
    {
        Forecasts = forecasts;
        Metrics = metrics;
        Coverage = coverage;
    }

    /// <summary>Every forecast, by origin then step.</summary>
    public IReadOnlyList<BacktestForecast> Forecasts { get; }

    /// <summary>ML.NET's regression metrics of step h at index h − 1.</summary>
    public IReadOnlyList<RegressionMetrics> Metrics { get; }

    /// <summary>The fraction of actual values inside [LowerBound, UpperBound], per step (index h − 1): compare it with the confidence level.</summary>
    public IReadOnlyList<double> Coverage { get; }

    /// <summary>Scores forecasts per step with ML.NET's regression evaluator.</summary>
    /// <param name="forecasts">Forecasts with Step in 1 … <paramref name="horizon"/>; every step needs at least one.</param>
    /// <param name="horizon">The number of steps.</param>
    internal static ForecastBacktest Evaluate(IReadOnlyList<BacktestForecast> forecasts, int horizon)
    {
        var context = new MLContext(seed: 0);
        var metrics = new List<RegressionMetrics>(horizon);
        var coverage = new List<double>(horizon);
        for (int step = 1; step <= horizon; step++)
        {
            var rows = forecasts.Where(f => f.Step == step).ToList();
            if (rows.Count == 0)
            {
                throw new ArgumentException($"The back-test has no forecast {step} steps ahead: the series ends too soon after the first origin.", nameof(forecasts));
            }

            metrics.Add(context.Regression.Evaluate(context.Data.LoadFromEnumerable(rows), nameof(BacktestForecast.Label), nameof(BacktestForecast.Score)));
            coverage.Add(rows.Count(f => f.LowerBound <= f.Label && f.Label <= f.UpperBound) / (double)rows.Count);
        }

        return new ForecastBacktest(forecasts, metrics, coverage);
    }
}
