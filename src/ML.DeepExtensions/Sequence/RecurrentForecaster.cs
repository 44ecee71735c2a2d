using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// Options of the recurrent forecaster: one series in time order, a window of past values, a horizon
/// of future values, and prediction intervals at a confidence level (ML.NET's <c>ForecastBySsa</c> shape).
/// </summary>
public sealed class RecurrentForecasterOptions : TrainingOptions
{
    /// <summary>Creates options with the defaults (30 epochs, Adam 1e-3).</summary>
    public RecurrentForecasterOptions() => Epochs = 30;

    /// <summary>The series column (Single), rows in time order. Default "Value".</summary>
    public string InputColumnName { get; init; } = "Value";

    /// <summary>The forecast column: a vector of <see cref="Horizon"/> values. Default "Forecast".</summary>
    public string OutputColumnName { get; init; } = "Forecast";

    /// <summary>The lower bound column. Default "LowerBound".</summary>
    public string LowerBoundColumnName { get; init; } = "LowerBound";

    /// <summary>The upper bound column. Default "UpperBound".</summary>
    public string UpperBoundColumnName { get; init; } = "UpperBound";

    /// <summary>The column of past values the saved model scores: a Single vector of <see cref="WindowSize"/>, oldest first. Default "Window".</summary>
    public string WindowColumnName { get; init; } = "Window";

    /// <summary>Past values the network reads. Default 12.</summary>
    public int WindowSize { get; init; } = 12;

    /// <summary>Future values forecast at once. Default 1.</summary>
    public int Horizon { get; init; } = 1;

    /// <summary>Confidence level of the interval, in (0, 1). Default 0.95.</summary>
    public double ConfidenceLevel { get; init; } = 0.95;

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

        ArgumentNullException.ThrowIfNull(Architecture, nameof(Architecture));
    }
}

/// <summary>
/// A recurrent network that forecasts a series, trained with TorchSharp on every window of the
/// training series. Create it with <c>mlContext.Forecasting.ForecastByRecurrentNetwork(...)</c>.
/// </summary>
/// <remarks>
/// The returned model scores a window column (the last <see cref="RecurrentForecasterOptions.WindowSize"/>
/// values, oldest first) into the forecast and its bounds, with ML.NET's OnnxTransformer only, so it
/// saves and loads without this library; <see cref="RecurrentForecastModel.CreateTimeSeriesEngine"/> keeps
/// the window for you, starting from the end of the training series. The interval is the forecast ±
/// z·σₕ, with σₕ the root mean squared error of step h on the training windows (in-sample, so
/// optimistic) and z the normal quantile of the confidence level.
/// </remarks>
public sealed class RecurrentForecaster : IEstimator<RecurrentForecastModel>
{
    private readonly IHostEnvironment _environment;

    internal RecurrentForecaster(IHostEnvironment environment, RecurrentForecasterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        Options = options;
    }

    /// <summary>The options this forecaster was created with.</summary>
    public RecurrentForecasterOptions Options { get; }

    /// <summary>Trains on the series in <paramref name="input"/> (rows in time order).</summary>
    /// <exception cref="ArgumentException">The column is missing or not Single, the series is shorter than window + horizon, or a value is missing; the message names the row.</exception>
    public RecurrentForecastModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var series = ReadSeries(input);
        int window = Options.WindowSize, horizon = Options.Horizon;
        if (series.Length < window + horizon)
        {
            throw new ArgumentException(
                $"The series in column '{Options.InputColumnName}' has {series.Length} rows, fewer than WindowSize ({window}) + Horizon ({horizon}) = {window + horizon}: there is no training window. Use a longer series or a smaller window or horizon.",
                nameof(input));
        }

