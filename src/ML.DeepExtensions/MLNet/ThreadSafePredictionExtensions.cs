using Microsoft.ML;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions;

/// <summary>Creates a <see cref="ThreadSafePredictor{TSrc, TDst}"/> on ML.NET's model catalog.</summary>
public static class ThreadSafePredictionExtensions
{
    /// <summary>
    /// Creates a predictor that is safe to call from any thread and whose disposal never disposes
    /// <paramref name="model"/> (unlike <c>CreatePredictionEngine</c>'s default; see
    /// <see cref="ThreadSafePredictor{TSrc, TDst}"/>).
    /// </summary>
    /// <param name="catalog">ML.NET's model catalog, <c>mlContext.Model</c>.</param>
    /// <param name="model">A fitted or loaded model.</param>
    /// <param name="inputSchema">
    /// The input schema from <c>mlContext.Model.Load(path, out inputSchema)</c>, if any: its vector
    /// sizes are checked before each prediction and given to input members without a declared size.
    /// </param>
    /// <returns>The predictor; dispose it when the model is retired.</returns>
    /// <exception cref="ArgumentException">The input class does not fit the model.</exception>
    public static ThreadSafePredictor<TSrc, TDst> CreateThreadSafePredictor<TSrc, TDst>(
        this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema? inputSchema = null)
        where TSrc : class
        where TDst : class, new() =>
        new(catalog, model, inputSchema);
}
