using Microsoft.ML;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions;

/// <summary>The image GAN on ML.NET's transforms catalog.</summary>
public static class ImageGanCatalogExtensions
{
    /// <summary>Creates a DCGAN (or, with <paramref name="labelColumnName"/>, a class-conditional GAN) with the most used settings.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="featureColumnName">Images: a known-size Single vector [C, H, W] of pixels 0 to 255.</param>
    /// <param name="labelColumnName">A key column of classes for a conditional GAN, or null.</param>
    /// <param name="noiseSize">Length of the noise vector.</param>
    /// <param name="epochs">Passes over the images.</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <example><code>
    /// var images = mlContext.Data.LoadFashionMnist(FashionMnistSplit.Train);
    /// var gan = mlContext.Transforms.ImageGan(labelColumnName: "Label", epochs: 5).Fit(images);
    /// var generated = gan.Sample(10, labels: ["Sneaker", "Bag", ...]);   // Noise, Label, GeneratedImage
    /// mlContext.Model.Save(gan.Generator, gan.GeneratorInputSchema, "generator.zip");
    /// </code></example>
    public static ImageGanTrainer ImageGan(
        this TransformsCatalog catalog,
        string featureColumnName = ColumnNames.Features,
        string? labelColumnName = null,
        int noiseSize = ImageGanDefaults.NoiseSize,
        int epochs = ImageGanDefaults.Epochs,
        int batchSize = ImageGanDefaults.BatchSize) =>
        catalog.ImageGan(new ImageGanOptions
        {
            FeatureColumnName = featureColumnName,
            LabelColumnName = labelColumnName,
            NoiseSize = noiseSize,
            Epochs = epochs,
            Data = { BatchSize = batchSize },
        });

    /// <summary>Creates an image GAN from full options.</summary>
    public static ImageGanTrainer ImageGan(this TransformsCatalog catalog, ImageGanOptions options) =>
        new(CatalogEnvironment.From(catalog), options);
}
