using ML.DeepExtensions.Networks.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>
/// Sequence networks: the row lengths are computed once from the input (non-padding token ids, or
/// every step of a numeric row) and passed beside the values to each sequence module, as
/// <see cref="SequenceNetwork"/> does. Recurrent layers become ONNX LSTM/GRU/RNN nodes with
/// <c>sequence_lens</c>, one node per stacked layer, gates reordered to ONNX's order.
/// </summary>
internal static class SequenceConverters
{
    public static string Network(OnnxExportContext context, SequenceNetwork module, string input)
    {
        var graph = context.Graph;
        string current;
        string lengths;
        if (module.Tokens)
        {
            current = graph.AddNode("Cast", [input], [OnnxAttribute.Int("to", (long)OnnxElementType.Int64)], context.NameHint("ids"));
            var present = graph.AddNode("Cast", [graph.AddNode("Not", [graph.AddNode("Equal", [current, Long(context, "pad", 0)])])],
                [OnnxAttribute.Int("to", (long)OnnxElementType.Int64)], context.NameHint("present"));
            var counts = graph.AddNode("ReduceSum", [present, Longs(context, "axis1", [1])], [OnnxAttribute.Int("keepdims", 0)], context.NameHint("counts"));
            lengths = graph.AddNode("Max", [counts, Long(context, "one", 1)], nameHint: context.NameHint("lengths"));
        }
        else
        {
            current = input;
            var shape = graph.AddNode("Shape", [input], nameHint: context.NameHint("shape"));
            var batch = graph.AddNode("Gather", [shape, Longs(context, "index0", [0])], [OnnxAttribute.Int("axis", 0)], context.NameHint("batch"));
            var steps = graph.AddNode("Gather", [shape, Longs(context, "index1", [1])], [OnnxAttribute.Int("axis", 0)], context.NameHint("steps"));
            lengths = graph.AddNode("Expand", [steps, batch], nameHint: context.NameHint("lengths"));
        }

        foreach (var (name, child) in module.Layers)
        {
            var childContext = new ChildContext(context, name);
            (current, lengths) = child switch
            {
                TokenEmbedding embedding => (Embedding(childContext, embedding, current), lengths),
                RecurrentEncoder recurrent => (Recurrent(childContext, recurrent, current, lengths), lengths),
                TemporalConvolution convolution => (Convolution(childContext, convolution, current, lengths), lengths),
                TemporalMaxPooling pooling => MaxPool(childContext, pooling, current, lengths),
                SequencePooling pooling => (Pool(childContext, pooling, current, lengths), lengths),
                ISequenceModule => throw new NotSupportedException($"Cannot export the sequence module '{name}' ({child.GetType().Name}) to ONNX."),
                _ => (context.ExportChild(child, name, current), lengths),
            };
        }

        return current;
    }

    private static string Embedding(ChildContext context, TokenEmbedding module, string ids)
    {
        var weight = context.Graph.AddInitializer(context.Hint("weight"), module.Weight);
        return context.Graph.AddNode("Gather", [weight, ids], [OnnxAttribute.Int("axis", 0)], context.Hint("embedded"));
    }

