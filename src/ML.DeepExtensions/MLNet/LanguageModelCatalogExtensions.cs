using Microsoft.ML;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;

namespace ML.DeepExtensions;

/// <summary>
/// The character-level language model on ML.NET's text catalog, e.g.
/// <c>mlContext.Transforms.Text.CharacterLanguageModel(textColumnName: "Text")</c>.
/// </summary>
public static class LanguageModelCatalogExtensions
{
    /// <summary>Creates a character-level language model trainer over a text column (one document per row).</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="textColumnName">The training text column.</param>
    /// <param name="cell">The recurrent cell.</param>
    /// <param name="hiddenUnits">Hidden units per recurrent layer.</param>
    /// <param name="layers">Stacked recurrent layers.</param>
    /// <param name="epochs">Passes over the texts.</param>
    /// <example><code>
    /// var model = mlContext.Transforms.Text.CharacterLanguageModel(textColumnName: "Text").Fit(trainTexts);
    /// double bits = model.BitsPerCharacter(testTexts);
    /// string text = model.Generate("The ", 200, new GenerationOptions { Temperature = 0.8, TopK = 10, Seed = 1 });
    /// </code></example>
    public static CharacterLanguageModelTrainer CharacterLanguageModel(
        this TransformsCatalog.TextTransforms catalog,
        string textColumnName = "Text",
        RecurrentCell cell = RecurrentCell.Lstm,
        int hiddenUnits = CharacterLanguageModelDefaults.HiddenUnits,
        int layers = CharacterLanguageModelDefaults.Layers,
        int epochs = CharacterLanguageModelDefaults.Epochs) =>
        catalog.CharacterLanguageModel(new CharacterLanguageModelOptions
        {
            TextColumnName = textColumnName,
            Cell = cell,
            HiddenUnits = hiddenUnits,
            Layers = layers,
            Epochs = epochs,
        });

    /// <summary>Creates a character-level language model trainer from full options.</summary>
    public static CharacterLanguageModelTrainer CharacterLanguageModel(this TransformsCatalog.TextTransforms catalog, CharacterLanguageModelOptions options) =>
        new(CatalogEnvironment.From(catalog), options);
}
