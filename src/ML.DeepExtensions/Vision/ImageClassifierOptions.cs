using ML.DeepExtensions.Data;
using ML.DeepExtensions.Supervised;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Layers;

namespace ML.DeepExtensions.Vision;

/// <summary>Default values of the image classifier's simple overload and options.</summary>
public static class ImageClassifierDefaults
{
    /// <summary>Epochs: 10.</summary>
    public const int Epochs = 10;

    /// <summary>Images per batch: 64.</summary>
    public const int BatchSize = 64;

    /// <summary>Adam learning rate: 0.001.</summary>
    public const double LearningRate = 1e-3;

    /// <summary>Pixel scale: 1/255, for 0..255 pixels as ML.NET's ExtractPixels produces.</summary>
    public const float PixelScale = 1f / 255f;
}

/// <summary>Options of the convolutional image classifier.</summary>
public sealed class ImageClassifierOptions : SupervisedNetworkOptions
{
    /// <summary>Creates options with the image classifier's defaults.</summary>
    public ImageClassifierOptions()
    {
        Epochs = ImageClassifierDefaults.Epochs;
        Data = new DataOptions { BatchSize = ImageClassifierDefaults.BatchSize };
    }

    /// <summary>
    /// The layers, from a preset in <see cref="Architectures"/> or built with <see cref="Layer"/>.
    /// The output layer (one unit per class) is added. Default <see cref="Architectures.SmallVgg"/>.
    /// </summary>
    public IReadOnlyList<NetworkLayer> Architecture { get; init; } = Architectures.SmallVgg;

    /// <summary>
    /// Channels, height and width of each image. Null: taken from the features column's dimensions,
    /// as ML.NET's ExtractPixels declares them (Vector&lt;Single, C, H, W&gt;). Needed for flat pixel
    /// vectors. When the column declares its dimensions they must agree (a [H, W] column reads as one
    /// channel); otherwise Fit fails naming both.
    /// </summary>
    public IReadOnlyList<int>? ImageShape { get; init; }

    /// <summary>Pixels are multiplied by this first. Default 1/255.</summary>
    public float PixelScale { get; init; } = ImageClassifierDefaults.PixelScale;

    /// <summary>
    /// After scaling, standardise each channel with the training images' mean and standard deviation
    /// (computed in the statistics pass). Default true. The normalisation is a layer of the network,
    /// so it travels with the saved model.
    /// </summary>
    public bool NormalizePerChannel { get; init; } = true;

    /// <summary>Augmentation applied to training batches only; null for none.</summary>
    public ImageAugmentationOptions? Augmentation { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(Architecture, nameof(Architecture));
        OptionChecks.Require(ImageShape is null || (ImageShape.Count == 3 && ImageShape.All(d => d > 0)),
            nameof(ImageShape), ImageShape is null ? "" : string.Join("x", ImageShape), "must be three positive sizes: channels, height, width");
        OptionChecks.Require(PixelScale > 0 && float.IsFinite(PixelScale), nameof(PixelScale), PixelScale, "must be a positive number");
    }
}
