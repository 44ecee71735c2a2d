using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// Options of the recurrent forecaster: one series in time order (optionally with further input
/// series beside it), a window of past values, a horizon of future values, and prediction intervals at
/// a confidence level (ML.NET's <c>ForecastBySsa</c> shape).
/// </summary>
public sealed class RecurrentForecasterOptions : TrainingOptions
{
    /// <summary>Creates options with the defaults (30 epochs, Adam 1e-3).</summary>
    public RecurrentForecasterOptions() => Epochs = 30;

    /// <summary>The series column (Single), rows in time order. Default "Value".</summary>
    public string InputColumnName { get; init; } = "Value";

    /// <summary>
    /// Further input series (Single columns of the same rows) that the network reads beside the past
    /// values of <see cref="InputColumnName"/>, e.g. a temperature beside a demand. Only their past
    /// values within the window are read, so a forecast never needs future covariates. Default none.
    /// </summary>
    public IReadOnlyList<string> FeatureColumnNames { get; init; } = [];

    /// <summary>The forecast column: a vector of <see cref="Horizon"/> values. Default "Forecast".</summary>
    public string OutputColumnName { get; init; } = "Forecast";

    /// <summary>The lower bound column. Default "LowerBound".</summary>
    public string LowerBoundColumnName { get; init; } = "LowerBound";

    /// <summary>The upper bound column. Default "UpperBound".</summary>
    public string UpperBoundColumnName { get; init; } = "UpperBound";

    /// <summary>
    /// The column of past values the saved model scores: a Single vector of <see cref="WindowSize"/> ×
    /// (1 + the number of <see cref="FeatureColumnNames"/>) values, oldest step first, each step's forecast
    /// value followed by its covariates in the order given. Default "Window".
    /// </summary>
    public string WindowColumnName { get; init; } = "Window";

    /// <summary>Past values the network reads. Default 12.</summary>
    public int WindowSize { get; init; } = 12;

    /// <summary>Future values forecast at once. Default 1.</summary>
    public int Horizon { get; init; } = 1;

    /// <summary>Confidence level of the interval, in (0, 1). Default 0.95.</summary>
    public double ConfidenceLevel { get; init; } = 0.95;

    /// <summary>The training loss on the standardised series: <see cref="ForecastLoss.SquaredError"/> (default) or <see cref="ForecastLoss.AbsoluteError"/>.</summary>
    public ForecastLoss Loss { get; init; } = ForecastLoss.SquaredError;

    /// <summary>Rows per batch of training windows. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The layers on the window [WindowSize, 1], ending flat. Default an LSTM of 32 units returning its last state.</summary>
    public IReadOnlyList<NetworkLayer> Architecture { get; init; } = [Layer.Lstm(32, returnSequences: false)];

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(WindowSize > 0, nameof(WindowSize), WindowSize, "must be positive");
        OptionChecks.Require(Horizon > 0, nameof(Horizon), Horizon, "must be at least 1 (the number of future values to forecast)");
        OptionChecks.Require(ConfidenceLevel is > 0 and < 1, nameof(ConfidenceLevel), ConfidenceLevel, "must be in (0, 1)");
        OptionChecks.Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        foreach (var (name, value) in new[] { (nameof(InputColumnName), InputColumnName), (nameof(OutputColumnName), OutputColumnName), (nameof(LowerBoundColumnName), LowerBoundColumnName), (nameof(UpperBoundColumnName), UpperBoundColumnName), (nameof(WindowColumnName), WindowColumnName) })
        {
            OptionChecks.Require(!string.IsNullOrWhiteSpace(value), name, value ?? "", "must name a column");
        }

        OptionChecks.Require(Enum.IsDefined(Loss), nameof(Loss), Loss, "must be a defined loss");
        ArgumentNullException.ThrowIfNull(Architecture, nameof(Architecture));
        ArgumentNullException.ThrowIfNull(FeatureColumnNames, nameof(FeatureColumnNames));
        var seen = new HashSet<string>(StringComparer.Ordinal) { InputColumnName };
        foreach (string name in FeatureColumnNames)
        {
            OptionChecks.Require(!string.IsNullOrWhiteSpace(name), nameof(FeatureColumnNames), name ?? "", "must name columns");
            OptionChecks.Require(seen.Add(name!), nameof(FeatureColumnNames), name!, "must not repeat a column or hold the InputColumnName");
        }
    }
}

/// <summary>The loss a forecaster trains with, on the standardised series.</summary>
public enum ForecastLoss
{
    /// <summary>Mean squared error: forecasts the conditional mean.</summary>
    SquaredError,

    /// <summary>Mean absolute error: forecasts the conditional median, less pulled by outliers.</summary>
    AbsoluteError,
}
