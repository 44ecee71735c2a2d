using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Onnx;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>The per-row ONNX graph of a network's first layers, whose output is the embedding of <see cref="MLNet.NetworkFeaturizerCatalogExtensions.FeaturizeByNetwork"/>.</summary>
internal static class NetworkFeaturizerGraph
{
    /// <summary>
    /// Input <paramref name="inputColumn"/> [size], output <paramref name="outputColumn"/> [N]: the
    /// network from <c>normalize</c> through <paramref name="throughLayer"/> (default: the last described layer), flattened.
    /// </summary>
    public static (byte[] Model, long Width) Build(PretrainedNetwork network, string inputColumn, string outputColumn, string? throughLayer)
    {
        var description = network.Description;
        var children = network.Network.named_children().ToList();
        string last = throughLayer ?? (description.Layers.Count > 0 ? LayerNames.Layer(description.Layers.Count - 1) : LayerNames.Normalize);
        int lastIndex = children.FindIndex(c => c.name == last);
        if (lastIndex < 0 || last == LayerNames.LabelScale)
        {
            throw new ArgumentException(
                $"The network from {network.Source} has no layer '{last}' to featurize through. Its layers are: {string.Join(", ", children.Select(c => c.name))}.",
                nameof(throughLayer));
        }

        long[] inputShape = [.. description.InputShape];
        var shapes = NetworkBuilder.InferShapes(description.Layers, inputShape);
        long[] outputShape = last switch
        {
            LayerNames.Normalize => inputShape,
            LayerNames.Output => [description.Outputs],
            _ => shapes[int.Parse(last.AsSpan(LayerNames.Layer(0).Length - 1), System.Globalization.CultureInfo.InvariantCulture)],
        };
        long width = outputShape.Aggregate(1L, (a, b) => a * b);
        long size = inputShape.Aggregate(1L, (a, b) => a * b);

        var graph = new OnnxGraphBuilder("NetworkFeaturizer");
        graph.AddInput(inputColumn, OnnxElementType.Float, size);
        long[] batchShape = [1, .. inputShape];
        string value = graph.AddNode("Reshape", [inputColumn, graph.AddInitializer("batch_of_one", batchShape, [batchShape.Length])], nameHint: "batch");
        var exporter = new OnnxModuleExporter();
        foreach (var layer in description.Layers)
        {
            layer.RegisterOnnxConverters(exporter);
        }

        network.Network.eval();
        using (no_grad())
        {
            for (int i = 0; i <= lastIndex; i++)
            {
                value = exporter.ExportModule(graph, children[i].module, value, children[i].name);
            }
        }

        string embedding = graph.AddNode("Reshape", [value, graph.AddInitializer("embedding_shape", [width], [1])], nameHint: "embedding");
        graph.AddOutput(embedding, outputColumn, OnnxElementType.Float, width);
        graph.AddMetadata("ml_deepextensions.component", "NetworkFeaturizer");
        graph.AddMetadata("ml_deepextensions.featurizer.through", last);
        return (graph.ToBytes(), width);
    }
}
