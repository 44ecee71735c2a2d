using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Sequence;

/// <summary>Defaults of the character language model, shared by the simple catalog overload and the options.</summary>
public static class CharacterLanguageModelDefaults
{
    /// <summary>Passes over the training texts.</summary>
    public const int Epochs = 10;

    /// <summary>Hidden units of each recurrent layer.</summary>
    public const int HiddenUnits = 256;

    /// <summary>Stacked recurrent layers.</summary>
    public const int Layers = 2;
}

/// <summary>
/// Options of the character-level language model: a text column, the character vocabulary, the
/// recurrent stack, and truncated backpropagation through time. The run itself (epochs, optimizer,
/// seed, progress, callbacks, checkpoints) is configured as for every family (<see cref="TrainingOptions"/>).
/// </summary>
public sealed class CharacterLanguageModelOptions : TrainingOptions
{
    /// <summary>Creates options with the defaults (10 epochs, Adam 2e-3, gradient norm clipped at 1).</summary>
    public CharacterLanguageModelOptions()
    {
        Epochs = CharacterLanguageModelDefaults.Epochs;
        Optimizer = new OptimizerOptions { LearningRate = 2e-3 };
        GradientClipNorm = 1.0;
    }

    /// <summary>The text column (scalar Text): one document per row, e.g. one fortune. Default "Text".</summary>
    public string TextColumnName { get; init; } = "Text";

    /// <summary>
    /// The column the fitted model scores as an ML.NET transformer: text whose next character it predicts
    /// (the characters so far, from the start of a text). Null (the default): the text column's name, so the
    /// model also transforms its training data and sits in a pipeline like any estimator.
    /// </summary>
    public string? ContextColumnName { get; init; }

    /// <summary>The context column in effect: <see cref="ContextColumnName"/>, or else <see cref="TextColumnName"/>.</summary>
    internal string ContextColumn => ContextColumnName ?? TextColumnName;

    /// <summary>The recurrent cell. Default <see cref="RecurrentCell.Lstm"/>.</summary>
    public RecurrentCell Cell { get; init; } = RecurrentCell.Lstm;

    /// <summary>Hidden units of each recurrent layer. Default 256.</summary>
    public int HiddenUnits { get; init; } = CharacterLanguageModelDefaults.HiddenUnits;

    /// <summary>Stacked recurrent layers. Default 2.</summary>
    public int Layers { get; init; } = CharacterLanguageModelDefaults.Layers;

    /// <summary>Size of each character's embedding. Default 64.</summary>
    public int EmbeddingDimensions { get; init; } = 64;

    /// <summary>Dropout between stacked layers and before the output layer, during training. Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>
    /// Characters per truncated backpropagation window: a longer text is trained window by window,
    /// the recurrent state carried from one window to the next (gradients stop at window edges). Default 128.
    /// </summary>
    public int SequenceLength { get; init; } = 128;

    /// <summary>Texts trained side by side in a batch. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Texts held by the streaming shuffle (the training data is read once per epoch, never held whole); 0 reads them in order. Default 4096.</summary>
    public int ShuffleBufferSize { get; init; } = 4096;

    /// <summary>
    /// A character of the training text enters the vocabulary when it occurs at least this often; rarer
    /// ones (and characters never seen) become the unknown character, which therefore gets trained. Default 2.
    /// </summary>
    public int MinCharacterCount { get; init; } = 2;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(!string.IsNullOrWhiteSpace(TextColumnName), nameof(TextColumnName), TextColumnName ?? "", "must name a column");
        OptionChecks.Require(ContextColumnName is null || !string.IsNullOrWhiteSpace(ContextColumnName), nameof(ContextColumnName), ContextColumnName ?? "", "must name a column, or be null for the text column");
        OptionChecks.Require(HiddenUnits > 0, nameof(HiddenUnits), HiddenUnits, "must be positive");
        OptionChecks.Require(Layers > 0, nameof(Layers), Layers, "must be at least 1");
        OptionChecks.Require(EmbeddingDimensions > 0, nameof(EmbeddingDimensions), EmbeddingDimensions, "must be positive");
        OptionChecks.Require(Dropout is >= 0 and < 1, nameof(Dropout), Dropout, "must be in [0, 1)");
        OptionChecks.Require(SequenceLength > 0, nameof(SequenceLength), SequenceLength, "must be positive");
        OptionChecks.Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        OptionChecks.Require(ShuffleBufferSize >= 0, nameof(ShuffleBufferSize), ShuffleBufferSize, "must be zero or positive");
        OptionChecks.Require(MinCharacterCount > 0, nameof(MinCharacterCount), MinCharacterCount, "must be at least 1");
        OptionChecks.Require(Checkpoints is null || Checkpoints.EverySteps == 0, "Checkpoints.EverySteps", Checkpoints?.EverySteps ?? 0,
            "must be 0: the language model writes checkpoints at epoch ends (set EveryEpochs)");
    }
}

/// <summary>How <see cref="CharacterLanguageModel.Generate"/> samples each next character.</summary>
public sealed record GenerationOptions
{
    /// <summary>Divides the logits before sampling: below 1 sharper, above 1 more varied. Must be positive. Default 1.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Sample only among the <c>TopK</c> most likely characters (1 is greedy decoding); null for all. Default null.</summary>
    public int? TopK { get; init; }

    /// <summary>The sampler's seed: the same model, prompt, options and seed give the same text. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Stop when the model ends the text (its end-of-text symbol) before <c>length</c> characters. Default true.</summary>
    public bool StopAtEndOfText { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        OptionChecks.Require(double.IsFinite(Temperature) && Temperature > 0, nameof(Temperature), Temperature,
            "must be a positive number (for the most likely character every time, use TopK = 1)");
        OptionChecks.Require(TopK is null or >= 1, nameof(TopK), TopK ?? 0, "must be at least 1 (1 is greedy decoding), or null for no limit");
    }
}
