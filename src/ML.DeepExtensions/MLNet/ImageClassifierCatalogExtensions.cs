using Microsoft.ML;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Layers;

namespace ML.DeepExtensions;

/// <summary>The convolutional image classifier on ML.NET's multiclass catalog.</summary>
public static class ImageClassifierCatalogExtensions
{
    /// <summary>Creates a convolutional image classifier with the most used settings.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key label column.</param>
    /// <param name="featureColumnName">Pixels: a known-size Single vector (C×H×W).</param>
    /// <param name="architecture">Layers (a preset from <see cref="Architectures"/> or a custom list); null for <see cref="Architectures.SmallVgg"/>.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="learningRate">Adam learning rate.</param>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder, "Path")
    ///     .Append(mlContext.Transforms.ResizeImages("Image", 28, 28))
    ///     .Append(mlContext.Transforms.ConvertToGrayscale("Image"))
    ///     .Append(mlContext.Transforms.ExtractPixels("Features", "Image"))
    ///     .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
    ///     .Append(mlContext.MulticlassClassification.Trainers.ImageClassifier(architecture: Architectures.LeNet));
    /// </code></example>
    public static ImageClassifierTrainer ImageClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features,
        IReadOnlyList<NetworkLayer>? architecture = null,
        int epochs = ImageClassifierDefaults.Epochs,
        int batchSize = ImageClassifierDefaults.BatchSize,
        double learningRate = ImageClassifierDefaults.LearningRate) =>
        catalog.ImageClassifier(new ImageClassifierOptions
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            Architecture = architecture ?? Architectures.SmallVgg,
            Epochs = epochs,
            Data = { BatchSize = batchSize },
            Optimizer = new OptimizerOptions { LearningRate = learningRate },
        });

    /// <summary>Creates a convolutional image classifier from full options.</summary>
    public static ImageClassifierTrainer ImageClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, ImageClassifierOptions options) =>
        new(CatalogEnvironment.From(catalog), options);
}