        double mean = series.Average();
        double std = Math.Sqrt(series.Select(v => (v - mean) * (v - mean)).Average());
        std = std > 1e-12 ? std : 1;
        var windows = Enumerable.Range(0, series.Length - window - horizon + 1)
            .Select(start => new WindowRow { Window = series[start..(start + window)], Target = series[(start + window)..(start + window + horizon)] })
            .ToList();
        var context = new MLContext(seed: 0);
        var definition = SchemaDefinition.Create(typeof(WindowRow));
        definition[nameof(WindowRow.Window)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, window);
        definition[nameof(WindowRow.Target)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, horizon);
        var windowData = context.Data.LoadFromEnumerable(windows, definition);

        var host = _environment.Register("RecurrentForecaster");
        var run = new TrainingRun(Options, defaultSeed: host.Rand.Next());
        long[] inputShape = [window, 1];
        var description = new NetworkDescription { InputShape = inputShape, Layers = Options.Architecture, Outputs = horizon, Normalization = InputNormalization.Standardization, LabelScale = true };
        TrainingRun.SeedForInitialisation(run.Seed);
        var network = run.AddModule("model", NetworkBuilder.Build(Options.Architecture, inputShape, horizon,
            new Standardization([(float)mean], [(float)std]), Standardization.Rescale(mean, std, LayerNames.LabelScale)), description);
        var optimizer = run.CreateOptimizer("optimizer", network, Options.Optimizer, Options.LearningRateSchedule);
        var sourceOptions = new BatchSourceOptions { BatchSize = Options.BatchSize, Seed = run.Seed };
        var source = new DataViewBatchSource(windowData,
            [BatchColumn.Features(nameof(WindowRow.Window), inputShape), BatchColumn.RegressionLabel(nameof(WindowRow.Target), [horizon])], sourceOptions);
        float scale = (float)std;
        var step = new SupervisedTrainStep(network, (output, target) => nn.functional.mse_loss(output / scale, target / scale), optimizer, () => [], run.Device, Options.GradientClipNorm);
        TrainingHistory history;
        try
        {
            history = TrainingEngine.Fit(run, step, source, null);
        }
        finally
        {
            source.DiscardPreparedEpoch();
        }

