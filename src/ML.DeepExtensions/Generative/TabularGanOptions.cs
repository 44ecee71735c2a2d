using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// Options of <see cref="TabularGanTrainer"/>, a CTGAN-style GAN for synthetic rows of an ordinary
/// table. <see cref="TrainingOptions.Optimizer"/> is the discriminator's optimizer,
/// <see cref="GeneratorOptimizer"/> the generator's; both default to Adam 2e-4, β = (0.5, 0.9),
/// weight decay 1e-6, as CTGAN.
/// </summary>
public sealed class TabularGanOptions : TrainingOptions
{
    /// <summary>Creates options with the defaults.</summary>
    public TabularGanOptions()
    {
        Epochs = 100;
        Optimizer = new OptimizerOptions { LearningRate = 2e-4, Beta1 = 0.5, Beta2 = 0.9, WeightDecay = 1e-6 };
    }

    /// <summary>Numeric columns (Single scalars), each encoded mode-specifically. Null with <see cref="CategoricalColumns"/> null: every Single column.</summary>
    public IReadOnlyList<string>? NumericColumns { get; init; }

    /// <summary>Categorical columns (String or key scalars), one-hot encoded and used for conditional sampling. Null with <see cref="NumericColumns"/> null: every String and key column.</summary>
    public IReadOnlyList<string>? CategoricalColumns { get; init; }

    /// <summary>Most Gaussian modes per numeric column (modes with under 0.5 % of the weight are dropped). Default 10.</summary>
    public int ModesPerColumn { get; init; } = 10;

    /// <summary>Length of the noise vector. Default 128.</summary>
    public int NoiseSize { get; init; } = 128;

    /// <summary>Width of the generator's and the discriminator's two hidden layers. Default 256.</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>Rows per batch. Default 500.</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>The generator's optimizer. Default Adam 2e-4, β = (0.5, 0.9), weight decay 1e-6.</summary>
    public OptimizerOptions GeneratorOptimizer { get; init; } = new() { LearningRate = 2e-4, Beta1 = 0.5, Beta2 = 0.9, WeightDecay = 1e-6 };

    /// <summary>Temperature of the Gumbel-softmax the generator's one-hot outputs use while training. Default 0.2.</summary>
    public double GumbelTemperature { get; init; } = 0.2;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(GeneratorOptimizer, nameof(GeneratorOptimizer));
        OptionChecks.Require(ModesPerColumn > 0, nameof(ModesPerColumn), ModesPerColumn, "must be at least 1");
        OptionChecks.Require(NoiseSize > 0, nameof(NoiseSize), NoiseSize, "must be at least 1");
        OptionChecks.Require(HiddenSize > 0, nameof(HiddenSize), HiddenSize, "must be positive");
        OptionChecks.Require(BatchSize > 1, nameof(BatchSize), BatchSize, "must be at least 2");
        OptionChecks.Require(GumbelTemperature > 0, nameof(GumbelTemperature), GumbelTemperature, "must be positive");
        GeneratorOptimizer.Validate();
    }
}
