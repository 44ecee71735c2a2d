using ML.DeepExtensions.Networks.Vision;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Layers;

/// <summary>
/// Checks an architecture against an input shape and builds it as a TorchSharp module: the network
/// the image classifier trains, available for your own loops, benchmarks or fine-tuning.
/// </summary>
public static class ConvNetBuilder
{
    /// <summary>
    /// The per-image shape after each layer. Throws <see cref="LayerShapeException"/> naming the layer's index
    /// (0-based, in the list given) and the shapes involved, before any tensor exists.
    /// </summary>
    /// <param name="layers">The architecture.</param>
    /// <param name="input">Per-image shape [C, H, W].</param>
    public static IReadOnlyList<long[]> InferShapes(IReadOnlyList<ImageLayer> layers, long[] input)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(input);
        var shapes = new List<long[]>(layers.Count);
        var shape = input;
        for (int i = 0; i < layers.Count; i++)
        {
            try
            {
                shape = layers[i].OutputShape(shape);
            }
            catch (LayerShapeException e)
            {
                throw new LayerShapeException($"Layer {i} of the architecture: {e.Message}", e);
            }

            shapes.Add(shape);
        }

        if (shape.Length != 1)
        {
            throw new LayerShapeException(
                $"The architecture ends with shape [{ImageLayer.Format(shape)}]; it must end flat so the output layer can follow. "
                + "Add Layer.Flatten() or Layer.GlobalAveragePooling() at the end.");
        }

        return shapes;
    }

    /// <summary>[normalization] → layers → output Dense(<paramref name="outputs"/>), for [N, C, H, W] inputs.</summary>
    /// <param name="layers">The architecture.</param>
    /// <param name="input">Per-image shape [C, H, W].</param>
    /// <param name="outputs">Units of the output layer (classes).</param>
    /// <param name="normalization">An input normalisation layer, or null.</param>
    /// <exception cref="LayerShapeException">A layer does not fit the shape it receives.</exception>
    public static nn.Module<Tensor, Tensor> Build(IReadOnlyList<ImageLayer> layers, long[] input, int outputs, ImageNormalization? normalization)
    {
        var shapes = InferShapes(layers, input);
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        if (normalization is not null)
        {
            modules.Add(("normalize", normalization));
        }

        var shape = input;
        for (int i = 0; i < layers.Count; i++)
        {
            modules.Add(($"layer{i}", layers[i].Build(shape)));
            shape = shapes[i];
        }

        modules.Add(("output", nn.Linear(shape[0], outputs)));
        return nn.Sequential(modules);
    }
}