    private static string Recurrent(ChildContext context, RecurrentEncoder module, string input, string lengths)
    {
        var graph = context.Graph;
        var (op, gates, order) = module.Cell switch
        {
            // PyTorch LSTM rows are i, f, g, o; ONNX wants i, o, f, c.
            RecurrentCell.Lstm => ("LSTM", 4, new[] { 0, 3, 1, 2 }),
            // PyTorch GRU rows are r, z, n; ONNX wants z, r, h.
            RecurrentCell.Gru => ("GRU", 3, new[] { 1, 0, 2 }),
            _ => ("RNN", 1, new[] { 0 }),
        };
        var sequenceLengths = graph.AddNode("Cast", [lengths], [OnnxAttribute.Int("to", (long)OnnxElementType.Int32)], context.Hint("sequence_lens"));
        var steps = graph.AddNode("Transpose", [input], [OnnxAttribute.Ints("perm", [1, 0, 2])], context.Hint("time_major"));
        string lastHidden = "";
        string[] suffixes = module.Bidirectional ? ["", "_reverse"] : [""];
        for (long layer = 0; layer < module.LayerCount; layer++)
        {
            string w, r, b;
            using (var scope = torch.NewDisposeScope())
            {
                Tensor Stack(string kind) => torch.stack(suffixes.Select(s => Reorder(module.Parameter($"{kind}_l{layer}{s}"), gates, order)).ToArray());
                w = graph.AddInitializer(context.Hint($"W_l{layer}"), Stack("weight_ih"));
                r = graph.AddInitializer(context.Hint($"R_l{layer}"), Stack("weight_hh"));
                var biases = torch.stack(suffixes.Select(s => torch.cat([
                    Reorder(module.Parameter($"bias_ih_l{layer}{s}"), gates, order),
                    Reorder(module.Parameter($"bias_hh_l{layer}{s}"), gates, order)])).ToArray());
                b = graph.AddInitializer(context.Hint($"B_l{layer}"), biases);
            }

            var attributes = new List<OnnxAttribute>
            {
                OnnxAttribute.Int("hidden_size", module.HiddenSize),
                OnnxAttribute.String("direction", module.Bidirectional ? "bidirectional" : "forward"),
            };
            if (module.Cell == RecurrentCell.Gru)
            {
                attributes.Add(OnnxAttribute.Int("linear_before_reset", 1));
            }

            var outputs = graph.AddNodeWithOutputs(op, [steps, w, r, b, sequenceLengths], module.Cell == RecurrentCell.Lstm ? 3 : 2, attributes, context.Hint($"{op.ToLowerInvariant()}_l{layer}"));
            // Y [T, D, N, H] → [T, N, D·H], the next layer's input.
            var joined = graph.AddNode("Transpose", [outputs[0]], [OnnxAttribute.Ints("perm", [0, 2, 1, 3])], context.Hint($"y_l{layer}"));
            steps = graph.AddNode("Reshape", [joined, Longs(context.Parent, "shape_tn_", [0, 0, -1])], nameHint: context.Hint($"steps_l{layer}"));
            lastHidden = outputs[1];
        }

        if (!module.ReturnSequences)
        {
            // Y_h [D, N, H] → [N, D·H]: the final states, forward then backward.
            var batchFirst = graph.AddNode("Transpose", [lastHidden], [OnnxAttribute.Ints("perm", [1, 0, 2])], context.Hint("h_n"));
            return graph.AddNode("Reshape", [batchFirst, Longs(context.Parent, "shape_n_", [0, -1])], nameHint: context.Hint("last_state"));
        }

        var output = graph.AddNode("Transpose", [steps], [OnnxAttribute.Ints("perm", [1, 0, 2])], context.Hint("batch_major"));
        return graph.AddNode("Mul", [output, FloatMask(context, output, lengths)], nameHint: context.Hint("output"));
    }

    private static Tensor Reorder(Tensor parameter, int gates, int[] order)
    {
        var chunks = parameter.detach().chunk(gates, 0);
        return torch.cat(order.Select(i => chunks[i]).ToArray(), 0);
    }

    private static string Convolution(ChildContext context, TemporalConvolution module, string input, string lengths)
    {
        var graph = context.Graph;
        var masked = graph.AddNode("Mul", [input, FloatMask(context, input, lengths)], nameHint: context.Hint("masked"));
        var channels = graph.AddNode("Transpose", [masked], [OnnxAttribute.Ints("perm", [0, 2, 1])], context.Hint("channels_first"));
        var conv = module.Conv;
        var weight = graph.AddInitializer(context.Hint("weight"), conv.weight!);
        string[] inputs = conv.bias is null ? [channels, weight] : [channels, weight, graph.AddInitializer(context.Hint("bias"), conv.bias)];
        long pad = module.KernelSize / 2;
        var convolved = graph.AddNode("Conv", inputs,
            [OnnxAttribute.Ints("kernel_shape", [module.KernelSize]), OnnxAttribute.Ints("pads", [pad, pad]), OnnxAttribute.Ints("strides", [1])],
            context.Hint("conv"));
        var steps = graph.AddNode("Transpose", [convolved], [OnnxAttribute.Ints("perm", [0, 2, 1])], context.Hint("steps"));
        return graph.AddNode("Mul", [steps, FloatMask(context, steps, lengths)], nameHint: context.Hint("output"));
    }

