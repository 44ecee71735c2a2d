using System.Globalization;
using Google.Protobuf;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx.Proto;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>An imported ONNX graph as one described layer: the graph's structure (weights travel in the state).</summary>
/// <param name="Graph">The GraphProto without float initializer values.</param>
/// <param name="Input">The graph input's name.</param>
/// <param name="Output">The value this layer outputs.</param>
internal sealed record OnnxGraphLayer(byte[] Graph, string Input, string Output) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var module = (OnnxGraphModule)Build(input);
        module.eval();
        try
        {
            return module.forward(ones([1, .. input]))!.shape[1..];
        }
        catch (Exception e) when (e is not NotSupportedException)
        {
            throw new LayerShapeException($"{Describe()} cannot take inputs of shape [{Format(input)}]: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new OnnxGraphModule(GraphProto.Parser.ParseFrom(Graph), Input, Output);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"OnnxGraph({GraphProto.Parser.ParseFrom(Graph).Node.Count} nodes)");
}

/// <summary>Turns an ONNX model (for example from torch.onnx.export) into a trainable network: the graph up to its last Gemm as <c>layer0</c>, that Gemm as <c>output</c>.</summary>
internal static class OnnxGraphImport
{
    public static (NetworkDescription Description, nn.Module<Tensor, Tensor> Network) Import(byte[] onnxModel, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(onnxModel);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not an ONNX model: {e.Message}", e);
        }

        var graph = model.Graph ?? throw new InvalidDataException($"{source} is not an ONNX model: it has no graph.");
        var unsupported = graph.Node.Where(n => !OnnxGraphModule.SupportedOperators.Contains(n.OpType)).ToList();
        if (unsupported.Count > 0)
        {
            throw new NotSupportedException(
                $"{source} uses operators the ONNX importer does not support: {string.Join(", ", unsupported.Select(n => $"'{n.OpType}' (node '{n.Name}')"))}. "
                + $"Supported: {string.Join(", ", OnnxGraphModule.SupportedOperators.Order(StringComparer.Ordinal))}.");
        }

        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1 || graph.Output.Count != 1)
        {
            throw new InvalidDataException($"{source} has {inputs.Count} input(s) and {graph.Output.Count} output(s); the importer takes one of each.");
        }

        var dims = inputs[0].Type?.TensorType?.Shape?.Dim.ToList() ?? [];
        if (dims.Count < 2 || dims.Skip(1).Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue < 1))
        {
            throw new InvalidDataException(
                $"{source}'s input '{inputs[0].Name}' must be [N, ...] with known sizes after the batch dimension (it is [{string.Join(", ", dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.DimParam))}]).");
        }

        long[] inputShape = [.. dims.Skip(1).Select(d => d.DimValue)];
        var last = graph.Node.LastOrDefault();
        TensorProto? weight = null, bias = null;
        if (last is null || last.OpType != "Gemm" || last.Output[0] != graph.Output[0].Name || last.Input.Count < 3
            || !initializers.TryGetValue(last.Input[1], out weight) || !initializers.TryGetValue(last.Input[2], out bias)
            || last.Attribute.Any(a => (a.Name is "alpha" or "beta" && a.F != 1f) || (a.Name == "transA" && a.I != 0)))
        {
            throw new NotSupportedException(
                $"{source} must end with a fully connected layer (a Gemm node with constant weights and bias) that becomes the output layer; it ends with {(last is null ? "no node" : $"'{last.OpType}' (node '{last.Name}')")}.");
        }

        bool transposed = last.Attribute.Any(a => a.Name == "transB" && a.I != 0);
        int outputs = (int)(transposed ? weight.Dims[0] : weight.Dims[1]);

        var backbone = graph.Clone();
        backbone.Node.RemoveAt(backbone.Node.Count - 1);
        var used = backbone.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var unused = backbone.Initializer.Where(i => !used.Contains(i.Name)).ToList();
        foreach (var initializer in unused)
        {
            backbone.Initializer.Remove(initializer);
        }

        var layer = new OnnxGraphLayer(OnnxGraphModule.Structure(backbone).ToByteArray(), inputs[0].Name, last.Input[0]);
        var description = new NetworkDescription { InputShape = inputShape, Layers = [layer], Outputs = outputs };
        var network = description.Build();
        var state = network.state_dict();
        ((OnnxGraphModule)network.named_children().First(c => c.name == LayerNames.Layer(0)).module).LoadInitializers(backbone);
        using (no_grad())
        {
            using var w = tensor(OnnxGraphModule.ReadFloat(weight), [.. weight.Dims]);
            state[$"{LayerNames.Output}.weight"].copy_(transposed ? w : w.t());
            using var b = tensor(OnnxGraphModule.ReadFloat(bias), [.. bias.Dims]);
            state[$"{LayerNames.Output}.bias"].copy_(b.reshape(outputs));
        }

        network.eval();
        return (description, network);
    }
}
