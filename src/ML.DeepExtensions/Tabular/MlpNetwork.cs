using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tabular;

/// <summary>Describes and builds the multilayer perceptron of <see cref="MlpOptions"/> in the shared layer system.</summary>
internal static class MlpNetwork
{
    /// <summary>
    /// <see cref="MlpOptions.Architecture"/> when set, else (Dense → [BatchNorm] → activation → [Dropout]) per hidden layer.
    /// </summary>
    public static IReadOnlyList<NetworkLayer> Architecture(MlpOptions options)
    {
        if (options.Architecture is { } custom)
        {
            return custom;
        }

        var layers = new List<NetworkLayer>();
        foreach (int width in options.HiddenLayers)
        {
            layers.Add(Layer.Dense(width));
            if (options.BatchNormalization)
            {
                layers.Add(Layer.BatchNorm());
            }

            layers.Add(Layer.Activation(options.Activation));
            if (options.Dropout > 0)
            {
                layers.Add(Layer.Dropout(options.Dropout));
            }
        }

        return layers;
    }

    /// <summary>[normalize: standardization] → the layers → output → [label_scale].</summary>
    public static nn.Module<Tensor, Tensor> Build(MlpOptions options, int inputs, int outputs, Standardization? standardization, Standardization? labelScale) =>
        NetworkBuilder.Build(Architecture(options), [inputs], outputs, standardization, labelScale);
}
