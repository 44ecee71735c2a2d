using ML.DeepExtensions.Layers;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>Builds the network a trainer starts from when <see cref="PretrainedOptions"/> are set.</summary>
internal static class FineTunedNetwork
{
    /// <summary>
    /// The description of the fine-tuned network for per-row inputs <paramref name="inputShape"/>:
    /// the kept pretrained layers, the added ones and an output layer of <paramref name="outputs"/>
    /// units. Checks, before any data is read, that the backbone can take the input.
    /// </summary>
    /// <exception cref="ArgumentException">The input does not fit the backbone, or the kept output layer has another width.</exception>
    public static NetworkDescription Describe(PretrainedOptions pretrained, long[] inputShape, int outputs, bool labelScale, string featureColumn)
    {
        pretrained.Validate();
        var source = pretrained.Network.Description;
        long[] trainedOn = [.. source.InputShape];
        // Flat inputs must have the same features, images the same channels (sizes are checked by the layers).
        bool sameKind = trainedOn.Length == inputShape.Length && trainedOn[0] == inputShape[0];
        if (!sameKind)
        {
            throw new ArgumentException(
                $"The pretrained network from {pretrained.Network.Source} takes inputs of shape [{Format(trainedOn)}] per row, "
                + $"but the features column '{featureColumn}' has [{Format(inputShape)}]. "
                + (trainedOn.Length == 3 && inputShape.Length == 3
                    ? $"Its images have {trainedOn[0]} channel(s): convert the images (ConvertToGrayscale, or ExtractPixels with colors) to match."
                    : "Fine-tune it on data of the same form (an image network on images, a tabular network on the same features)."),
                nameof(pretrained));
        }

        if (!pretrained.ReplaceOutputLayer && source.Outputs != outputs)
        {
            throw new ArgumentException(
                $"Pretrained.ReplaceOutputLayer is false, but the pretrained output layer has {source.Outputs} units and the new task needs {outputs}. "
                + "Set ReplaceOutputLayer = true to train a new output layer for the new label set.", nameof(pretrained));
        }

        var layers = source.Layers.Take(pretrained.KeptLayerCount).Concat(pretrained.AddedLayers).ToList();
        var description = source with
        {
            InputShape = inputShape,
            Layers = layers,
            Outputs = outputs,
            LabelScale = labelScale,
        };
        try
        {
            NetworkBuilder.InferShapes(layers, inputShape);
        }
        catch (LayerShapeException e)
        {
            throw new LayerShapeException(
                $"The pretrained network from {pretrained.Network.Source} (trained on inputs [{Format(trainedOn)}]) cannot take the features column '{featureColumn}' "
                + $"of shape [{Format(inputShape)}]: {e.Message}", e);
        }

        return description;
    }

    /// <summary>
    /// Builds <paramref name="description"/> (new layers initialised from the current libtorch seed) and
    /// copies the pretrained weights into the kept layers; <paramref name="labelScale"/>'s values go to <c>label_scale</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A kept layer's weights do not fit the new input (an image size the backbone cannot take).</exception>
    public static nn.Module<Tensor, Tensor> Build(PretrainedOptions pretrained, NetworkDescription description, nn.Module? labelScale)
    {
        var network = description.Build();
        int kept = pretrained.KeptLayerCount;
        var copied = new HashSet<string>(StringComparer.Ordinal) { LayerNames.Normalize };
        for (int i = 0; i < kept; i++)
        {
            copied.Add(LayerNames.Layer(i));
        }

        if (!pretrained.ReplaceOutputLayer)
        {
            copied.Add(LayerNames.Output);
        }

        var pretrainedState = pretrained.Network.Network.state_dict();
        var scaleState = labelScale?.state_dict();
        using (no_grad())
        {
            foreach (var (name, value) in network.state_dict())
            {
                string layer = name[..Math.Max(0, name.IndexOf('.', StringComparison.Ordinal))];
                Tensor? from = null;
                if (layer == LayerNames.LabelScale && scaleState is not null)
                {
                    from = scaleState[name[(layer.Length + 1)..]];
                }
                else if (copied.Contains(layer))
                {
                    from = pretrainedState.GetValueOrDefault(name)
                        ?? throw new InvalidDataException($"The pretrained network from {pretrained.Network.Source} has no '{name}': it does not match its own description.");
                }

                if (from is null)
                {
                    continue;
                }

                if (!from.shape.SequenceEqual(value.shape))
                {
                    throw new ArgumentException(
                        $"The pretrained layer '{layer}' ({Describe(description, layer)}) cannot take inputs of shape [{Format([.. description.InputShape])}]: "
                        + $"its '{name}' has shape [{Format(from.shape)}] but [{Format(value.shape)}] is needed. "
                        + $"The backbone was trained on inputs [{Format([.. pretrained.Network.Description.InputShape])}]: resize the images to that size "
                        + $"(mlContext.Transforms.ResizeImages), or keep only the layers before '{layer}' (Pretrained.KeepLayersThrough).",
                        nameof(pretrained));
                }

                value.copy_(from);
            }
        }

        return network;
    }

    private static string Describe(NetworkDescription description, string layer)
    {
        for (int i = 0; i < description.Layers.Count; i++)
        {
            if (LayerNames.Layer(i) == layer)
            {
                return description.Layers[i].Describe();
            }
        }

        return layer;
    }

    private static string Format(long[] shape) => string.Join(", ", shape);
}
