using Google.Protobuf;
using ML.DeepExtensions.Onnx.Proto;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// Batches any per-row graph of this library whose inputs and outputs all have fixed shapes (several
/// inputs, several outputs, keys as UInt32 — the forecaster, the GAN's generator, continuous
/// policies): the whole per-row graph becomes the body of one ONNX <c>Scan</c> over the batch axis.
/// </summary>
/// <remarks>
/// Each row still runs the per-row network, so its values are exactly the per-row graph's; what is
/// saved is ML.NET's and ONNX Runtime's overhead per call. <see cref="BatchedOnnxGraph"/> (one
/// matrix product per layer for the whole batch) is used instead wherever its stricter layout fits.
/// Outer names are fresh (<c>scan_input_i</c>, <c>scan_output_j</c>) because a subgraph must not
/// reuse the names of its parent graph.
/// </remarks>
internal static class ScannedOnnxGraph
{
    /// <summary>The graph wrapped in a Scan; the input model is not modified.</summary>
    /// <exception cref="NotSupportedException">An input or output has a symbolic dimension or an element type other than Single and UInt32.</exception>
    public static ScannedGraph Wrap(ModelProto perRow)
    {
        if (!BatchedOnnxGraph.IsOurs(perRow))
        {
            throw new NotSupportedException($"The ONNX graph was not written by ML.DeepExtensions (no '{BatchedOnnxGraph.ComponentKey}' metadata), so it cannot be batched safely.");
        }

        var body = perRow.Graph.Clone();
        var inputs = body.Input.Where(i => !body.Initializer.Any(t => t.Name == i.Name)).Select(Tensor).ToList();
        var outputs = body.Output.Select(Tensor).ToList();
        body.Name = "per_row";

        var outer = new GraphProto { Name = perRow.Graph.Name + "_scanned" };
        var scan = new NodeProto { OpType = "Scan", Name = "batch_scan" };
        for (int i = 0; i < inputs.Count; i++)
        {
            string name = $"scan_input_{i}";
            outer.Input.Add(Batched(name, inputs[i]));
            scan.Input.Add(name);
        }

        for (int j = 0; j < outputs.Count; j++)
        {
            string name = $"scan_output_{j}";
            outer.Output.Add(Batched(name, outputs[j]));
            scan.Output.Add(name);
        }

        scan.Attribute.Add(new AttributeProto { Name = "body", Type = AttributeProto.Types.AttributeType.Graph, G = body });
        scan.Attribute.Add(new AttributeProto { Name = "num_scan_inputs", Type = AttributeProto.Types.AttributeType.Int, I = inputs.Count });
        outer.Node.Add(scan);

        var model = perRow.Clone();
        model.Graph = outer;
        return new ScannedGraph(model, inputs, outputs);
    }

    private static RowTensor Tensor(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType
            ?? throw new NotSupportedException($"'{value.Name}' is not a tensor, so the graph cannot be batched.");
        var type = (TensorProto.Types.DataType)tensor.ElemType;
        if (type is not (TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Uint32))
        {
            throw new NotSupportedException($"'{value.Name}' holds {type} values; batching handles Single and UInt32 (keys).");
        }

        var dims = tensor.Shape?.Dim ?? throw new NotSupportedException($"'{value.Name}' has no shape, so the graph cannot be batched.");
        if (dims.Any(d => !d.HasDimValue || d.DimValue < 1))
        {
            throw new NotSupportedException($"'{value.Name}' has a dimension that is not fixed (a variable-length row), so the graph is scored row by row.");
        }

        return new RowTensor(value.Name, type == TensorProto.Types.DataType.Uint32, [.. dims.Select(d => d.DimValue)]);
    }

    private static ValueInfoProto Batched(string name, RowTensor row)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchedOnnxGraph.BatchDimension });
        foreach (long d in row.Shape)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        var type = row.IsKey ? TensorProto.Types.DataType.Uint32 : TensorProto.Types.DataType.Float;
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}

/// <summary>One input or output of a per-row graph.</summary>
/// <param name="Name">Its name in the per-row graph: the ML.NET column it is read from or written to.</param>
/// <param name="IsKey">UInt32 values (an ML.NET key column's raw values); otherwise Single.</param>
/// <param name="Shape">Its per-row shape.</param>
internal sealed record RowTensor(string Name, bool IsKey, long[] Shape)
{
    /// <summary>Values per row.</summary>
    public int Width => checked((int)Shape.Aggregate(1L, (a, b) => a * b));
}

/// <summary>A per-row graph wrapped in a Scan: input <c>i</c> is <c>scan_input_i</c> with shape [N, ...<see cref="Inputs"/>[i].Shape], likewise the outputs.</summary>
internal sealed record ScannedGraph(ModelProto Model, IReadOnlyList<RowTensor> Inputs, IReadOnlyList<RowTensor> Outputs)
{
    public byte[] ToBytes() => Model.ToByteArray();
}
