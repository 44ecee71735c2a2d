using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Supervised;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Sequence;

/// <summary>Default values of the text classifiers' simple overloads and options.</summary>
public static class TextClassifierDefaults
{
    /// <summary>Epochs: 10.</summary>
    public const int Epochs = 10;

    /// <summary>Rows per batch: 32.</summary>
    public const int BatchSize = 32;

    /// <summary>Tokens per row: 128.</summary>
    public const int MaxLength = 128;

    /// <summary>Most distinct tokens the trainer's own vocabulary keeps (raw text input): 20,000.</summary>
    public const int MaxVocabulary = 20_000;

    /// <summary>
    /// The default network for a recurrent cell: a 64-wide embedding, one bidirectional layer of 64
    /// units per direction, and max pooling over the valid steps (the trainer adds the output layer).
    /// </summary>
    public static IReadOnlyList<NetworkLayer> Architecture(RecurrentCell cell = RecurrentCell.Lstm) =>
    [
        Layer.Embedding(64),
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
/// Options shared by the text classifiers: where the tokens come from, how long a row may be, and
/// the network (any layer list that starts with <see cref="Layer.Embedding"/>).
/// </summary>
/// <remarks>
/// To fine-tune another text classifier's network (<see cref="SupervisedNetworkOptions.Pretrained"/>),
/// feed a token key column mapped with the vocabulary that network was trained with and leave
/// <see cref="TextColumnName"/> unset: token ids must mean the same words in both. A network that does
/// not start with an embedding, or whose embedding is smaller than the token column needs, is refused.
/// </remarks>
public abstract class TextClassifierOptions : SupervisedNetworkOptions
{
    /// <summary>Creates options with the text classifier defaults.</summary>
    protected TextClassifierOptions()
    {
        Epochs = TextClassifierDefaults.Epochs;
        Data = new DataOptions { BatchSize = TextClassifierDefaults.BatchSize };
        FeatureColumnName = "Tokens";
    }

    /// <summary>
    /// A raw text column. When set, the trainer fits ML.NET's own text transforms on the training data
    /// (<c>NormalizeText</c>: lower case, no punctuation; <c>TokenizeIntoWords</c>; <c>MapValueToKey</c> with
    /// at most <see cref="MaxVocabulary"/> tokens) into <see cref="SupervisedNetworkOptions.FeatureColumnName"/>
    /// and puts them at the start of the returned model, so the saved model scores raw text. When null
    /// (the default), <see cref="SupervisedNetworkOptions.FeatureColumnName"/> must already be a token key
    /// vector (for example <c>TokenizeIntoWords</c> → <c>MapValueToKey</c>).
    /// </summary>
    public string? TextColumnName { get; init; }

    /// <summary>
    /// Tokens a row keeps, in training and in scoring; longer rows are truncated as
    /// <see cref="Truncation"/> says. Default <see cref="TextClassifierDefaults.MaxLength"/>.
    /// </summary>
    public int MaxLength { get; init; } = TextClassifierDefaults.MaxLength;

    /// <summary>Which tokens a longer row keeps. Default <see cref="SequenceTruncation.KeepStart"/>.</summary>
    public SequenceTruncation Truncation { get; init; }

    /// <summary>Most distinct tokens of the trainer's own vocabulary (with <see cref="TextColumnName"/>); later tokens are unknown. Default 20,000.</summary>
    public int MaxVocabulary { get; init; } = TextClassifierDefaults.MaxVocabulary;

    /// <summary>
    /// The layers, starting with <see cref="Layer.Embedding"/> (its vocabulary is set from the token key
    /// column) and ending flat (a sequence pooling, or a recurrent layer with <c>returnSequences: false</c>);
    /// the trainer adds the output layer. Default <see cref="TextClassifierDefaults.Architecture"/> with an LSTM.
    /// </summary>
    public IReadOnlyList<NetworkLayer> Architecture { get; init; } = TextClassifierDefaults.Architecture();

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(MaxLength > 0, nameof(MaxLength), MaxLength, "must be positive");
        OptionChecks.Require(MaxVocabulary > 0, nameof(MaxVocabulary), MaxVocabulary, "must be positive");
        OptionChecks.Require(Enum.IsDefined(Truncation), nameof(Truncation), Truncation, "must be a defined truncation");
        OptionChecks.Require(TextColumnName is null || !string.IsNullOrWhiteSpace(TextColumnName), nameof(TextColumnName), TextColumnName ?? "", "must name a column or be null");
        OptionChecks.Require(TextColumnName != FeatureColumnName, nameof(TextColumnName), TextColumnName ?? "", "must differ from FeatureColumnName (the token column the trainer creates)");
        ArgumentNullException.ThrowIfNull(Architecture, nameof(Architecture));
        if (Architecture.Count == 0 || Architecture[0] is not EmbeddingLayer)
        {
            throw new ArgumentException(
                $"{nameof(Architecture)} must start with Layer.Embedding(...) to turn token ids into vectors; it starts with "
                + (Architecture.Count == 0 ? "nothing" : Architecture[0]?.Describe() ?? "null") + ".", nameof(Architecture));
        }
    }
}

/// <summary>Options of the multiclass text classifier.</summary>
public sealed class TextMulticlassOptions : TextClassifierOptions
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

/// <summary>Options of the binary text classifier.</summary>
public sealed class TextBinaryOptions : TextClassifierOptions
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
