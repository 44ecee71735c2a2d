using System.Globalization;
using Google.Protobuf;
using ML.DeepExtensions.Onnx.Proto;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// A trainable TorchSharp module that runs an imported ONNX graph node by node: float initializers
/// become parameters (batch-norm statistics buffers), integer ones stay constants. It writes itself
/// back into an ONNX graph with its current weights.
/// </summary>
internal sealed class OnnxGraphModule : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>The operators the importer runs and writes back.</summary>
    internal static readonly HashSet<string> SupportedOperators = new(StringComparer.Ordinal)
    {
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "MaxPool", "AveragePool", "GlobalAveragePool",
        "Flatten", "Reshape", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Concat", "Identity", "Dropout",
    };

    private readonly string _input;
    private readonly string _output;
    private readonly Dictionary<string, string> _moduleNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long[] Values, long[] Dims)> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly List<NodeProto> _nodes = [];

    /// <summary>Builds the module over <paramref name="graph"/> (initializers give the shapes; their values are zero until loaded).</summary>
    public OnnxGraphModule(GraphProto graph, string input, string output)
        : base("onnx_graph")
    {
        _input = input;
        _output = output;
        // torch.onnx.export shares equal constants between layers through Identity nodes (in a freshly
        // initialised network every batch norm's weights are ones): each such use becomes a tensor of its own.
        var floatInitializers = graph.Initializer.Where(i => i.DataType == (int)TensorProto.Types.DataType.Float).ToDictionary(i => i.Name, StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.OpType == "Identity" && floatInitializers.ContainsKey(_aliases.GetValueOrDefault(node.Input[0], node.Input[0])))
            {
                _aliases[node.Output[0]] = _aliases.GetValueOrDefault(node.Input[0], node.Input[0]);
            }
            else
            {
                _nodes.Add(node);
            }
        }

        var statistics = _nodes.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Input.Skip(3)).ToHashSet(StringComparer.Ordinal);
        foreach (var initializer in graph.Initializer)
        {
            if (initializer.DataType == (int)TensorProto.Types.DataType.Int64)
            {
                _constants[initializer.Name] = (ReadInt64(initializer), [.. initializer.Dims]);
            }
            else if (initializer.DataType != (int)TensorProto.Types.DataType.Float)
            {
                throw new NotSupportedException($"The ONNX initializer '{initializer.Name}' has element type {initializer.DataType}; the importer takes float and int64 initializers.");
            }
        }

        foreach (var (name, dims) in floatInitializers.Select(kv => (kv.Key, kv.Value.Dims)).Concat(_aliases.Select(kv => (kv.Key, floatInitializers[kv.Value].Dims))))
        {
            string member = UniqueModuleName(name);
            _moduleNames[name] = member;
            var value = zeros([.. dims]).DetachFromDisposeScope();
            if (statistics.Contains(name))
            {
                register_buffer(member, value);
            }
            else
            {
                register_parameter(member, new Parameter(value));
            }
        }
    }

    /// <summary>Copies the initializers' values of <paramref name="graph"/> into the parameters and buffers.</summary>
    public void LoadInitializers(GraphProto graph)
    {
        var state = state_dict();
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, member) in _moduleNames)
        {
            var initializer = initializers[_aliases.GetValueOrDefault(name, name)];
            using var value = tensor(ReadFloat(initializer), [.. initializer.Dims]);
            state[member].copy_(value);
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var state = named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(named_buffers()).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [_input] = input };
        Tensor Value(string name) => values.TryGetValue(name, out var v) ? v
            : _moduleNames.TryGetValue(name, out var module) ? state[module]
            : throw new InvalidOperationException($"The ONNX value '{name}' is used before it is computed.");
        foreach (var node in _nodes)
        {
            values[node.Output[0]] = Run(node, Value);
        }

        return values[_output].MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public string ExportOnnx(OnnxGraphBuilder graph, string input)
    {
        var state = named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(named_buffers()).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        var names = new Dictionary<string, string>(StringComparer.Ordinal) { [_input] = input };
        string Name(string value)
        {
            if (names.TryGetValue(value, out var name))
            {
                return name;
            }

            name = _moduleNames.TryGetValue(value, out var module)
                ? graph.AddInitializer(module, state[module].detach().cpu())
                : graph.AddInitializer(Sanitize(value), _constants[value].Values, _constants[value].Dims);
            names[value] = name;
            return name;
        }

        foreach (var node in _nodes)
        {
            var inputs = node.Input.Select(i => i.Length == 0 ? "" : Name(i)).ToList();
            var attributes = node.Attribute.Select(Convert).ToList();
            // Dropout's optional mask output is never used downstream; only the first output is kept.
            names[node.Output[0]] = graph.AddNode(node.OpType, inputs, attributes, Sanitize(node.Output[0]));
        }

        return names[_output];
    }

    private Tensor Run(NodeProto node, Func<string, Tensor> value)
    {
        Tensor In(int i) => value(node.Input[i]);
        bool Has(int i) => node.Input.Count > i && node.Input[i].Length > 0;
        switch (node.OpType)
        {
            case "Conv":
                {
                    var pads = Ints(node, "pads", [0, 0, 0, 0]);
                    RequireSymmetric(node, pads);
                    return nn.functional.conv2d(In(0), In(1), Has(2) ? In(2) : null, Ints(node, "strides", [1, 1]), pads[..2], Ints(node, "dilations", [1, 1]), Int(node, "group", 1));
                }

            case "BatchNormalization":
                // ONNX's momentum weighs the running value, torch's the batch value.
                return nn.functional.batch_norm(In(0), In(3), In(4), In(1), In(2), training, 1 - Float(node, "momentum", 0.9f), Float(node, "epsilon", 1e-5f));
            case "Relu":
                return nn.functional.relu(In(0));
            case "LeakyRelu":
                return nn.functional.leaky_relu(In(0), Float(node, "alpha", 0.01f));
            case "Sigmoid":
                return In(0).sigmoid();
            case "Tanh":
                return In(0).tanh();
            case "Softmax":
                return nn.functional.softmax(In(0), Int(node, "axis", -1));
            case "MaxPool":
                {
                    var pads = Ints(node, "pads", [0, 0, 0, 0]);
                    RequireSymmetric(node, pads);
                    var kernel = Ints(node, "kernel_shape", []);
                    return nn.functional.max_pool2d(In(0), kernel, Ints(node, "strides", kernel), pads[..2], Ints(node, "dilations", [1, 1]), Int(node, "ceil_mode", 0) != 0);
                }

            case "AveragePool":
                {
                    var pads = Ints(node, "pads", [0, 0, 0, 0]);
                    RequireSymmetric(node, pads);
                    var kernel = Ints(node, "kernel_shape", []);
                    return nn.functional.avg_pool2d(In(0), kernel, Ints(node, "strides", kernel), pads[..2], Int(node, "ceil_mode", 0) != 0, Int(node, "count_include_pad", 0) != 0);
                }

            case "GlobalAveragePool":
                return In(0).mean(Enumerable.Range(2, (int)In(0).dim() - 2).Select(d => (long)d).ToArray(), keepdim: true);
            case "Flatten":
                {
                    var x = In(0);
                    long axis = Int(node, "axis", 1);
                    long outer = x.shape.Take((int)axis).Aggregate(1L, (a, b) => a * b);
                    return x.reshape(outer, -1);
                }

            case "Reshape":
                {
                    var x = In(0);
                    long[] shape = _constants.TryGetValue(node.Input[1], out var constant)
                        ? constant.Values
                        : throw new NotSupportedException($"The ONNX node '{node.Name}' (Reshape) takes its shape from a computed value; the importer needs a constant shape.");
                    return x.reshape(shape.Select((d, i) => d == 0 ? x.shape[i] : d).ToArray());
                }

            case "Gemm":
                {
                    var a = Int(node, "transA", 0) != 0 ? In(0).t() : In(0);
                    var b = Int(node, "transB", 0) != 0 ? In(1).t() : In(1);
                    var y = a.matmul(b) * Float(node, "alpha", 1f);
                    return Has(2) ? y + (In(2) * Float(node, "beta", 1f)) : y;
                }

            case "MatMul":
                return In(0).matmul(In(1));
            case "Add":
                return In(0) + In(1);
            case "Sub":
                return In(0) - In(1);
            case "Mul":
                return In(0) * In(1);
            case "Div":
                return In(0) / In(1);
            case "Concat":
                return cat(node.Input.Select(value).ToArray(), Int(node, "axis", 0));
            case "Identity":
            case "Dropout":
                return In(0).alias();
            default:
                throw new NotSupportedException($"The ONNX node '{node.Name}' uses operator '{node.OpType}', which the importer does not support.");
        }
    }

    private static void RequireSymmetric(NodeProto node, long[] pads)
    {
        if (pads.Length != 4 || pads[0] != pads[2] || pads[1] != pads[3])
        {
            throw new NotSupportedException($"The ONNX node '{node.Name}' ({node.OpType}) has asymmetric pads [{string.Join(", ", pads)}]; the importer supports symmetric padding only.");
        }

        if (node.Attribute.FirstOrDefault(a => a.Name == "auto_pad") is { } autoPad && autoPad.S.ToStringUtf8() is not ("NOTSET" or ""))
        {
            throw new NotSupportedException($"The ONNX node '{node.Name}' ({node.OpType}) uses auto_pad {autoPad.S.ToStringUtf8()}; the importer needs explicit pads.");
        }
    }

    private static long Int(NodeProto node, string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    private static float Float(NodeProto node, string name, float fallback) => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    private static long[] Ints(NodeProto node, string name, long[] fallback) => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : fallback;

    private static OnnxAttribute Convert(AttributeProto attribute) => attribute.Type switch
    {
        AttributeProto.Types.AttributeType.Int => OnnxAttribute.Int(attribute.Name, attribute.I),
        AttributeProto.Types.AttributeType.Ints => OnnxAttribute.Ints(attribute.Name, attribute.Ints),
        AttributeProto.Types.AttributeType.Float => OnnxAttribute.Float(attribute.Name, attribute.F),
        AttributeProto.Types.AttributeType.Floats => OnnxAttribute.Floats(attribute.Name, attribute.Floats),
        AttributeProto.Types.AttributeType.String => OnnxAttribute.String(attribute.Name, attribute.S.ToStringUtf8()),
        _ => throw new NotSupportedException($"ONNX attribute '{attribute.Name}' of type {attribute.Type} cannot be written back."),
    };

    private string UniqueModuleName(string onnxName)
    {
        string name = Sanitize(onnxName);
        string unique = name;
        for (int i = 1; _moduleNames.ContainsValue(unique); i++)
        {
            unique = string.Create(CultureInfo.InvariantCulture, $"{name}_{i}");
        }

        return unique;
    }

    /// <summary>Module member names cannot contain dots (they separate the path).</summary>
    internal static string Sanitize(string name) => new([.. name.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_')]);

    internal static float[] ReadFloat(TensorProto tensor) => tensor.RawData.Length > 0
        ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray()
        : [.. tensor.FloatData];

    private static long[] ReadInt64(TensorProto tensor) => tensor.RawData.Length > 0
        ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(tensor.RawData.Span).ToArray()
        : [.. tensor.Int64Data];

    /// <summary>The graph without the float initializers' values (their shapes stay): what a layer description stores.</summary>
    internal static GraphProto Structure(GraphProto graph)
    {
        var structure = graph.Clone();
        foreach (var initializer in structure.Initializer.Where(i => i.DataType == (int)TensorProto.Types.DataType.Float))
        {
            initializer.RawData = ByteString.Empty;
            initializer.FloatData.Clear();
        }

        return structure;
    }
}
