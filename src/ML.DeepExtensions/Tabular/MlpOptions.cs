using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Supervised;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tabular;

/// <summary>Default values of the MLP trainers' simple overloads and options.</summary>
public static class MlpDefaults
{
    /// <summary>Hidden layer widths: two layers of 64 and 32 units.</summary>
    public static IReadOnlyList<int> HiddenLayers { get; } = [64, 32];

    /// <summary>Epochs: 50 (tabular data sets are small; early stopping can cut this).</summary>
    public const int Epochs = 50;

    /// <summary>Rows per batch: 32.</summary>
    public const int BatchSize = 32;

    /// <summary>Adam learning rate: 0.001.</summary>
    public const double LearningRate = 1e-3;
}

/// <summary>
/// Options shared by the MLP trainers: the network's shape plus every engine option of
/// <see cref="TrainingOptions"/> (optimizer, schedule, early stopping, checkpoints, seed...).
/// </summary>
public abstract class MlpOptions : SupervisedNetworkOptions
{
    /// <summary>Creates options with the MLP defaults.</summary>
    protected MlpOptions()
    {
        Epochs = MlpDefaults.Epochs;
        Data = new DataOptions { BatchSize = MlpDefaults.BatchSize };
    }

    /// <summary>Widths of the hidden layers, input side first. Empty for a linear model.</summary>
    public IReadOnlyList<int> HiddenLayers { get; init; } = MlpDefaults.HiddenLayers;

    /// <summary>
    /// A custom layer list (any <see cref="NetworkLayer"/>, yours included) in place of
    /// <see cref="HiddenLayers"/>, <see cref="Activation"/>, <see cref="Dropout"/> and
    /// <see cref="BatchNormalization"/>; null (the default) uses those. The output layer is added by the trainer.
    /// </summary>
    public IReadOnlyList<NetworkLayer>? Architecture { get; init; }

    /// <summary>The activation after each hidden layer. Default ReLU.</summary>
    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>Dropout probability after each hidden activation; 0 for none. Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>Batch normalisation after each hidden linear layer. Default false.</summary>
    public bool BatchNormalization { get; init; }

    /// <summary>
    /// Standardise features with the training data's mean and standard deviation, computed in one
    /// pass before training and stored in the network (and its ONNX export). Default true, so raw
    /// features of very different scales train well without a separate normaliser.
    /// </summary>
    public bool StandardizeFeatures { get; init; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(HiddenLayers, nameof(HiddenLayers));
        for (int i = 0; i < HiddenLayers.Count; i++)
        {
            OptionChecks.Require(HiddenLayers[i] > 0, $"{nameof(HiddenLayers)}[{i}]", HiddenLayers[i], "must be a positive width");
        }

        OptionChecks.Require(Dropout is >= 0 and < 1, nameof(Dropout), Dropout, "must be in [0, 1)");
    }
}

/// <summary>Options of the multiclass MLP trainer.</summary>
public sealed class MlpMulticlassOptions : MlpOptions
{
    /// <summary>Label smoothing of the cross-entropy loss, in [0, 1). Default 0.</summary>
    public double LabelSmoothing { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(LabelSmoothing is >= 0 and < 1, nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 1)");
    }
}

/// <summary>Options of the binary MLP trainer.</summary>
public sealed class MlpBinaryOptions : MlpOptions
{
    /// <summary>Weight of positive examples in the logistic loss (for imbalanced data). Default 1.</summary>
    public double PositiveClassWeight { get; init; } = 1.0;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(PositiveClassWeight > 0, nameof(PositiveClassWeight), PositiveClassWeight, "must be positive");
    }
}

/// <summary>Options of the regression MLP trainer.</summary>
public sealed class MlpRegressionOptions : MlpOptions
{
    /// <summary>The loss. Default mean squared error.</summary>
    public RegressionLoss Loss { get; init; } = RegressionLoss.MeanSquaredError;

    /// <summary>Huber threshold, in label units. Default 1.</summary>
    public double HuberDelta { get; init; } = 1.0;

    /// <summary>
    /// Standardise the label for training and undo it in the exported model, so targets of any
    /// finite scale train with the default learning rate. Default true.
    /// </summary>
    /// <remarks>
    /// The loss compares (output − mean) / std with (label − mean) / std, the training labels' mean
    /// and standard deviation, so the logged <c>loss</c> is in standardised units while <c>mae</c>
    /// and <c>rmse</c> stay in label units. Without it the loss is computed in label units in
    /// float32, which overflows once errors reach about 1e19.
    /// </remarks>
    public bool StandardizeLabel { get; init; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(HuberDelta > 0, nameof(HuberDelta), HuberDelta, "must be positive");
    }
}
