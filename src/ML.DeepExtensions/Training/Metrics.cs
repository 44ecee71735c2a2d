using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// A stateful metric, Keras style: updated batch by batch, read with <see cref="Result"/>, cleared
/// with <see cref="Reset"/>. Implementations keep managed accumulators only, never tensors, so
/// they survive the per-batch dispose scope.
/// </summary>
public interface IMetric
{
    /// <summary>The log key (validation copies get the <c>val_</c> prefix).</summary>
    string Name { get; }

    /// <summary>Accumulates one batch of model outputs and targets (both detached).</summary>
    void Update(Tensor output, Tensor target);

    /// <summary>The value over everything since the last reset.</summary>
    double Result();

    /// <summary>Clears the accumulators.</summary>
    void Reset();
}

/// <summary>Classification accuracy: argmax of [N, K] logits, or logit &gt; 0 for binary [N] or [N, 1] outputs.</summary>
public sealed class AccuracyMetric : IMetric
{
    private readonly DeviceSum _correct = new();
    private long _total;

    /// <inheritdoc />
    public string Name => "accuracy";

    /// <inheritdoc />
    public void Update(Tensor output, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(target);
        // K > 1 logits per row: the arg max; one logit per row ([N] or [N, 1]): positive when above 0.
        using var predicted = output.dim() > 1 && output.shape[1] > 1 ? output.argmax(1) : output.reshape(-1).gt(0).to(target.dtype);
        using var hits = (predicted.dim() == target.dim() ? predicted.eq(target) : predicted.eq(target.reshape(predicted.shape))).sum();
        _correct.Add(hits);
        _total += predicted.shape[0];
    }

    /// <inheritdoc />
    public double Result() => _total == 0 ? double.NaN : _correct.Value / _total;

    /// <inheritdoc />
    public void Reset()
    {
        _correct.Reset();
        _total = 0;
    }
}

/// <summary>Mean absolute error of a regression output.</summary>
public sealed class MeanAbsoluteErrorMetric : IMetric
{
    private readonly DeviceSum _sum = new();
    private long _count;

    /// <inheritdoc />
    public string Name => "mae";

    /// <inheritdoc />
    public void Update(Tensor output, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(target);
        using var error = (output.view(-1).to_type(ScalarType.Float64) - target.view(-1).to_type(ScalarType.Float64)).abs().sum();
        _sum.Add(error);
        _count += target.shape[0];
    }

    /// <inheritdoc />
    public double Result() => _count == 0 ? double.NaN : _sum.Value / _count;

    /// <inheritdoc />
    public void Reset()
    {
        _sum.Reset();
        _count = 0;
    }
}

/// <summary>Root mean squared error of a regression output.</summary>
public sealed class RootMeanSquaredErrorMetric : IMetric
{
    private readonly DeviceSum _sum = new();
    private long _count;

    /// <inheritdoc />
    public string Name => "rmse";

    /// <inheritdoc />
    public void Update(Tensor output, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(target);
        // In float64: squared errors of labels beyond about 1e19 overflow float32.
        using var error = (output.view(-1).to_type(ScalarType.Float64) - target.view(-1).to_type(ScalarType.Float64)).square().sum();
        _sum.Add(error);
        _count += target.shape[0];
    }

    /// <inheritdoc />
    public double Result() => _count == 0 ? double.NaN : Math.Sqrt(_sum.Value / _count);

    /// <inheritdoc />
    public void Reset()
    {
        _sum.Reset();
        _count = 0;
    }
}

/// <summary>
/// The per-epoch accumulator a train step writes into: row-weighted means of named scalars (losses)
/// plus the step's metrics.
/// </summary>
public sealed class StepMetrics
{
    private readonly Dictionary<string, (double Sum, long Rows)> _means = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DeviceSum Sum, long Rows)> _deviceMeans = new(StringComparer.Ordinal);

    /// <summary>Creates the accumulator over <paramref name="metrics"/>.</summary>
    public StepMetrics(IReadOnlyList<IMetric> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Metrics = metrics;
    }

    /// <summary>The metrics updated by <see cref="Update"/>.</summary>
    public IReadOnlyList<IMetric> Metrics { get; }

    /// <summary>Adds a per-batch mean value (a loss) weighted by the batch's rows.</summary>
    public void AddMean(string name, double batchMean, long rows)
    {
        _means.TryGetValue(name, out var current);
        _means[name] = (current.Sum + (batchMean * rows), current.Rows + rows);
    }

    /// <summary>
    /// Adds a per-batch mean held in a scalar tensor (a loss) without reading it back: the sum stays
    /// on the device until a value is needed, so training does not synchronise every batch.
    /// </summary>
    public void AddMean(string name, Tensor batchMean, long rows)
    {
        ArgumentNullException.ThrowIfNull(batchMean);
        if (!_deviceMeans.TryGetValue(name, out var current))
        {
            current = (new DeviceSum(), 0);
        }

        current.Sum.Add(batchMean, rows);
        _deviceMeans[name] = (current.Sum, current.Rows + rows);
    }

    /// <summary>Updates every metric with one batch's outputs and targets.</summary>
    public void Update(Tensor output, Tensor target)
    {
        foreach (var metric in Metrics)
        {
            metric.Update(output, target);
        }
    }

    /// <summary>Clears everything, at the start of an epoch.</summary>
    public void Reset()
    {
        _means.Clear();
        foreach (var (sum, _) in _deviceMeans.Values)
        {
            sum.Reset();
        }

        _deviceMeans.Clear();
        foreach (var metric in Metrics)
        {
            metric.Reset();
        }
    }

    /// <summary>Writes the current values into <paramref name="logs"/>, each key prefixed.</summary>
    public void WriteTo(TrainingLogs logs, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(logs);
        foreach (var (name, (sum, rows)) in _means)
        {
            logs[prefix + name] = rows == 0 ? double.NaN : sum / rows;
        }

        foreach (var (name, (sum, rows)) in _deviceMeans)
        {
            logs[prefix + name] = rows == 0 ? double.NaN : sum.Value / rows;
        }

        foreach (var metric in Metrics)
        {
            logs[prefix + metric.Name] = metric.Result();
        }
    }

    /// <summary>The running mean of an accumulated value so far this epoch, or null when nothing was added.</summary>
    internal double? RunningMean(string name) =>
        _deviceMeans.TryGetValue(name, out var device) && device.Rows > 0 ? device.Sum.Value / device.Rows
        : _means.TryGetValue(name, out var host) && host.Rows > 0 ? host.Sum / host.Rows
        : null;
}

/// <summary>
/// A running sum kept in a float64 scalar tensor on the device of the values added. Adding is one
/// in-place op and never synchronises; reading <see cref="Value"/> synchronises once. The tensor
/// lives outside every dispose scope and is freed by <see cref="Reset"/>.
/// </summary>
internal sealed class DeviceSum
{
    private Tensor? _sum;

    public double Value => _sum is null ? 0 : _sum.item<double>();

    /// <summary>Adds <paramref name="scale"/> × a scalar tensor (no autograd history is kept).</summary>
    public void Add(Tensor scalar, double scale = 1.0)
    {
        using var noGrad = no_grad();
        if (_sum is null)
        {
            _sum = zeros([], ScalarType.Float64, scalar.device).DetachFromDisposeScope();
        }

        _sum.add_(scalar, scale);
    }

    public void Reset()
    {
        _sum?.Dispose();
        _sum = null;
    }
}
