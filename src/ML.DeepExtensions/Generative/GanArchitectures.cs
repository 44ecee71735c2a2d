using ML.DeepExtensions.Layers;

namespace ML.DeepExtensions.Generative;

/// <summary>The default GAN networks, DCGAN style (Radford et al. 2016), sized for an image shape.</summary>
public static class GanArchitectures
{
    /// <summary>
    /// Dense → Reshape to [2f, H/4, W/4] → BatchNorm, ReLU → ConvTranspose2D(f) → BatchNorm, ReLU →
    /// ConvTranspose2D(C) → Tanh, with f = <paramref name="baseFilters"/>; a conditional generator
    /// starts with <see cref="Layer.LabelEmbedding"/>. H and W must be multiples of 4.
    /// </summary>
    /// <param name="imageShape">The image shape [C, H, W].</param>
    /// <param name="baseFilters">Channels of the last hidden layer.</param>
    /// <param name="classes">Classes of a conditional generator; 0 for none.</param>
    /// <param name="labelEmbeddingSize">Length of the class vector.</param>
    /// <exception cref="ArgumentException">H or W is not a multiple of 4.</exception>
    public static IReadOnlyList<NetworkLayer> DcganGenerator(IReadOnlyList<long> imageShape, int baseFilters = ImageGanDefaults.BaseFilters, int classes = 0, int labelEmbeddingSize = 16)
    {
        var (channels, height, width) = Check(imageShape);
        var layers = new List<NetworkLayer>();
        if (classes > 0)
        {
            layers.Add(Layer.LabelEmbedding(classes, labelEmbeddingSize));
        }

        layers.AddRange(
        [
            Layer.Dense((int)(2 * baseFilters * (height / 4) * (width / 4))),
            Layer.Reshape(2 * baseFilters, height / 4, width / 4),
            Layer.BatchNorm(),
            Layer.Relu(),
            Layer.ConvTranspose2D(baseFilters),
            Layer.BatchNorm(),
            Layer.Relu(),
            Layer.ConvTranspose2D((int)channels),
            Layer.Tanh(),
        ]);
        return layers;
    }

    /// <summary>
    /// Conv2D(f, 4x4, stride 2) → LeakyReLU(0.2) → Conv2D(2f, 4x4, stride 2) → LeakyReLU(0.2) →
    /// Flatten → Dense(1 + classes), each convolution and the dense layer spectrally normalised when
    /// <paramref name="spectralNormalization"/> is set. H and W must be multiples of 4.
    /// </summary>
    /// <param name="imageShape">The image shape [C, H, W].</param>
    /// <param name="baseFilters">Channels of the first convolution.</param>
    /// <param name="classes">Classes of a conditional (auxiliary-classifier) discriminator; 0 for none.</param>
    /// <param name="spectralNormalization">Whether to normalise the layers spectrally.</param>
    public static IReadOnlyList<NetworkLayer> DcganDiscriminator(IReadOnlyList<long> imageShape, int baseFilters = ImageGanDefaults.BaseFilters, int classes = 0, bool spectralNormalization = true)
    {
        Check(imageShape);
        NetworkLayer Normalized(NetworkLayer layer) => spectralNormalization ? Layer.SpectralNorm(layer) : layer;
        return
        [
            Normalized(Layer.Conv2D(baseFilters, kernelSize: 4, stride: 2, padding: 1)),
            Layer.LeakyRelu(),
            Normalized(Layer.Conv2D(2 * baseFilters, kernelSize: 4, stride: 2, padding: 1)),
            Layer.LeakyRelu(),
            Layer.Flatten(),
            Normalized(Layer.Dense(1 + classes)),
        ];
    }

    private static (long Channels, long Height, long Width) Check(IReadOnlyList<long> imageShape)
    {
        ArgumentNullException.ThrowIfNull(imageShape);
        if (imageShape.Count != 3 || imageShape[1] % 4 != 0 || imageShape[2] % 4 != 0 || imageShape[1] < 4 || imageShape[2] < 4)
        {
            throw new ArgumentException(
                $"The default GAN networks need images [C, H, W] with H and W multiples of 4; the images are [{string.Join(", ", imageShape)}]. "
                + "Resize them (mlContext.Transforms.ResizeImages) or give ImageGanOptions.Generator and Discriminator layers of your own.", nameof(imageShape));
        }

        return (imageShape[0], imageShape[1], imageShape[2]);
    }
}
