using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Generative;

/// <summary>The adversarial loss of a GAN.</summary>
public enum GanLoss
{
    /// <summary>The non-saturating loss of Goodfellow et al.: the discriminator minimises softplus(−D(x)) + softplus(D(G(z))), the generator softplus(−D(G(z))).</summary>
    NonSaturating,

    /// <summary>The hinge loss (SAGAN, BigGAN): the discriminator minimises relu(1 − D(x)) + relu(1 + D(G(z))), the generator −D(G(z)).</summary>
    Hinge,

    /// <summary>
    /// The Wasserstein loss with a gradient penalty (WGAN-GP, Gulrajani et al. 2017): the critic minimises
    /// D(G(z)) − D(x) + λ·(‖∇D(x̂)‖₂ − 1)² at random points x̂ between real and generated images
    /// (λ = <see cref="ImageGanOptions.GradientPenaltyWeight"/>), the generator −D(G(z)). The paper
    /// trains the critic 5 times per generator step with Adam 1e-4, β = (0, 0.9): set
    /// <see cref="ImageGanOptions.DiscriminatorSteps"/> and both optimizers accordingly. The critic
    /// must not use batch normalisation (the penalty is per image).
    /// </summary>
    WassersteinGradientPenalty,
}

/// <summary>A grid of generated images written as a PNG during training.</summary>
public sealed record SampleGridOptions
{
    /// <summary>Folder for the files <c>samples-epoch-NNNN.png</c>; created if missing.</summary>
    public required string Directory { get; init; }

    /// <summary>Write a grid every this many epochs. Default 1.</summary>
    public int EveryEpochs { get; init; } = 1;

    /// <summary>Images per row of the grid; a conditional model shows one class per row. Default 8.</summary>
    public int Columns { get; init; } = 8;

    /// <summary>Rows of an unconditional model's grid (a conditional one has one row per class). Default 8.</summary>
    public int Rows { get; init; } = 8;
}

/// <summary>Defaults of <see cref="ImageGanOptions"/> and the simple catalog overload.</summary>
public static class ImageGanDefaults
{
    /// <summary>Length of the noise vector.</summary>
    public const int NoiseSize = 64;

    /// <summary>Passes over the images.</summary>
    public const int Epochs = 10;

    /// <summary>Images per batch.</summary>
    public const int BatchSize = 64;

    /// <summary>Adam learning rate of both networks (DCGAN's 2e-4).</summary>
    public const double LearningRate = 2e-4;

    /// <summary>Adam's first-moment decay for both networks (DCGAN's 0.5).</summary>
    public const double Beta1 = 0.5;

    /// <summary>Decay of the generator's exponential moving average.</summary>
    public const double EmaDecay = 0.999;

    /// <summary>Channels of the default networks' first convolution.</summary>
    public const int BaseFilters = 64;
}

/// <summary>
/// Options of <see cref="ImageGanTrainer"/>: a DCGAN (or, with <see cref="LabelColumnName"/>, a
/// class-conditional GAN with an auxiliary classifier) on a column of images. <see cref="TrainingOptions.Optimizer"/>
/// is the discriminator's optimizer, <see cref="GeneratorOptimizer"/> the generator's; both default
/// to Adam with learning rate 2e-4 and β = (0.5, 0.999). Epoch and step checkpoints, callbacks,
/// progress, the seed and exact resume come from the shared <see cref="TrainingOptions"/>.
/// </summary>
public sealed class ImageGanOptions : TrainingOptions
{
    /// <summary>Creates options with the GAN defaults.</summary>
    public ImageGanOptions()
    {
        Epochs = ImageGanDefaults.Epochs;
        Optimizer = new OptimizerOptions { LearningRate = ImageGanDefaults.LearningRate, Beta1 = ImageGanDefaults.Beta1 };
    }

    /// <summary>The images: a known-size Single vector with dimensions [C, H, W] (or [H, W], or flat with <see cref="ImageShape"/>). Default <c>Features</c>.</summary>
    public string FeatureColumnName { get; init; } = "Features";

    /// <summary>A key column of classes for a class-conditional GAN; null (the default) for an unconditional one.</summary>
    public string? LabelColumnName { get; init; }

    /// <summary>The generator transformer's noise input column (Vector&lt;Single, NoiseSize&gt;). Default <c>Noise</c>.</summary>
    public string NoiseColumnName { get; init; } = "Noise";

    /// <summary>The generator transformer's output column of images (Vector&lt;Single, C, H, W&gt;, pixels 0 to <see cref="PixelScale"/>). Default <c>GeneratedImage</c>.</summary>
    public string GeneratedColumnName { get; init; } = "GeneratedImage";

    /// <summary>The image shape [C, H, W] when the column is a flat vector; null to read it from the column's dimensions.</summary>
    public IReadOnlyList<int>? ImageShape { get; init; }

    /// <summary>The largest pixel value (255 for ExtractPixels and the IDX loader, 1 for pixels already scaled). Pixels are mapped to [−1, 1] for training and generated back into [0, PixelScale].</summary>
    public float PixelScale { get; init; } = 255f;

    /// <summary>Length of the noise vector. Default 64.</summary>
    public int NoiseSize { get; init; } = ImageGanDefaults.NoiseSize;

