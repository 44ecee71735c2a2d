using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Supervised;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Sequence;

/// <summary>Default values of the numeric sequence classifier.</summary>
public static class SequenceClassifierDefaults
{
    /// <summary>Epochs: 10.</summary>
    public const int Epochs = 10;

    /// <summary>Rows per batch: 64.</summary>
    public const int BatchSize = 64;

    /// <summary>The default network: one bidirectional LSTM of 64 units per direction, then max pooling over the steps.</summary>
    public static IReadOnlyList<NetworkLayer> Architecture(RecurrentCell cell = RecurrentCell.Lstm) =>
    [
        cell switch
        {
            RecurrentCell.Gru => Layer.Gru(64, bidirectional: true),
            RecurrentCell.Simple => Layer.SimpleRnn(64, bidirectional: true),
            _ => Layer.Lstm(64, bidirectional: true),
        },
        Layer.SequencePooling(SequencePoolingMode.Max),
    ];
}

/// <summary>
/// What the numeric sequence classifiers share: a known-size Single vector column read as
/// <see cref="Steps"/> steps of <see cref="StepFeatures"/> values (row-major, step by step), for
/// example a 28×28 image as 28 rows of 28 pixels, and the sequence layers that read it.
/// </summary>
public abstract class NumericSequenceOptions : SupervisedNetworkOptions
{
    /// <summary>Creates options with the defaults.</summary>
    private protected NumericSequenceOptions()
    {
        Epochs = SequenceClassifierDefaults.Epochs;
        Data = new DataOptions { BatchSize = SequenceClassifierDefaults.BatchSize };
    }

    /// <summary>Steps per row; null (with <see cref="StepFeatures"/> null) takes the column's own dimensions [T, F].</summary>
    public int? Steps { get; init; }

    /// <summary>Values per step; null (with <see cref="Steps"/> null) takes the column's own dimensions [T, F].</summary>
    public int? StepFeatures { get; init; }

    /// <summary>
    /// Standardise each of the step's features with its mean and standard deviation over all steps of
    /// the training rows (stored in the network and its ONNX export). Default true.
    /// </summary>
    public bool StandardizeFeatures { get; init; } = true;

    /// <summary>
    /// The layers, on steps [T, F]: recurrent or 1-D convolution layers, ending flat (a sequence pooling,
    /// or a recurrent layer with <c>returnSequences: false</c>); the trainer adds the output layer.
    /// Default <see cref="SequenceClassifierDefaults.Architecture"/>.
    /// </summary>
    public IReadOnlyList<NetworkLayer> Architecture { get; init; } = SequenceClassifierDefaults.Architecture();

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(Steps is null == StepFeatures is null, nameof(Steps), Steps ?? 0, "and StepFeatures must be set together (or both left null)");
        OptionChecks.Require(Steps is null or > 0, nameof(Steps), Steps ?? 0, "must be positive");
        OptionChecks.Require(StepFeatures is null or > 0, nameof(StepFeatures), StepFeatures ?? 0, "must be positive");
        ArgumentNullException.ThrowIfNull(Architecture, nameof(Architecture));
        if (Architecture.Count == 0 || Architecture[0] is EmbeddingLayer || !Architecture.Any(l => l is SequenceLayer))
        {
            throw new ArgumentException(
                $"{nameof(Architecture)} must hold sequence layers (Layer.Lstm, Layer.Gru, Layer.SimpleRnn, Layer.Conv1D, ...) for numeric steps and no Layer.Embedding (that is for token ids: use the TextClassifier).",
                nameof(Architecture));
        }
    }
}

/// <summary>
/// Options of the multiclass classifier of numeric sequences: a known-size Single vector column read as
/// steps of values (see <see cref="NumericSequenceOptions"/>), a key label.
/// </summary>
public sealed class SequenceClassifierOptions : NumericSequenceOptions
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

/// <summary>
/// Options of the binary classifier of numeric sequences: a known-size Single vector column read as
/// steps of values (see <see cref="NumericSequenceOptions"/>), a Boolean label.
/// </summary>
public sealed class SequenceBinaryClassifierOptions : NumericSequenceOptions
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