        network.eval();
        var sigma = ResidualDeviation(network, windows, window, horizon, run.Device);
        double z = NormalQuantile(0.5 + (Options.ConfidenceLevel / 2));
        byte[] onnx = Export(network, description, sigma, z);
        var scoringData = context.Data.LoadFromEnumerable(windows.Take(1).Select(w => new WindowOnly { Window = w.Window }), WindowDefinition(window, Options.WindowColumnName));
        var scoring = OnnxScoringChain.Build(onnx, [OnnxInput.Column(Options.WindowColumnName)],
            [Options.OutputColumnName, Options.LowerBoundColumnName, Options.UpperBoundColumnName], scoringData);
        var transformer = new NeuralNetworkTransformer(scoring, onnx, network, description, history, Options.WindowColumnName);
        return new RecurrentForecastModel(transformer, Options, series[^window..], sigma);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.Find(inputSchema, Options.WindowColumnName, "window");
        return SchemaChecks.Append(inputSchema,
        [
            SchemaShapes.Vector(Options.OutputColumnName, NumberDataViewType.Single),
            SchemaShapes.Vector(Options.LowerBoundColumnName, NumberDataViewType.Single),
            SchemaShapes.Vector(Options.UpperBoundColumnName, NumberDataViewType.Single),
        ]);
    }

    internal static SchemaDefinition WindowDefinition(int window, string column)
    {
        var definition = SchemaDefinition.Create(typeof(WindowOnly));
        var windowColumn = definition[nameof(WindowOnly.Window)];
        windowColumn.ColumnName = column;
        windowColumn.ColumnType = new VectorDataViewType(NumberDataViewType.Single, window);
        return definition;
    }

    private float[] ReadSeries(IDataView input)
    {
        var column = SchemaChecks.Find(input.Schema, Options.InputColumnName, "series");
        if (column.Type != NumberDataViewType.Single)
        {
            throw new ArgumentException($"The series column '{Options.InputColumnName}' is {column.Type}, but it must be a Single column (one value per row, in time order).", nameof(input));
        }

        var values = new List<float>();
        using var cursor = input.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        float value = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            if (!float.IsFinite(value))
            {
                throw new ArgumentException(
                    $"The series column '{Options.InputColumnName}' has {(float.IsNaN(value) ? "a missing value (NaN)" : "an infinite value")} at row {values.Count.ToString(CultureInfo.InvariantCulture)}. "
                    + "A forecaster needs every step: fill the gap first (for example with the previous value).", nameof(input));
            }

            values.Add(value);
        }

        return [.. values];
    }

    private static float[] ResidualDeviation(nn.Module<Tensor, Tensor> network, List<WindowRow> windows, int window, int horizon, Device device)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var sums = new double[horizon];
        foreach (var chunk in windows.Chunk(512))
        {
            var input = torch.tensor(chunk.SelectMany(w => w.Window).ToArray(), [chunk.Length, window, 1]).to(device);
            var output = network.forward(input).cpu().data<float>().ToArray();
            for (int row = 0; row < chunk.Length; row++)
            {
                for (int h = 0; h < horizon; h++)
                {
                    double error = output[(row * horizon) + h] - chunk[row].Target[h];
                    sums[h] += error * error;
                }
            }
        }

        return [.. sums.Select(s => (float)Math.Sqrt(s / windows.Count))];
    }

    private byte[] Export(nn.Module<Tensor, Tensor> network, NetworkDescription description, float[] sigma, double z)
    {
        int window = Options.WindowSize, horizon = Options.Horizon;
        var graph = new OnnxGraphBuilder("RecurrentForecaster");
        graph.AddInput(Options.WindowColumnName, OnnxElementType.Float, window);
        var batch = graph.AddNode("Reshape", [Options.WindowColumnName, graph.AddInitializer("batch_of_one", [1L, window, 1], [3])], nameHint: "batch");
        graph.SetType(batch, new OnnxTensorType(OnnxElementType.Float, [1, window, 1]));
        var exporter = new OnnxModuleExporter();
        foreach (var layer in description.Layers)
        {
            layer.RegisterOnnxConverters(exporter);
        }

        var output = exporter.Export(graph, network, batch);
        var forecast = graph.AddNode("Reshape", [output, graph.AddInitializer("horizon_shape", [(long)horizon], [1])], nameHint: "forecast");
        var margin = graph.AddInitializer("interval_margin", [.. sigma.Select(s => (float)(s * z))], [horizon]);
        graph.AddOutput(forecast, Options.OutputColumnName, OnnxElementType.Float, horizon);
        graph.AddOutput(graph.AddNode("Sub", [forecast, margin], nameHint: "lower"), Options.LowerBoundColumnName, OnnxElementType.Float, horizon);
        graph.AddOutput(graph.AddNode("Add", [forecast, margin], nameHint: "upper"), Options.UpperBoundColumnName, OnnxElementType.Float, horizon);
        graph.AddMetadata("ml_deepextensions.component", "RecurrentForecaster");
        NetworkStateInGraph.Attach(graph, network, description);
        return graph.ToBytes();
    }

    /// <summary>The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).</summary>
    internal static double NormalQuantile(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }

        if (p > 1 - low)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }

        double r = p - 0.5, s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }

    private sealed class WindowRow
    {
        public float[] Window { get; set; } = [];

        public float[] Target { get; set; } = [];
    }

    internal sealed class WindowOnly
    {
        public float[] Window { get; set; } = [];
    }
}

/// <summary>A forecast: <c>Horizon</c> values and their bounds.</summary>
/// <param name="Forecast">The forecast values, one per future step.</param>
/// <param name="LowerBound">The lower bounds at the confidence level.</param>
/// <param name="UpperBound">The upper bounds at the confidence level.</param>
public sealed record SeriesForecast(float[] Forecast, float[] LowerBound, float[] UpperBound);

