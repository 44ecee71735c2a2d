using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions;

/// <summary>
/// Multilayer-perceptron trainers on ML.NET's catalogs, e.g.
/// <c>mlContext.MulticlassClassification.Trainers.Mlp()</c>.
/// </summary>
public static class MlpCatalogExtensions
{
    /// <summary>Creates a multiclass MLP trainer with the most used settings.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key label column.</param>
    /// <param name="featureColumnName">Known-size Single vector column.</param>
    /// <param name="hiddenLayers">Hidden layer widths; null for the default (64, 32).</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="learningRate">Adam learning rate.</param>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    ///     .Append(mlContext.Transforms.Concatenate("Features", "SepalLength", "SepalWidth", "PetalLength", "PetalWidth"))
    ///     .Append(mlContext.MulticlassClassification.Trainers.Mlp(hiddenLayers: [32], epochs: 100));
    /// </code></example>
    public static MlpMulticlassTrainer Mlp(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features,
        IReadOnlyList<int>? hiddenLayers = null,
        int epochs = MlpDefaults.Epochs,
        int batchSize = MlpDefaults.BatchSize,
        double learningRate = MlpDefaults.LearningRate) =>
        catalog.Mlp(SimpleOptions<MlpMulticlassOptions>(labelColumnName, featureColumnName, hiddenLayers, epochs, batchSize, learningRate));

    /// <summary>Creates a multiclass MLP trainer from full options.</summary>
    public static MlpMulticlassTrainer Mlp(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, MlpMulticlassOptions options) =>
        new(CatalogEnvironment.From(catalog), options);

    /// <summary>Creates a binary MLP trainer with the most used settings.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="labelColumnName">Boolean label column.</param>
    /// <param name="featureColumnName">Known-size Single vector column.</param>
    /// <param name="hiddenLayers">Hidden layer widths; null for the default (64, 32).</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="learningRate">Adam learning rate.</param>
    public static MlpBinaryTrainer Mlp(
        this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features,
        IReadOnlyList<int>? hiddenLayers = null,
        int epochs = MlpDefaults.Epochs,
        int batchSize = MlpDefaults.BatchSize,
        double learningRate = MlpDefaults.LearningRate) =>
        catalog.Mlp(SimpleOptions<MlpBinaryOptions>(labelColumnName, featureColumnName, hiddenLayers, epochs, batchSize, learningRate));

    /// <summary>Creates a binary MLP trainer from full options.</summary>
    public static MlpBinaryTrainer Mlp(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, MlpBinaryOptions options) =>
        new(CatalogEnvironment.From(catalog), options);

    /// <summary>Creates a regression MLP trainer with the most used settings.</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="labelColumnName">Single label column.</param>
    /// <param name="featureColumnName">Known-size Single vector column.</param>
    /// <param name="hiddenLayers">Hidden layer widths; null for the default (64, 32).</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="learningRate">Adam learning rate.</param>
    public static MlpRegressionTrainer Mlp(
        this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features,
        IReadOnlyList<int>? hiddenLayers = null,
        int epochs = MlpDefaults.Epochs,
        int batchSize = MlpDefaults.BatchSize,
        double learningRate = MlpDefaults.LearningRate) =>
        catalog.Mlp(SimpleOptions<MlpRegressionOptions>(labelColumnName, featureColumnName, hiddenLayers, epochs, batchSize, learningRate));

    /// <summary>Creates a regression MLP trainer from full options.</summary>
    public static MlpRegressionTrainer Mlp(this RegressionCatalog.RegressionTrainers catalog, MlpRegressionOptions options) =>
        new(CatalogEnvironment.From(catalog), options);

    private static TOptions SimpleOptions<TOptions>(
        string labelColumnName, string featureColumnName, IReadOnlyList<int>? hiddenLayers, int epochs, int batchSize, double learningRate)
        where TOptions : MlpOptions, new() => new()
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            HiddenLayers = hiddenLayers ?? MlpDefaults.HiddenLayers,
            Epochs = epochs,
            Data = { BatchSize = batchSize },
            Optimizer = new OptimizerOptions { LearningRate = learningRate },
        };
}
