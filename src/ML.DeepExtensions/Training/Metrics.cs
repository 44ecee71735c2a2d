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

/// <summary>Classification accuracy: argmax of [N, K] logits, or logit &gt; 0 for binary [N] outputs.</summary>
public sealed class AccuracyMetric : IMetric
{
    private long _correct;
    private long _total;

    /// <inheritdoc />
    public string Name => "accuracy";

    /// <inheritdoc />
    public void Update(Tensor output, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(target);
        using var predicted = output.dim() > 1 ? output.argmax(1) : output.gt(0).to(target.dtype);
        using var hits = predicted.eq(target.view(predicted.shape)).sum();
        _correct += hits.item<long>();
        _total += predicted.shape[0];
    }

    /// <inheritdoc />
    public double Result() => _total == 0 ? double.NaN : (double)_correct / _total;

    /// <inheritdoc />
    public void Reset() => (_correct, _total) = (0, 0);
}

/// <summary>Mean absolute error of a regression output.</summary>
public sealed class MeanAbsoluteErrorMetric : IMetric
{
    private double _sum;
    private long _count;

    /// <inheritdoc />
    public string Name => "mae";

    /// <inheritdoc />
    public void Update(Tensor output, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(target);
        using var error = (output.view(-1) - target.view(-1)).abs().sum();
        _sum += error.to_type(ScalarType.Float64).item<double>();
        _count += target.shape[0];
    }

    /// <inheritdoc />
    public double Result() => _count == 0 ? double.NaN : _sum / _count;

    /// <inheritdoc />
    public void Reset() => (_sum, _count) = (0, 0);
}

/// <summary>Root mean squared error of a regression output.</summary>
public sealed class RootMeanSquaredErrorMetric : IMetric
{
    private double _sum;
    private long _count;

    /// <inheritdoc />
    public string Name => "rmse";

    /// <inheritdoc />
    public void Update(Tensor output, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(target);
        using var error = (output.view(-1) - target.view(-1)).square().sum();
        _sum += error.to_type(ScalarType.Float64).item<double>();
        _count += target.shape[0];
    }

    /// <inheritdoc />
    public double Result() => _count == 0 ? double.NaN : Math.Sqrt(_sum / _count);

    /// <inheritdoc />
    public void Reset() => (_sum, _count) = (0, 0);
}

/// <summary>
/// The per-epoch accumulator a train step writes into: row-weighted means of named scalars (losses)
/// plus the step's metrics.
/// </summary>
public sealed class StepMetrics
{
    private readonly Dictionary<string, (double Sum, long Rows)> _means = new(StringComparer.Ordinal);

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

        foreach (var metric in Metrics)
        {
            logs[prefix + metric.Name] = metric.Result();
        }
    }
}
