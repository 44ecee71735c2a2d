using ML.DeepExtensions.Networks.Vision;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Layers;

/// <summary>Checks an architecture against an input shape and builds it.</summary>
internal static class ConvNetBuilder
{
    /// <summary>
    /// The shape after each layer. Throws <see cref="LayerShapeException"/> naming the layer's index
    /// (0-based, in the list given) and the shapes involved, before any tensor exists.
    /// </summary>
    public static IReadOnlyList<long[]> InferShapes(IReadOnlyList<ImageLayer> layers, long[] input)
    {
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

    /// <summary>[normalization] → layers → output Dense(<paramref name="outputs"/>).</summary>
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
