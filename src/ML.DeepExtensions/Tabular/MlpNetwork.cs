using ML.DeepExtensions.Networks;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tabular;

/// <summary>Builds the multilayer perceptron described by <see cref="MlpOptions"/>.</summary>
internal static class MlpNetwork
{
    /// <summary>
    /// [standardization] → (linear → [batch norm] → activation → [dropout]) per hidden layer → linear.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Build(MlpOptions options, int inputs, int outputs, Standardization? standardization)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        if (standardization is not null)
        {
            layers.Add(("standardize", standardization));
        }

        int width = inputs;
        for (int i = 0; i < options.HiddenLayers.Count; i++)
        {
            int next = options.HiddenLayers[i];
            layers.Add(($"dense{i}", nn.Linear(width, next)));
            if (options.BatchNormalization)
            {
                layers.Add(($"batchnorm{i}", nn.BatchNorm1d(next)));
            }

            layers.Add(($"activation{i}", Activations.Create(options.Activation)));
            if (options.Dropout > 0)
            {
                layers.Add(($"dropout{i}", nn.Dropout(options.Dropout)));
            }

            width = next;
        }

        layers.Add(("output", nn.Linear(width, outputs)));
        return nn.Sequential(layers);
    }
}
