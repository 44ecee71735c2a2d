using Microsoft.ML;
using Microsoft.ML.Transforms.Onnx;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// <c>mlContext.Transforms.FeaturizeByNetwork(...)</c>: a pretrained (or fine-tuned) network, frozen,
/// as an ML.NET featurizer, so that any ML.NET trainer learns on its embeddings.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Input column</term><description>Known-size vector of Single with the network's input size (features, or C×H×W pixels).</description></item>
/// <item><term>Output column</term><description>Vector&lt;Single, N&gt;: the output of the chosen layer, flattened.</description></item>
/// <item><term>Trainable?</term><description>No: the estimator needs no training; Fit only binds the columns.</description></item>
/// <item><term>Saved model needs this library?</term><description>No: the network is an ONNX graph in ML.NET's OnnxTransformer, stored inside the model zip.</description></item>
/// </list>
/// <code>
/// var backbone = PretrainedNetwork.FromModelFile("shoes.zip");
/// var pipeline = mlContext.Transforms.FeaturizeByNetwork("Embedding", backbone, "Features")
///     .Append(mlContext.MulticlassClassification.Trainers.LightGbm(featureColumnName: "Embedding"));
/// </code>
/// </remarks>
public static class NetworkFeaturizerCatalogExtensions
{
    /// <summary>
    /// Applies <paramref name="network"/> from its input normalisation through <paramref name="throughLayer"/>
    /// and writes that layer's output to <paramref name="outputColumnName"/> as a Vector&lt;Single, N&gt;.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The embedding column.</param>
    /// <param name="network">The network; rebuild a saved or fitted one with <see cref="PretrainedNetwork"/>'s factory methods.</param>
    /// <param name="inputColumnName">The input column; default "Features".</param>
    /// <param name="throughLayer">
    /// The last layer applied (<c>layer5</c>); default the last described layer, i.e. everything but the
    /// output layer (the penultimate embedding). <c>output</c> gives the logits.
    /// </param>
    /// <exception cref="ArgumentException">The columns have the same name, or the layer does not exist (the message lists the layers).</exception>
    public static OnnxScoringEstimator FeaturizeByNetwork(this TransformsCatalog catalog, string outputColumnName, PretrainedNetwork network,
        string inputColumnName = "Features", string? throughLayer = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        ArgumentNullException.ThrowIfNull(network);
        if (outputColumnName == inputColumnName)
        {
            throw new ArgumentException(
                $"The embedding column must not replace the input column '{inputColumnName}' (they name the ONNX graph's input and output): choose another output name.",
                nameof(outputColumnName));
        }

        var (model, _) = NetworkFeaturizerGraph.Build(network, inputColumnName, outputColumnName, throughLayer);
        using var stream = new MemoryStream(model, writable: false);
        return catalog.ApplyOnnxModel([outputColumnName], [inputColumnName], stream);
    }
}