/// <summary>
/// A fitted recurrent forecaster. As a transformer it maps a window column to the forecast and bound
/// columns (ML.NET's OnnxTransformer: saves and loads without this library); its time-series engine
/// forecasts from the end of the training series and takes new observations.
/// </summary>
public sealed class RecurrentForecastModel : ITransformer, IDisposable
{
    private readonly NeuralNetworkTransformer _transformer;
    private readonly float[] _lastWindow;

    internal RecurrentForecastModel(NeuralNetworkTransformer transformer, RecurrentForecasterOptions options, float[] lastWindow, float[] residualDeviation)
    {
        _transformer = transformer;
        Options = options;
        _lastWindow = lastWindow;
        ResidualDeviation = residualDeviation;
    }

    /// <summary>The options the model was trained with.</summary>
    public RecurrentForecasterOptions Options { get; }

    /// <summary>The trained network, its ONNX model and its training history.</summary>
    public NeuralNetworkTransformer Network => _transformer;

    /// <summary>The in-sample root mean squared error of each horizon step, in series units (the interval is ± z times this).</summary>
    public IReadOnlyList<float> ResidualDeviation { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => _transformer.IsRowToRowMapper;

    /// <summary>An engine that forecasts from the end of the training series and keeps its window as observations arrive.</summary>
    public RecurrentForecastEngine CreateTimeSeriesEngine() => new(_transformer.ScoringTransformer, Options, _lastWindow);

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _transformer.ScoringTransformer.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _transformer.ScoringTransformer.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => _transformer.ScoringTransformer.Transform(input);

    /// <summary>Saves the scoring chain (ML.NET's own transformers only).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_transformer).Save(ctx);

    /// <summary>Frees the network and its ONNX Runtime session (see <see cref="NeuralNetworkTransformer.Dispose"/>); engines created from it stop working.</summary>
    public void Dispose() => _transformer.Dispose();
}

/// <summary>Forecasts from a sliding window of the latest observations, like ML.NET's <c>TimeSeriesPredictionEngine</c>.</summary>
public sealed class RecurrentForecastEngine
{
    private readonly ITransformer _scoring;
    private readonly RecurrentForecasterOptions _options;
    private readonly Queue<float> _window;
    private readonly MLContext _context = new(seed: 0);

    internal RecurrentForecastEngine(ITransformer scoring, RecurrentForecasterOptions options, float[] lastWindow)
    {
        _scoring = scoring;
        _options = options;
        _window = new Queue<float>(lastWindow);
    }

    /// <summary>The window the next forecast starts from, oldest first.</summary>
    public IReadOnlyList<float> Window => [.. _window];

    /// <summary>Adds an observation (the oldest leaves the window).</summary>
    /// <exception cref="ArgumentException">The value is NaN or infinite.</exception>
    public void Observe(float value)
    {
        if (!float.IsFinite(value))
        {
            throw new ArgumentException($"An observation must be finite; got {value}.", nameof(value));
        }

        _window.Dequeue();
        _window.Enqueue(value);
    }

    /// <summary>Adds <paramref name="observation"/>, then forecasts from the new end.</summary>
    public SeriesForecast Predict(float observation)
    {
        Observe(observation);
        return Predict();
    }

    /// <summary>The forecast of the next <c>Horizon</c> values after the current window.</summary>
    public SeriesForecast Predict()
    {
        var row = new RecurrentForecaster.WindowOnly { Window = [.. _window] };
        var data = _context.Data.LoadFromEnumerable([row], RecurrentForecaster.WindowDefinition(_options.WindowSize, _options.WindowColumnName));
        var scored = _scoring.Transform(data);
        return new SeriesForecast(
            scored.GetColumn<float[]>(_options.OutputColumnName).Single(),
            scored.GetColumn<float[]>(_options.LowerBoundColumnName).Single(),
            scored.GetColumn<float[]>(_options.UpperBoundColumnName).Single());
    }
}
