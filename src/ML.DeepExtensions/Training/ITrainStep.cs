using ML.DeepExtensions.Data;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// What one training batch does: the middle level of extension. The engine keeps the loop, the
/// schedules, callbacks, checkpoints and metrics; a step decides forward, loss and update. A GAN
/// step uses two optimizers; a supervised step one.
/// </summary>
public interface ITrainStep
{
    /// <summary>The module whose parameters and buffers are checkpointed (for a GAN, a container of both nets).</summary>
    nn.Module Model { get; }

    /// <summary>The optimizers; the engine applies the schedule to each one's base learning rate.</summary>
    IReadOnlyList<optim.Optimizer> Optimizers { get; }

    /// <summary>Fresh metric instances (called once for training and once for validation).</summary>
    IReadOnlyList<IMetric> CreateMetrics();

    /// <summary>Trains on one batch. Called inside a per-batch dispose scope, model in train mode.</summary>
    void TrainBatch(TensorBatch batch, StepMetrics metrics);

    /// <summary>Evaluates one batch without gradients. Called inside a dispose scope, model in eval mode.</summary>
    void EvaluateBatch(TensorBatch batch, StepMetrics metrics);
}

/// <summary>
/// The standard supervised step: forward the features, compute the loss against the label,
/// backpropagate, optionally clip the gradient norm, and step the optimizer.
/// </summary>
public sealed class SupervisedTrainStep : ITrainStep
{
    private readonly nn.Module<Tensor, Tensor> _network;
    private readonly Func<Tensor, Tensor, Tensor> _loss;
    private readonly Func<IReadOnlyList<IMetric>> _metricFactory;
    private readonly double? _gradientClipNorm;
    private readonly Device _device;
    private readonly optim.Optimizer[] _optimizers;
    private readonly Func<Tensor, Tensor>? _augmentation;

    /// <summary>Creates the step.</summary>
    /// <param name="network">Maps a features batch to outputs (logits or predictions).</param>
    /// <param name="loss">Mean loss of (output, label).</param>
    /// <param name="optimizer">Updates the network's parameters.</param>
    /// <param name="metricFactory">Creates the metrics to log besides the loss.</param>
    /// <param name="device">Where the network lives; batches are moved there.</param>
    /// <param name="gradientClipNorm">Clip the global gradient L2 norm to this value, or null.</param>
    /// <param name="augmentation">Applied to each training batch's features on the device (never in evaluation), or null.</param>
    public SupervisedTrainStep(
        nn.Module<Tensor, Tensor> network,
        Func<Tensor, Tensor, Tensor> loss,
        optim.Optimizer optimizer,
        Func<IReadOnlyList<IMetric>> metricFactory,
        Device device,
        double? gradientClipNorm = null,
        Func<Tensor, Tensor>? augmentation = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(metricFactory);
        _network = network;
        _loss = loss;
        _optimizers = [optimizer];
        _metricFactory = metricFactory;
        _device = device;
        _gradientClipNorm = gradientClipNorm;
        _augmentation = augmentation;
    }

    /// <inheritdoc />
    public nn.Module Model => _network;

    /// <inheritdoc />
    public IReadOnlyList<optim.Optimizer> Optimizers => _optimizers;

    /// <inheritdoc />
    public IReadOnlyList<IMetric> CreateMetrics() => _metricFactory();

    /// <inheritdoc />
    public void TrainBatch(TensorBatch batch, StepMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(metrics);
        var optimizer = _optimizers[0];
        optimizer.zero_grad();
        var features = OnDevice(batch.Features);
        if (_augmentation is not null)
        {
            features = _augmentation(features);
        }

        var label = OnDevice(batch.Label);
        var output = _network.forward(features);
        var loss = _loss(output, label);
        loss.backward();
        if (_gradientClipNorm is double maxNorm)
        {
            nn.utils.clip_grad_norm_(_network.parameters(), maxNorm);
        }

        optimizer.step();
        metrics.AddMean(TrainingLogs.Loss, loss, batch.RowCount);
        if (metrics.Metrics.Count > 0)
        {
            using (no_grad())
            {
                metrics.Update(output.detach(), label);
            }
        }
    }

    private Tensor OnDevice(Tensor tensor) => tensor.device_type == _device.type ? tensor : tensor.to(_device);

    /// <inheritdoc />
    public void EvaluateBatch(TensorBatch batch, StepMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(metrics);
        var label = OnDevice(batch.Label);
        var output = _network.forward(OnDevice(batch.Features));
        metrics.AddMean(TrainingLogs.Loss, _loss(output, label), batch.RowCount);
        metrics.Update(output, label);
    }
}
