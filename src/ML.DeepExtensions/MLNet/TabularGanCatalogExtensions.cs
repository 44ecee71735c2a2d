using Microsoft.ML;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions;

/// <summary>The tabular GAN on ML.NET's transforms catalog.</summary>
public static class TabularGanCatalogExtensions
{
    /// <summary>Creates a CTGAN-style GAN for synthetic rows of a table (Single numeric, String or key categorical columns).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="epochs">Passes over the table.</param>
    /// <example><code>
    /// var gan = mlContext.Transforms.TabularGan(epochs: 200).Fit(table);
    /// IDataView synthetic = gan.Sample(1000, seed: 1);   // the table's columns, names and types
    /// </code></example>
    public static TabularGanTrainer TabularGan(this TransformsCatalog catalog, int epochs = 100) =>
        catalog.TabularGan(new TabularGanOptions { Epochs = epochs });

    /// <summary>Creates a tabular GAN from full options.</summary>
    public static TabularGanTrainer TabularGan(this TransformsCatalog catalog, TabularGanOptions options) =>
        new(CatalogEnvironment.From(catalog), options);
}
