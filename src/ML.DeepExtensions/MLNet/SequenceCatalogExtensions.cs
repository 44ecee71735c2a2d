using Microsoft.ML;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;

namespace ML.DeepExtensions;

/// <summary>
/// The sequence family on ML.NET's catalogs: text classifiers, the numeric sequence classifier and the recurrent forecaster, e.g.
/// <c>mlContext.MulticlassClassification.Trainers.TextClassifier(textColumnName: "Text")</c>.
/// </summary>
public static class SequenceCatalogExtensions
{
    /// <summary>Creates a multiclass text classifier that reads raw text (the model it returns tokenizes it with ML.NET's own transforms).</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key label column.</param>
    /// <param name="textColumnName">Raw text column.</param>
    /// <param name="cell">The recurrent cell of the default architecture (<see cref="TextClassifierDefaults.Architecture"/>).</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="maxLength">Tokens a row keeps.</param>
    /// <example><code>
    /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    ///     .Append(mlContext.MulticlassClassification.Trainers.TextClassifier(textColumnName: "Text", cell: RecurrentCell.Gru));
    /// </code></example>
    public static TextMulticlassTrainer TextClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string textColumnName = "Text",
        RecurrentCell cell = RecurrentCell.Lstm,
        int epochs = TextClassifierDefaults.Epochs,
        int maxLength = TextClassifierDefaults.MaxLength) =>
        catalog.TextClassifier(new TextMulticlassOptions
        {
            LabelColumnName = labelColumnName,
            TextColumnName = textColumnName,
            Architecture = TextClassifierDefaults.Architecture(cell),
            Epochs = epochs,
            MaxLength = maxLength,
        });

    /// <summary>Creates a multiclass text classifier from full options (raw text or a token key column).</summary>
    public static TextMulticlassTrainer TextClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TextMulticlassOptions options) =>
        new(CatalogEnvironment.From(catalog), options);

    /// <summary>Creates a binary text classifier that reads raw text.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="labelColumnName">Boolean label column.</param>
    /// <param name="textColumnName">Raw text column.</param>
    /// <param name="cell">The recurrent cell of the default architecture.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="maxLength">Tokens a row keeps.</param>
    public static TextBinaryTrainer TextClassifier(
        this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string textColumnName = "Text",
        RecurrentCell cell = RecurrentCell.Lstm,
        int epochs = TextClassifierDefaults.Epochs,
        int maxLength = TextClassifierDefaults.MaxLength) =>
        catalog.TextClassifier(new TextBinaryOptions
        {
            LabelColumnName = labelColumnName,
            TextColumnName = textColumnName,
            Architecture = TextClassifierDefaults.Architecture(cell),
            Epochs = epochs,
            MaxLength = maxLength,
        });

    /// <summary>Creates a binary text classifier from full options (raw text or a token key column).</summary>
    public static TextBinaryTrainer TextClassifier(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, TextBinaryOptions options) =>
        new(CatalogEnvironment.From(catalog), options);

    /// <summary>Creates a classifier of numeric sequences: a Single vector column with [steps, features] dimensions (e.g. an image read row by row).</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key label column.</param>
    /// <param name="featureColumnName">Known-size Single vector column declaring [steps, features] dimensions.</param>
    /// <param name="cell">The recurrent cell of the default architecture (<see cref="SequenceClassifierDefaults.Architecture"/>).</param>
    /// <param name="epochs">Passes over the data.</param>
    public static SequenceClassifierTrainer SequenceClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features,
        RecurrentCell cell = RecurrentCell.Lstm,
        int epochs = SequenceClassifierDefaults.Epochs) =>
        catalog.SequenceClassifier(new SequenceClassifierOptions
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            Architecture = SequenceClassifierDefaults.Architecture(cell),
            Epochs = epochs,
        });

    /// <summary>Creates a classifier of numeric sequences from full options.</summary>
    public static SequenceClassifierTrainer SequenceClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, SequenceClassifierOptions options) =>
        new(CatalogEnvironment.From(catalog), options);

    /// <summary>Creates a binary classifier of numeric sequences: a Single vector column with [steps, features] dimensions, a Boolean label.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="labelColumnName">Boolean label column.</param>
    /// <param name="featureColumnName">Known-size Single vector column declaring [steps, features] dimensions.</param>
    /// <param name="cell">The recurrent cell of the default architecture (<see cref="SequenceClassifierDefaults.Architecture"/>).</param>
    /// <param name="epochs">Passes over the data.</param>
    public static SequenceBinaryClassifierTrainer SequenceClassifier(
        this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features,
        RecurrentCell cell = RecurrentCell.Lstm,
        int epochs = SequenceClassifierDefaults.Epochs) =>
        catalog.SequenceClassifier(new SequenceBinaryClassifierOptions
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            Architecture = SequenceClassifierDefaults.Architecture(cell),
            Epochs = epochs,
        });

    /// <summary>Creates a binary classifier of numeric sequences from full options.</summary>
    public static SequenceBinaryClassifierTrainer SequenceClassifier(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, SequenceBinaryClassifierOptions options) =>
        new(CatalogEnvironment.From(catalog), options);

    /// <summary>
    /// Creates a recurrent forecaster of one series (rows in time order), shaped like ML.NET's
    /// <c>ForecastBySsa</c>: a window of past values, a horizon, and bounds at a confidence level.
    /// </summary>
    /// <param name="catalog">The forecasting catalog.</param>
    /// <param name="outputColumnName">The forecast column (a vector of <paramref name="horizon"/> values).</param>
    /// <param name="inputColumnName">The series column (Single).</param>
    /// <param name="windowSize">Past values the network reads.</param>
    /// <param name="horizon">Future values forecast at once.</param>
    /// <param name="confidenceLevel">Confidence level of the interval.</param>
    /// <param name="confidenceLowerBoundColumn">The lower bound column.</param>
    /// <param name="confidenceUpperBoundColumn">The upper bound column.</param>
    public static RecurrentForecaster ForecastByRecurrentNetwork(
        this ForecastingCatalog catalog,
        string outputColumnName = "Forecast",
        string inputColumnName = "Value",
        int windowSize = 12,
        int horizon = 1,
        float confidenceLevel = 0.95f,
        string confidenceLowerBoundColumn = "LowerBound",
        string confidenceUpperBoundColumn = "UpperBound") =>
        catalog.ForecastByRecurrentNetwork(new RecurrentForecasterOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            WindowSize = windowSize,
            Horizon = horizon,
            ConfidenceLevel = confidenceLevel,
            LowerBoundColumnName = confidenceLowerBoundColumn,
            UpperBoundColumnName = confidenceUpperBoundColumn,
        });

    /// <summary>Creates a recurrent forecaster from full options.</summary>
    public static RecurrentForecaster ForecastByRecurrentNetwork(this ForecastingCatalog catalog, RecurrentForecasterOptions options) =>
        new(CatalogEnvironment.From(catalog), options);
}