    private static (string Output, string Lengths) MaxPool(ChildContext context, TemporalMaxPooling module, string input, string lengths)
    {
        var graph = context.Graph;
        var masked = graph.AddNode("Where", [BoolMask3(context, input, lengths), input, Float(context.Parent, "minus_infinity", float.NegativeInfinity)], nameHint: context.Hint("masked"));
        var channels = graph.AddNode("Transpose", [masked], [OnnxAttribute.Ints("perm", [0, 2, 1])], context.Hint("channels_first"));
        var pooled = graph.AddNode("MaxPool", [channels],
            [OnnxAttribute.Ints("kernel_shape", [module.Size]), OnnxAttribute.Ints("strides", [module.Size]), OnnxAttribute.Int("ceil_mode", 1)],
            context.Hint("pool"));
        var steps = graph.AddNode("Transpose", [pooled], [OnnxAttribute.Ints("perm", [0, 2, 1])], context.Hint("steps"));
        var pooledLengths = graph.AddNode("Div", [graph.AddNode("Add", [lengths, Long(context.Parent, $"size{module.Size}m1", module.Size - 1)]), Long(context.Parent, $"size{module.Size}", module.Size)],
            nameHint: context.Hint("lengths"));
        // Windows wholly in the padding hold -inf; they are exactly the steps beyond the new lengths.
        var output = graph.AddNode("Where", [BoolMask3(context, steps, pooledLengths), steps, Float(context.Parent, "zero_f", 0f)], nameHint: context.Hint("output"));
        return (output, pooledLengths);
    }

    private static string Pool(ChildContext context, SequencePooling module, string input, string lengths)
    {
        var graph = context.Graph;
        switch (module.Mode)
        {
            case SequencePoolingMode.Last:
                var last = graph.AddNode("Unsqueeze", [graph.AddNode("Sub", [lengths, Long(context.Parent, "one", 1)]), Longs(context.Parent, "axis1", [1])], nameHint: context.Hint("last_index"));
                return graph.AddNode("GatherND", [input, last], [OnnxAttribute.Int("batch_dims", 1)], context.Hint("last"));
            case SequencePoolingMode.Mean:
                var sum = graph.AddNode("ReduceSum", [graph.AddNode("Mul", [input, FloatMask(context, input, lengths)]), Longs(context.Parent, "axis1", [1])],
                    [OnnxAttribute.Int("keepdims", 0)], context.Hint("sum"));
                var count = graph.AddNode("Cast", [graph.AddNode("Unsqueeze", [lengths, Longs(context.Parent, "axis1", [1])])], [OnnxAttribute.Int("to", (long)OnnxElementType.Float)], context.Hint("count"));
                return graph.AddNode("Div", [sum, count], nameHint: context.Hint("mean"));
            case SequencePoolingMode.Max:
                var maskedMax = graph.AddNode("Where", [BoolMask3(context, input, lengths), input, Float(context.Parent, "minus_infinity", float.NegativeInfinity)], nameHint: context.Hint("masked"));
                return graph.AddNode("ReduceMax", [maskedMax], [OnnxAttribute.Ints("axes", [1]), OnnxAttribute.Int("keepdims", 0)], context.Hint("max"));
            default:
                string weightT, bias, scoreT;
                using (var scope = torch.NewDisposeScope())
                {
                    weightT = graph.AddInitializer(context.Hint("attention_weight_t"), module.Attention!.weight!.detach().t());
                    bias = graph.AddInitializer(context.Hint("attention_bias"), module.Attention.bias!);
                    scoreT = graph.AddInitializer(context.Hint("score_weight_t"), module.Score!.weight!.detach().t());
                }

                var hidden = graph.AddNode("Tanh", [graph.AddNode("Add", [graph.AddNode("MatMul", [input, weightT]), bias])], nameHint: context.Hint("attention_hidden"));
                var energies = graph.AddNode("Squeeze", [graph.AddNode("MatMul", [hidden, scoreT]), Longs(context.Parent, "axis2", [2])], nameHint: context.Hint("energies"));
                var maskedEnergies = graph.AddNode("Where", [BoolMask(context, input, lengths), energies, Float(context.Parent, "minus_infinity", float.NegativeInfinity)], nameHint: context.Hint("masked_energies"));
                var weights = graph.AddNode("Softmax", [maskedEnergies], [OnnxAttribute.Int("axis", 1)], context.Hint("weights"));
                var weighted = graph.AddNode("Mul", [graph.AddNode("Unsqueeze", [weights, Longs(context.Parent, "axis2", [2])]), input], nameHint: context.Hint("weighted"));
                return graph.AddNode("ReduceSum", [weighted, Longs(context.Parent, "axis1", [1])], [OnnxAttribute.Int("keepdims", 0)], context.Hint("attention"));
        }
    }

