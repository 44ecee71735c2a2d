using Google.Protobuf;
using ML.DeepExtensions.Onnx.Proto;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// Turns the per-row graph that this library's trainers write (input <c>[F]</c>, Reshape to
/// <c>[1, ...]</c>, network, Reshape to <c>[K]</c>) into the same graph over a batch: input
/// <c>[N, F]</c>, Reshape to <c>[-1, ...]</c>, network, Reshape to <c>[-1, K]</c>, output <c>[N, K]</c>.
/// </summary>
/// <remarks>
/// Only graphs carrying the metadata <c>ml_deepextensions.component</c> are rewritten: their network
/// layers are exported batch-first, so the two Reshapes are the only places that fix the batch to
/// one. Anything else is refused with a message rather than guessed at.
/// </remarks>
internal static class BatchedOnnxGraph
{
    /// <summary>The metadata key our exporter writes; its value names the trainer.</summary>
    public const string ComponentKey = "ml_deepextensions.component";

    /// <summary>The symbolic name of the batch dimension in rewritten graphs.</summary>
    public const string BatchDimension = "N";

    /// <summary>True when the model was written by this library's exporter.</summary>
    public static bool IsOurs(ModelProto model) => model.MetadataProps.Any(entry => entry.Key == ComponentKey);

    /// <summary>Parses ONNX bytes, with a clear message when they are not an ONNX model.</summary>
    public static ModelProto Parse(byte[] onnx)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(onnx);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException("The model's ONNX graph cannot be read: " + e.Message, e);
        }
    }

    /// <summary>The rewrite; the input model is not modified.</summary>
    /// <exception cref="NotSupportedException">The graph is not one of this library's per-row graphs.</exception>
    public static BatchedGraph Rewrite(ModelProto perRow)
    {
        if (!IsOurs(perRow))
        {
            throw new NotSupportedException(
                $"The ONNX graph was not written by ML.DeepExtensions (no '{ComponentKey}' metadata), so it cannot be batched safely.");
        }

        var model = perRow.Clone();
        var graph = model.Graph;
        if (graph.Input.Count != 1 || graph.Output.Count != 1)
        {
            throw Unexpected($"{graph.Input.Count} inputs and {graph.Output.Count} outputs, expected one of each");
        }

        var input = graph.Input[0];
        var output = graph.Output[0];
        var inputDims = input.Type.TensorType.Shape.Dim;
        if (inputDims.Count != 1 || !inputDims[0].HasDimValue)
        {
            throw Unexpected($"input '{input.Name}' is not a fixed-size vector");
        }

        long features = inputDims[0].DimValue;
        var lead = graph.Node.SingleOrDefault(node => node.OpType == "Reshape" && node.Input[0] == input.Name)
            ?? throw Unexpected($"no Reshape of input '{input.Name}'");
        long[] rowShape = ReadShape(graph, lead.Input[1]);
        if (rowShape.Length < 2 || rowShape[0] != 1)
        {
            throw Unexpected($"the input's Reshape gives [{string.Join(", ", rowShape)}], not a batch of one");
        }

        var outputDims = output.Type.TensorType.Shape.Dim;
        if (outputDims.Count != 1 || !outputDims[0].HasDimValue)
        {
            throw Unexpected($"output '{output.Name}' is not a fixed-size vector");
        }

        var tail = FindTailReshape(graph, output.Name, outputDims[0].DimValue);
        long[] outputShape = ReadShape(graph, tail.Input[1]);
        if (outputShape.Length != 1 || outputDims[0].DimValue != outputShape[0])
        {
            throw Unexpected($"output '{output.Name}' is not reshaped to a fixed-size vector");
        }

        long width = outputShape[0];
        string oldLead = lead.Input[1], oldTail = tail.Input[1];
        lead.Input[1] = AddShape(graph, "batched_input_shape", [-1, .. rowShape[1..]]);
        tail.Input[1] = AddShape(graph, "batched_output_shape", [-1, width]);
        RemoveIfUnused(graph, oldLead);
        RemoveIfUnused(graph, oldTail);
        SetBatchedShape(input, features);
        SetBatchedShape(output, width);

        // Shapes recorded for values inside the graph were per row; ONNX Runtime infers them again.
        graph.ValueInfo.Clear();
        return new BatchedGraph(model, input.Name, output.Name, features, rowShape[1..], width);
    }

    /// <summary>
    /// The same graph with a second output, <see cref="SoftmaxOutput"/>: the softmax of the output over
    /// its last axis, which ONNX Runtime computes vectorised for the whole batch (a multiclass scorer stage reads it).
    /// </summary>
    public static BatchedGraph WithSoftmax(BatchedGraph graph)
    {
        var model = graph.Model.Clone();
        var onnx = model.Graph;
        if (onnx.Node.Any(n => n.Output.Contains(SoftmaxOutput)) || onnx.Initializer.Any(t => t.Name == SoftmaxOutput))
        {
            throw Unexpected($"it already has a value named '{SoftmaxOutput}'");
        }

        var node = new NodeProto { OpType = "Softmax", Name = SoftmaxOutput };
        node.Input.Add(graph.OutputName);
        node.Output.Add(SoftmaxOutput);
        node.Attribute.Add(new AttributeProto { Name = "axis", I = 1, Type = AttributeProto.Types.AttributeType.Int });
        onnx.Node.Add(node);
        var output = onnx.Output.Single().Clone();
        output.Name = SoftmaxOutput;
        onnx.Output.Add(output);
        return graph with { Model = model, SoftmaxName = SoftmaxOutput };
    }

    /// <summary>The name of the softmax output that <see cref="WithSoftmax"/> adds.</summary>
    public const string SoftmaxOutput = "ml_deepextensions_batched_softmax";

    /// <summary>Element-wise operators that may follow the tail Reshape: they act on each row alike, so they batch unchanged.</summary>
    private static readonly HashSet<string> ElementWise = ["Identity", "Max", "Min", "Add", "Sub", "Mul", "Div", "Tanh", "Sigmoid", "Relu"];

    private static NodeProto FindTailReshape(GraphProto graph, string outputName, long width)
    {
        // The output is the Reshape's own value, or reached from it through element-wise operators whose
        // other operands are constants of one row's width or scalars (the continuous policy's clipping).
        // Such constants broadcast over [N, width] exactly as over [width].
        string value = outputName;
        while (true)
        {
            var producer = graph.Node.SingleOrDefault(node => node.Output.Contains(value))
                ?? throw Unexpected($"nothing produces '{value}'");
            if (producer.OpType == "Reshape")
            {
                return producer;
            }

            if (!ElementWise.Contains(producer.OpType))
            {
                throw Unexpected($"output '{outputName}' does not come from a Reshape");
            }

            var data = producer.Input.Where(input => !IsRowConstant(graph, input, width)).ToList();
            if (data.Count != 1)
            {
                throw Unexpected($"'{producer.Name}' ({producer.OpType}) between the network and output '{outputName}' has {data.Count} non-constant inputs");
            }

            value = data[0];
        }
    }

    private static bool IsRowConstant(GraphProto graph, string name, long width) =>
        graph.Initializer.SingleOrDefault(t => t.Name == name) is { } tensor
        && (tensor.Dims.Count == 0 || (tensor.Dims.Count == 1 && (tensor.Dims[0] == 1 || tensor.Dims[0] == width)));

    private static long[] ReadShape(GraphProto graph, string name)
    {
        var tensor = graph.Initializer.SingleOrDefault(t => t.Name == name)
            ?? throw Unexpected($"Reshape shape '{name}' is not a constant");
        if (tensor.DataType != (int)TensorProto.Types.DataType.Int64)
        {
            throw Unexpected($"Reshape shape '{name}' is not Int64");
        }

        if (tensor.Int64Data.Count > 0)
        {
            return [.. tensor.Int64Data];
        }

        var bytes = tensor.RawData.Span;
        var values = new long[bytes.Length / sizeof(long)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * sizeof(long))..]);
        }

        return values;
    }

    private static string AddShape(GraphProto graph, string stem, long[] values)
    {
        string name = stem;
        for (int i = 1; graph.Initializer.Any(t => t.Name == name) || graph.Node.Any(n => n.Output.Contains(name)); i++)
        {
            name = $"{stem}_{i}";
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    private static void RemoveIfUnused(GraphProto graph, string initializer)
    {
        if (!graph.Node.Any(node => node.Input.Contains(initializer)))
        {
            var tensor = graph.Initializer.Single(t => t.Name == initializer);
            graph.Initializer.Remove(tensor);
        }
    }

    private static void SetBatchedShape(ValueInfoProto value, long width)
    {
        var dims = value.Type.TensorType.Shape.Dim;
        dims.Clear();
        dims.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        dims.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
    }

    private static NotSupportedException Unexpected(string what) =>
        new($"The ONNX graph does not have the per-row layout of ML.DeepExtensions' exporter ({what}), so it cannot be batched.");
}

/// <summary>A batched graph and what scoring it needs to know.</summary>
/// <param name="Model">The rewritten model.</param>
/// <param name="InputName">The graph input (also the ML.NET features column).</param>
/// <param name="OutputName">The graph output (the raw network output column).</param>
/// <param name="InputWidth">Values per row in the input.</param>
/// <param name="RowShape">The shape one row takes inside the network (<c>[F]</c>, or <c>[C, H, W]</c> for images).</param>
/// <param name="OutputWidth">Values per row in the output.</param>
/// <param name="SoftmaxName">A second output, the softmax of the first, when the graph has one (see <see cref="BatchedOnnxGraph.WithSoftmax"/>).</param>
internal sealed record BatchedGraph(ModelProto Model, string InputName, string OutputName, long InputWidth, long[] RowShape, long OutputWidth, string? SoftmaxName = null)
{
    /// <summary>The model as ONNX bytes.</summary>
    public byte[] ToBytes() => Model.ToByteArray();
}
