using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions;

/// <summary>
/// Batched scoring and deployable ONNX export on ML.NET's model catalog, e.g.
/// <c>mlContext.Model.CreateBatchScorer(model)</c>.
/// </summary>
public static class BatchScoringCatalogExtensions
{
    /// <summary>Creates a scorer that evaluates the model's networks in batches (see <see cref="BatchScorer"/>).</summary>
    /// <param name="catalog">The model operations catalog.</param>
    /// <param name="model">A model containing a network of this library: fitted, or loaded with <c>Model.Load</c>.</param>
    /// <param name="options">Batch size and threads; null for the defaults.</param>
    /// <exception cref="ArgumentException">The model contains no network of this library.</exception>
    public static BatchScorer CreateBatchScorer(this ModelOperationsCatalog catalog, ITransformer model, BatchScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new BatchScorer(ModelNetworks.Find(model), options ?? new BatchScorerOptions());
    }

    /// <summary>Loads a saved model zip and creates a batch scorer for it; disposing the scorer frees the loaded model.</summary>
    /// <param name="catalog">The model operations catalog.</param>
    /// <param name="modelPath">The zip written by <c>Model.Save</c>.</param>
    /// <param name="inputSchema">The input schema saved with the model (null when it was saved without one).</param>
    /// <param name="options">Batch size and threads; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ML.NET model zip.</exception>
    /// <exception cref="ArgumentException">The model contains no network of this library.</exception>
    public static BatchScorer CreateBatchScorer(this ModelOperationsCatalog catalog, string modelPath, out DataViewSchema? inputSchema, BatchScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var (model, schema, bytes) = SavedModels.Load(catalog, modelPath);
        inputSchema = schema;
        try
        {
            return new BatchScorer(ModelNetworks.Find(model, bytes), options ?? new BatchScorerOptions(), ownsModel: true);
        }
        catch
        {
            MLNet.LoadedModelFiles.DisposeAndDelete(model);
            throw;
        }
    }

    /// <summary>
    /// Writes the model's network as a deployable ONNX model: a dynamic batch dimension
    /// <c>N</c>, ML.NET-style outputs (<c>Score</c>, and <c>PredictedLabel</c> / <c>Probability</c>
    /// as the task has them), and the inputs, outputs, class names and pre-processing it expects in
    /// the model's <c>metadata_props</c>. See docs/deploying-onnx.md.
    /// </summary>
    /// <param name="catalog">The model operations catalog.</param>
    /// <param name="model">A model containing exactly one network of this library.</param>
    /// <param name="inputSchema">The model's input schema (as returned by <c>Model.Load</c>); it tells the task and the class names.</param>
    /// <param name="destination">Where the ONNX bytes go.</param>
    public static void ExportDeployableOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(destination);
        Google.Protobuf.MessageExtensions.WriteTo(DeployableOnnx.Build(ModelNetworks.Find(model), inputSchema), destination);
    }
}