    /// <summary>[N, T] bool: step t &lt; the row's length, for a value [N, T, ...].</summary>
    private static string BoolMask(ChildContext context, string values, string lengths)
    {
        var graph = context.Graph;
        var steps = graph.AddNode("Gather", [graph.AddNode("Shape", [values]), Long(context.Parent, "index1_scalar", 1)], [OnnxAttribute.Int("axis", 0)], context.Hint("steps"));
        var range = graph.AddNode("Range", [Long(context.Parent, "zero", 0), steps, Long(context.Parent, "one", 1)], nameHint: context.Hint("range"));
        var row = graph.AddNode("Unsqueeze", [range, Longs(context.Parent, "axis0", [0])]);
        var column = graph.AddNode("Unsqueeze", [lengths, Longs(context.Parent, "axis1", [1])]);
        return graph.AddNode("Less", [row, column], nameHint: context.Hint("mask"));
    }

    private static string BoolMask3(ChildContext context, string values, string lengths) =>
        context.Graph.AddNode("Unsqueeze", [BoolMask(context, values, lengths), Longs(context.Parent, "axis2", [2])], nameHint: context.Hint("mask3"));

    private static string FloatMask(ChildContext context, string values, string lengths) =>
        context.Graph.AddNode("Cast", [BoolMask3(context, values, lengths)], [OnnxAttribute.Int("to", (long)OnnxElementType.Float)], context.Hint("mask_f"));

    // Constants shared by the whole network: one initializer per value under the network's stem.
    private static string Long(OnnxExportContext context, string name, long value) => Constant(context, name, () => context.Graph.AddInitializer(context.NameHint(name), [value], []));

    private static string Longs(OnnxExportContext context, string name, long[] values) => Constant(context, name + string.Join("_", values), () => context.Graph.AddInitializer(context.NameHint(name), values, [values.Length]));

    private static string Float(OnnxExportContext context, string name, float value) => Constant(context, name, () => context.Graph.AddInitializer(context.NameHint(name), [value], []));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<OnnxGraphBuilder, Dictionary<string, string>> Constants = [];

    private static string Constant(OnnxExportContext context, string key, Func<string> create)
    {
        var cache = Constants.GetOrCreateValue(context.Graph);
        string full = context.NameStem + "|" + key;
        if (!cache.TryGetValue(full, out var name))
        {
            name = create();
            cache[full] = name;
        }

        return name;
    }

    /// <summary>Names of a child's values: the child's path under the network's stem.</summary>
    private sealed class ChildContext(OnnxExportContext parent, string name)
    {
        public OnnxExportContext Parent => parent;

        public OnnxGraphBuilder Graph => parent.Graph;

        public string Hint(string suffix) => parent.NameHint($"{name}.{suffix}");
    }
}
