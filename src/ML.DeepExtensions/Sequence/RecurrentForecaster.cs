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
/// A recurrent network that forecasts a series, trained with TorchSharp on every window of the
/// training series. Create it with <c>mlContext.Forecasting.ForecastByRecurrentNetwork(...)</c>.
/// </summary>
/// <remarks>
/// The returned model scores a window column (the last <see cref="RecurrentForecasterOptions.WindowSize"/>
/// steps, oldest first: each step's value, then its <see cref="RecurrentForecasterOptions.FeatureColumnNames"/>
/// covariates) into the forecast and its bounds, with ML.NET's OnnxTransformer only, so it
/// saves and loads without this library; <see cref="RecurrentForecastModel.CreateTimeSeriesEngine"/> keeps
/// the window for you, starting from the end of the training series. The interval is the forecast ±
/// z·σₕ, with σₕ the root mean squared error of step h on the training windows (in-sample, so
/// optimistic) and z the normal quantile of the confidence level. <see cref="RecurrentForecastModel.Backtest"/>
/// scores the model over a series by rolling origin with ML.NET's regression evaluator.
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
        var series = ReadSeries(input, Options);
        int window = Options.WindowSize, horizon = Options.Horizon, features = series.Features;
        if (series.Length < window + horizon)
        {
            throw new ArgumentException(
                $"The series in column '{Options.InputColumnName}' has {series.Length} rows, fewer than WindowSize ({window}) + Horizon ({horizon}) = {window + horizon}: there is no training window. Use a longer series or a smaller window or horizon.",
                nameof(input));
        }

        var (mean, std) = series.Moments();
        var windows = Enumerable.Range(0, series.Length - window - horizon + 1)
            .Select(start => new WindowRow { Window = series.Window(start, window), Target = series.Targets(start + window, horizon) })
            .ToList();
        var context = new MLContext(seed: 0);
        var definition = SchemaDefinition.Create(typeof(WindowRow));
        definition[nameof(WindowRow.Window)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, window * features);
        definition[nameof(WindowRow.Target)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, horizon);
        var windowData = context.Data.LoadFromEnumerable(windows, definition);

        var host = _environment.Register("RecurrentForecaster");
        var run = new TrainingRun(Options, defaultSeed: host.Rand.Next());
        long[] inputShape = [window, features];
        var description = new NetworkDescription { InputShape = inputShape, Layers = Options.Architecture, Outputs = horizon, Normalization = InputNormalization.Standardization, LabelScale = true };
        TrainingRun.SeedForInitialisation(run.Seed);
        var network = run.AddModule("model", NetworkBuilder.Build(Options.Architecture, inputShape, horizon,
            new Standardization([.. mean.Select(m => (float)m)], [.. std.Select(d => (float)d)]), Standardization.Rescale(mean[0], std[0], LayerNames.LabelScale)), description);
        var optimizer = run.CreateOptimizer("optimizer", network, Options.Optimizer, Options.LearningRateSchedule);
        var sourceOptions = new BatchSourceOptions { BatchSize = Options.BatchSize, Seed = run.Seed };
        var source = new DataViewBatchSource(windowData,
            [BatchColumn.Features(nameof(WindowRow.Window), inputShape), BatchColumn.RegressionLabel(nameof(WindowRow.Target), [horizon])], sourceOptions);
        float scale = (float)std[0];
        Func<Tensor, Tensor, Tensor> loss = Options.Loss == ForecastLoss.AbsoluteError
            ? (output, target) => nn.functional.l1_loss(output / scale, target / scale)
            : (output, target) => nn.functional.mse_loss(output / scale, target / scale);
        var step = new SupervisedTrainStep(network, loss, optimizer, () => [], run.Device, Options.GradientClipNorm);
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
        var sigma = ResidualDeviation(network, windows, window, features, horizon, run.Device);
        double z = NormalQuantile(0.5 + (Options.ConfidenceLevel / 2));
        byte[] onnx = Export(network, description, sigma, z);
        var scoringData = context.Data.LoadFromEnumerable(windows.Take(1).Select(w => new WindowOnly { Window = w.Window }), WindowDefinition(window * features, Options.WindowColumnName));
        var scoring = OnnxScoringChain.Build(onnx, [OnnxInput.Column(Options.WindowColumnName)],
            [Options.OutputColumnName, Options.LowerBoundColumnName, Options.UpperBoundColumnName], scoringData);
        var transformer = new NeuralNetworkTransformer(scoring, onnx, network, description, history, Options.WindowColumnName);
        return new RecurrentForecastModel(transformer, Options, series.Window(series.Length - window, window), sigma);
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

    internal static SchemaDefinition WindowDefinition(int width, string column)
    {
        var definition = SchemaDefinition.Create(typeof(WindowOnly));
        var windowColumn = definition[nameof(WindowOnly.Window)];
        windowColumn.ColumnName = column;
        windowColumn.ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return definition;
    }

    /// <summary>
    /// Reads the forecast column and the covariate columns, row by row in time order, rejecting a
    /// missing column, a column that is not Single and a value that is not finite (naming column and row).
    /// </summary>
    internal static SeriesMatrix ReadSeries(IDataView input, RecurrentForecasterOptions options)
    {
        string[] names = [options.InputColumnName, .. options.FeatureColumnNames];
        var columns = new DataViewSchema.Column[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            string role = i == 0 ? "series" : "input series";
            columns[i] = SchemaChecks.Find(input.Schema, names[i], role);
            if (columns[i].Type != NumberDataViewType.Single)
            {
                throw new ArgumentException($"The {role} column '{names[i]}' is {columns[i].Type}, but it must be a Single column (one value per row, in time order).", nameof(input));
            }
        }

        var values = new List<float>();
        using var cursor = input.GetRowCursor(columns);
        var getters = columns.Select(c => cursor.GetGetter<float>(c)).ToArray();
        float value = 0;
        long row = 0;
        while (cursor.MoveNext())
        {
            for (int i = 0; i < getters.Length; i++)
            {
                getters[i](ref value);
                if (!float.IsFinite(value))
                {
                    throw new ArgumentException(
                        $"The {(i == 0 ? "series" : "input series")} column '{names[i]}' has {(float.IsNaN(value) ? "a missing value (NaN)" : "an infinite value")} at row {row.ToString(CultureInfo.InvariantCulture)}. "
                        + "A forecaster needs every step: fill the gap first (for example with the previous value).", nameof(input));
                }

                values.Add(value);
            }

            row++;
        }

        return new SeriesMatrix([.. values], names.Length);
    }

    private static float[] ResidualDeviation(nn.Module<Tensor, Tensor> network, List<WindowRow> windows, int window, int features, int horizon, Device device)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var sums = new double[horizon];
        foreach (var chunk in windows.Chunk(512))
        {
            var input = torch.tensor(chunk.SelectMany(w => w.Window).ToArray(), [chunk.Length, window, features]).to(device);
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
        int window = Options.WindowSize, horizon = Options.Horizon, features = 1 + Options.FeatureColumnNames.Count;
        var graph = new OnnxGraphBuilder("RecurrentForecaster");
        graph.AddInput(Options.WindowColumnName, OnnxElementType.Float, window * features);
        var batch = graph.AddNode("Reshape", [Options.WindowColumnName, graph.AddInitializer("batch_of_one", [1L, window, features], [3])], nameHint: "batch");
        graph.SetType(batch, new OnnxTensorType(OnnxElementType.Float, [1, window, features]));
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

    /// <summary>The series as rows of [forecast value, covariates...], in time order.</summary>
    internal sealed class SeriesMatrix(float[] values, int features)
    {
        public int Features { get; } = features;

        public int Length => values.Length / Features;

        /// <summary>The forecast column's value at <paramref name="row"/>.</summary>
        public float Target(int row) => values[row * Features];

        /// <summary>The rows [start, start + length) flattened step by step.</summary>
        public float[] Window(int start, int length) => values[(start * Features)..((start + length) * Features)];

        /// <summary>The forecast column's values at rows [start, start + length).</summary>
        public float[] Targets(int start, int length) => [.. Enumerable.Range(start, length).Select(Target)];

        /// <summary>Each column's mean and standard deviation (a constant column gets deviation 1).</summary>
        public (double[] Mean, double[] Std) Moments()
        {
            var mean = new double[Features];
            var std = new double[Features];
            for (int f = 0; f < Features; f++)
            {
                double sum = 0, squares = 0;
                for (int row = 0; row < Length; row++)
                {
                    sum += values[(row * Features) + f];
                }

                mean[f] = sum / Length;
                for (int row = 0; row < Length; row++)
                {
                    double d = values[(row * Features) + f] - mean[f];
                    squares += d * d;
                }

                double deviation = Math.Sqrt(squares / Length);
                std[f] = deviation > 1e-12 ? deviation : 1;
            }

            return (mean, std);
        }
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
/// forecasts from the end of the training series and takes new observations, and
/// <see cref="Backtest"/> evaluates it over a series with ML.NET's regression metrics.
/// </summary>
public sealed class RecurrentForecastModel : ITransformer, IDisposable, ISavedAsChain
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

    /// <summary>
    /// A rolling-origin back-test over <paramref name="series"/> (the training columns, rows in time
    /// order): from every origin row o ≥ <paramref name="firstOrigin"/> that has a full window before it,
    /// the model forecasts rows o … o + Horizon − 1 from rows o − WindowSize … o − 1 (the actual values,
    /// never its own forecasts), and each step h is scored against the rows that exist, with ML.NET's
    /// regression evaluator.
    /// </summary>
    /// <param name="series">The series with the columns the model was trained on; usually the training series followed by held-out rows.</param>
    /// <param name="firstOrigin">The first row to forecast (for a held-out tail: the number of training rows). Default: the first row after one window.</param>
    /// <exception cref="ArgumentException">A column is missing, not Single or has a non-finite value (named with its row), or no origin is left.</exception>
    /// <example><code>
    /// var backtest = model.Backtest(wholeSeries, firstOrigin: trainingRows);
    /// double mae1 = backtest.Metrics[0].MeanAbsoluteError, rmse5 = backtest.Metrics[4].RootMeanSquaredError;
    /// </code></example>
    public ForecastBacktest Backtest(IDataView series, int firstOrigin = 0)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfNegative(firstOrigin);
        var matrix = RecurrentForecaster.ReadSeries(series, Options);
        int window = Options.WindowSize, horizon = Options.Horizon;
        int start = Math.Max(firstOrigin, window);
        if (start >= matrix.Length)
        {
            throw new ArgumentException(
                $"The back-test series has {matrix.Length} rows: no origin at or after row {start} (firstOrigin {firstOrigin}, WindowSize {window}) is left to forecast.", nameof(series));
        }

        var origins = Enumerable.Range(start, matrix.Length - start).ToArray();
        var context = new MLContext(seed: 0);
        var windows = context.Data.LoadFromEnumerable(
            origins.Select(o => new RecurrentForecaster.WindowOnly { Window = matrix.Window(o - window, window) }),
            RecurrentForecaster.WindowDefinition(window * matrix.Features, Options.WindowColumnName));
        var scored = _transformer.ScoringTransformer.Transform(windows);

        // One pass reads the three columns: each GetColumn would run the network over every window again.
        var columns = new[] { Options.OutputColumnName, Options.LowerBoundColumnName, Options.UpperBoundColumnName }.Select(name => scored.Schema[name]).ToArray();
        using var cursor = scored.GetRowCursor(columns);
        var getters = columns.Select(column => cursor.GetGetter<VBuffer<float>>(column)).ToArray();
        VBuffer<float> forecast = default, lower = default, upper = default;
        var rows = new List<BacktestForecast>();
        for (int i = 0; cursor.MoveNext(); i++)
        {
            getters[0](ref forecast);
            getters[1](ref lower);
            getters[2](ref upper);
            for (int h = 0; h < horizon && origins[i] + h < matrix.Length; h++)
            {
                rows.Add(new BacktestForecast
                {
                    Origin = origins[i],
                    Step = h + 1,
                    Label = matrix.Target(origins[i] + h),
                    Score = forecast.GetItemOrDefault(h),
                    LowerBound = lower.GetItemOrDefault(h),
                    UpperBound = upper.GetItemOrDefault(h),
                });
            }
        }

        return ForecastBacktest.Evaluate(rows, horizon);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _transformer.ScoringTransformer.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _transformer.ScoringTransformer.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => _transformer.ScoringTransformer.Transform(input);

    /// <summary>Saves the scoring chain (ML.NET's own transformers only).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_transformer).Save(ctx);

    ITransformer ISavedAsChain.SavedTransformer => _transformer;

    /// <summary>Frees the network and its ONNX Runtime session (see <see cref="NeuralNetworkTransformer.Dispose"/>); engines created from it stop working.</summary>
    public void Dispose() => _transformer.Dispose();
}

/// <summary>Forecasts from a sliding window of the latest observations, like ML.NET's <c>TimeSeriesPredictionEngine</c>.</summary>
public sealed class RecurrentForecastEngine
{
    private readonly ITransformer _scoring;
    private readonly RecurrentForecasterOptions _options;
    private readonly Queue<float[]> _steps;
    private readonly MLContext _context = new(seed: 0);

    internal RecurrentForecastEngine(ITransformer scoring, RecurrentForecasterOptions options, float[] lastWindow)
    {
        _scoring = scoring;
        _options = options;
        _steps = new Queue<float[]>(lastWindow.Chunk(1 + options.FeatureColumnNames.Count));
    }

    /// <summary>The forecast column's values in the window the next forecast starts from, oldest first.</summary>
    public IReadOnlyList<float> Window => [.. _steps.Select(step => step[0])];

    /// <summary>Adds an observation (the oldest leaves the window).</summary>
    /// <param name="value">The forecast column's new value.</param>
    /// <param name="covariates">The covariates' values at the same step, one per <see cref="RecurrentForecasterOptions.FeatureColumnNames"/> in that order.</param>
    /// <exception cref="ArgumentException">A value is NaN or infinite, or the number of covariates is not the model's.</exception>
    public void Observe(float value, params float[] covariates)
    {
        ArgumentNullException.ThrowIfNull(covariates);
        if (!float.IsFinite(value))
        {
            throw new ArgumentException($"An observation must be finite; got {value}.", nameof(value));
        }

        int expected = _options.FeatureColumnNames.Count;
        if (covariates.Length != expected)
        {
            throw new ArgumentException(
                $"The model reads {expected} input series beside '{_options.InputColumnName}' ({string.Join(", ", _options.FeatureColumnNames)}), but the observation has {covariates.Length}.", nameof(covariates));
        }

        for (int i = 0; i < covariates.Length; i++)
        {
            if (!float.IsFinite(covariates[i]))
            {
                throw new ArgumentException($"The observation of '{_options.FeatureColumnNames[i]}' must be finite; got {covariates[i]}.", nameof(covariates));
            }
        }

        _steps.Dequeue();
        _steps.Enqueue([value, .. covariates]);
    }

    /// <summary>Adds an observation, then forecasts from the new end.</summary>
    /// <param name="observation">The forecast column's new value.</param>
    /// <param name="covariates">The covariates' values at the same step.</param>
    public SeriesForecast Predict(float observation, params float[] covariates)
    {
        Observe(observation, covariates);
        return Predict();
    }

    /// <summary>The forecast of the next <c>Horizon</c> values after the current window.</summary>
    public SeriesForecast Predict()
    {
        var row = new RecurrentForecaster.WindowOnly { Window = [.. _steps.SelectMany(step => step)] };
        var data = _context.Data.LoadFromEnumerable([row], RecurrentForecaster.WindowDefinition(row.Window.Length, _options.WindowColumnName));
        var scored = _scoring.Transform(data);
        return new SeriesForecast(
            scored.GetColumn<float[]>(_options.OutputColumnName).Single(),
            scored.GetColumn<float[]>(_options.LowerBoundColumnName).Single(),
            scored.GetColumn<float[]>(_options.UpperBoundColumnName).Single());
    }
}
