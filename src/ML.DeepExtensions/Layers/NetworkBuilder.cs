using ML.DeepExtensions.Networks.Sequence;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Layers;

/// <summary>
/// Checks a layer list against an input shape and builds it as a TorchSharp module with this
/// library's layer names (<see cref="LayerNames"/>): the network the trainers train, available for
/// your own loops, benchmarks or fine-tuning.
/// </summary>
public static class NetworkBuilder
{
    /// <summary>
    /// The per-row shape after each layer. Throws <see cref="LayerShapeException"/> naming the layer's index
    /// (0-based, in the list given) and the shapes involved, before any tensor exists.
    /// </summary>
    /// <param name="layers">The architecture.</param>
    /// <param name="input">Per-row input shape, e.g. [F] or [C, H, W].</param>
    /// <param name="requireFlatEnd">Whether the last shape must be flat so a Dense output layer can follow.</param>
    public static IReadOnlyList<long[]> InferShapes(IReadOnlyList<NetworkLayer> layers, long[] input, bool requireFlatEnd = true)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(input);
        var shapes = new List<long[]>(layers.Count);
        var shape = input;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is null)
            {
                throw new ArgumentException($"Layer {i} of the architecture is null.", nameof(layers));
            }

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

        if (requireFlatEnd && shape.Length != 1)
        {
            throw new LayerShapeException(
                $"The architecture ends with shape [{NetworkLayer.Format(shape)}]; it must end flat so the output layer can follow. "
                + "Add Layer.Flatten() or Layer.GlobalAveragePooling() at the end.");
        }

        return shapes;
    }

    /// <summary>
    /// <c>layer0</c> … <c>layerN</c> only, without an output layer, for networks whose last described
    /// layer is their output (a GAN's generator ends with Tanh on an image, its discriminator with Dense(1)).
    /// </summary>
    /// <param name="layers">The architecture.</param>
    /// <param name="input">Per-row input shape.</param>
    /// <param name="output">The per-row output shape.</param>
    /// <exception cref="LayerShapeException">A layer does not fit the shape it receives.</exception>
    public static nn.Module<Tensor, Tensor> BuildLayers(IReadOnlyList<NetworkLayer> layers, long[] input, out long[] output)
    {
        var shapes = InferShapes(layers, input, requireFlatEnd: false);
        if (layers.Count == 0)
        {
            throw new ArgumentException("The architecture has no layers.", nameof(layers));
        }

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        var shape = input;
        for (int i = 0; i < layers.Count; i++)
        {
            modules.Add((LayerNames.Layer(i), layers[i].Build(shape)));
            shape = shapes[i];
        }

        output = shape;
        return nn.Sequential(modules);
    }

    /// <summary>
    /// [<c>normalize</c>] → <c>layer0</c> … <c>layerN</c> → <c>output</c> (Dense with <paramref name="outputs"/> units) → [<c>label_scale</c>],
    /// for batches [N, ..<paramref name="input"/>].
    /// </summary>
    /// <param name="layers">The architecture.</param>
    /// <param name="input">Per-row input shape.</param>
    /// <param name="outputs">Units of the output layer (classes, or 1).</param>
    /// <param name="normalization">An input normalisation module, or null.</param>
    /// <param name="outputScale">A fixed module after the output layer (a regression's rescaling to label units), or null.</param>
    /// <exception cref="LayerShapeException">A layer does not fit the shape it receives.</exception>
    public static nn.Module<Tensor, Tensor> Build(
        IReadOnlyList<NetworkLayer> layers, long[] input, int outputs,
        nn.Module<Tensor, Tensor>? normalization = null, nn.Module<Tensor, Tensor>? outputScale = null)
    {
        var shapes = InferShapes(layers, input);
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        if (normalization is not null)
        {
            modules.Add((LayerNames.Normalize, normalization));
        }

        var shape = input;
        for (int i = 0; i < layers.Count; i++)
        {
            modules.Add((LayerNames.Layer(i), layers[i].Build(shape)));
            shape = shapes[i];
        }

        modules.Add((LayerNames.Output, nn.Linear(shape[0], outputs)));
        if (outputScale is not null)
        {
            modules.Add((LayerNames.LabelScale, outputScale));
        }

        // Sequence layers need each row's length beside the values: a root that carries it.
        return layers.Any(l => l is SequenceLayer)
            ? new SequenceNetwork(modules, tokens: layers[0] is EmbeddingLayer)
            : nn.Sequential(modules);
    }
}