    /// <summary>
    /// The generator's layers, from the noise [NoiseSize] (plus the class index as a last value when
    /// conditional; start with <see cref="Layer.LabelEmbedding"/>) to an image [C, H, W] in [−1, 1]
    /// (end with <see cref="Layer.Tanh"/>). Null for <see cref="GanArchitectures.DcganGenerator"/>.
    /// </summary>
    public IReadOnlyList<NetworkLayer>? Generator { get; init; }

    /// <summary>
    /// The discriminator's layers, from an image [C, H, W] to [1] (a realness logit), or [1 + classes]
    /// when conditional (realness, then class logits). Null for <see cref="GanArchitectures.DcganDiscriminator"/>.
    /// </summary>
    public IReadOnlyList<NetworkLayer>? Discriminator { get; init; }

    /// <summary>Channels of the default networks' widest layer pair. Default 64.</summary>
    public int BaseFilters { get; init; } = ImageGanDefaults.BaseFilters;

    /// <summary>Spectral normalisation on the default discriminator's layers. Default true.</summary>
    public bool SpectralNormalization { get; init; } = true;

    /// <summary>The adversarial loss. Default <see cref="GanLoss.NonSaturating"/>.</summary>
    public GanLoss Loss { get; init; } = GanLoss.NonSaturating;

    /// <summary>The generator's optimizer. Default Adam, learning rate 2e-4, β = (0.5, 0.999).</summary>
    public OptimizerOptions GeneratorOptimizer { get; init; } = new() { LearningRate = ImageGanDefaults.LearningRate, Beta1 = ImageGanDefaults.Beta1 };

    /// <summary>λ, the weight of the gradient penalty of <see cref="GanLoss.WassersteinGradientPenalty"/> (unused by the other losses). Default 10, the paper's.</summary>
    public double GradientPenaltyWeight { get; init; } = 10.0;

    /// <summary>Discriminator updates per generator update (WGAN-GP's n_critic, 5 in the paper). Each uses the step's real batch and freshly generated images. Default 1.</summary>
    public int DiscriminatorSteps { get; init; } = 1;

    /// <summary>Decay of the exponential moving average of the generator's weights, which the returned generator uses; 0 to use the trained weights as they are. Default 0.999.</summary>
    public double EmaDecay { get; init; } = ImageGanDefaults.EmaDecay;

    /// <summary>Weight of the auxiliary classification loss of a conditional GAN (AC-GAN). Default 1.</summary>
    public double ClassificationWeight { get; init; } = 1.0;

    /// <summary>Length of the class vector the default conditional generator appends to the noise. Default 16.</summary>
    public int LabelEmbeddingSize { get; init; } = 16;

    /// <summary>How rows become batches; the last partial batch is dropped by default (batch normalisation and the two losses want full batches).</summary>
    public DataOptions Data { get; init; } = new() { BatchSize = ImageGanDefaults.BatchSize, DropLastPartialBatch = true };

    /// <summary>A PNG grid of generated images every few epochs, or null for none.</summary>
    public SampleGridOptions? SampleGrid { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ArgumentException.ThrowIfNullOrWhiteSpace(FeatureColumnName, nameof(FeatureColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(NoiseColumnName, nameof(NoiseColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(GeneratedColumnName, nameof(GeneratedColumnName));
        ArgumentNullException.ThrowIfNull(GeneratorOptimizer, nameof(GeneratorOptimizer));
        ArgumentNullException.ThrowIfNull(Data, nameof(Data));
        OptionChecks.Require(NoiseSize > 0, nameof(NoiseSize), NoiseSize, "must be at least 1 (the generator needs noise to vary its images)");
        OptionChecks.Require(PixelScale > 0 && float.IsFinite(PixelScale), nameof(PixelScale), PixelScale, "must be a positive number");
        OptionChecks.Require(BaseFilters > 0, nameof(BaseFilters), BaseFilters, "must be positive");
        OptionChecks.Require(GradientPenaltyWeight > 0 && double.IsFinite(GradientPenaltyWeight), nameof(GradientPenaltyWeight), GradientPenaltyWeight, "must be a positive number");
        OptionChecks.Require(DiscriminatorSteps > 0, nameof(DiscriminatorSteps), DiscriminatorSteps, "must be at least 1");
        OptionChecks.Require(EmaDecay is >= 0 and < 1, nameof(EmaDecay), EmaDecay, "must be in [0, 1)");
        OptionChecks.Require(ClassificationWeight >= 0 && double.IsFinite(ClassificationWeight), nameof(ClassificationWeight), ClassificationWeight, "must be zero or positive");
        OptionChecks.Require(LabelEmbeddingSize > 0, nameof(LabelEmbeddingSize), LabelEmbeddingSize, "must be positive");
        OptionChecks.Require(ImageShape is null || (ImageShape.Count == 3 && ImageShape.All(d => d > 0)), nameof(ImageShape), ImageShape is null ? "null" : string.Join("x", ImageShape), "must be three positive values (channels, height, width)");
        OptionChecks.Require(FeatureColumnName != LabelColumnName, nameof(LabelColumnName), LabelColumnName ?? "null", "must differ from FeatureColumnName");
        OptionChecks.Require(SampleGrid is null || SampleGrid.EveryEpochs > 0, "SampleGrid.EveryEpochs", SampleGrid?.EveryEpochs ?? 0, "must be positive");
        OptionChecks.Require(SampleGrid is null || (SampleGrid.Columns > 0 && SampleGrid.Rows > 0), "SampleGrid.Columns", SampleGrid?.Columns ?? 0, "Columns and Rows must be positive");
        GeneratorOptimizer.Validate();
        Data.Validate();
    }
}
