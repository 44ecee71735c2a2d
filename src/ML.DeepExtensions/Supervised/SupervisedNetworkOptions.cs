using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// Options shared by the trainers that learn a label from a features column (MLP, CNN): the
/// column names plus every engine option of <see cref="TrainingOptions"/>.
/// </summary>
public abstract class SupervisedNetworkOptions : TrainingOptions
{
    /// <summary>The features column. Default "Features".</summary>
    public string FeatureColumnName { get; init; } = "Features";

    /// <summary>The label column. Default "Label".</summary>
    public string LabelColumnName { get; init; } = "Label";

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        OptionChecks.Require(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName ?? "", "must name a column");
        OptionChecks.Require(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), LabelColumnName ?? "", "must name a column");
    }
}
