using ML.DeepExtensions.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// Options shared by the trainers that learn a label from a features column (MLP, CNN): the column
/// names, how rows become batches (<see cref="Data"/>) and every run option of <see cref="TrainingOptions"/>.
/// </summary>
public abstract class SupervisedNetworkOptions : TrainingOptions
{
    private const string Moved = "Data options moved to the Data property in ML.DeepExtensions 0.2: write Data = { ";

    /// <summary>The features column. Default "Features".</summary>
    public string FeatureColumnName { get; init; } = "Features";

    /// <summary>The label column. Default "Label".</summary>
    public string LabelColumnName { get; init; } = "Label";

    /// <summary>
    /// How the rows are read: batch size, shuffling, validation split, missing values. Set single
    /// values with a nested initializer, which keeps the family's other defaults:
    /// <c>new MlpMulticlassOptions { Epochs = 30, Data = { BatchSize = 64, ValidationFraction = 0.2 } }</c>.
    /// </summary>
    public DataOptions Data { get; init; } = new();

    /// <summary>
    /// Start from a pretrained network (fine-tuning) instead of the family's architecture with random
    /// weights; null (the default) trains from scratch. See <see cref="PretrainedOptions"/>.
    /// </summary>
    public PretrainedOptions? Pretrained { get; init; }

#pragma warning disable CS1591, CA1822 // Compile-time signposts for the options that moved; they cannot be used.
    [Obsolete(Moved + "BatchSize = ... }.", error: true)]
    public int BatchSize { get => Data.BatchSize; init => throw new NotSupportedException(); }

    [Obsolete(Moved + "Shuffle = ... }.", error: true)]
    public bool Shuffle { get => Data.Shuffle; init => throw new NotSupportedException(); }

    [Obsolete(Moved + "ShuffleBufferSize = ... }.", error: true)]
    public int ShuffleBufferSize { get => Data.ShuffleBufferSize; init => throw new NotSupportedException(); }

    [Obsolete(Moved + "DropLastPartialBatch = ... }.", error: true)]
    public bool DropLastPartialBatch { get => Data.DropLastPartialBatch; init => throw new NotSupportedException(); }

    [Obsolete(Moved + "ValidationFraction = ... }.", error: true)]
    public double ValidationFraction { get => Data.ValidationFraction; init => throw new NotSupportedException(); }

    [Obsolete(Moved + "SkipRowsWithMissingValues = ... }.", error: true)]
    public bool SkipRowsWithMissingValues { get => Data.SkipRowsWithMissingValues; init => throw new NotSupportedException(); }
#pragma warning restore CS1591, CA1822

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName ?? "", "must name a column");
        OptionChecks.Require(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), LabelColumnName ?? "", "must name a column");
        ArgumentNullException.ThrowIfNull(Data, nameof(Data));
        Data.Validate();
        Pretrained?.Validate();
    }
}
