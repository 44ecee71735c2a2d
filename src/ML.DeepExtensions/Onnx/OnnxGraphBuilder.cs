using System.Text;
using Google.Protobuf;
using ML.DeepExtensions.Onnx.Proto;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// Builds one ONNX graph (IR version 8, default-domain opset 17): inputs, initializers, nodes and
/// outputs, then writes it as a model that ONNX Runtime and ML.NET's <c>ApplyOnnxModel</c> can load.
/// </summary>
/// <remarks>
/// <para>
/// Value names are unique in the graph. Inputs and outputs keep the exact names given (they are the
/// model's contract, for example ML.NET column names); initializers and node outputs get a unique
/// name derived from a hint, so converters never need to coordinate names.
/// </para>
/// <para>
/// The builder also remembers what it knows about each value's type and shape (see
/// <see cref="TryGetType"/>). Inputs and initializers are typed automatically; node outputs are
/// typed when a converter records it with <see cref="SetType"/>.
/// </para>
/// <example>
/// <code>
/// var graph = new OnnxGraphBuilder();
/// var x = graph.AddInput("features", OnnxElementType.Float, "N", 4);
/// var y = new OnnxModuleExporter().Export(graph, network, x);
/// graph.AddOutput(y, "Score", OnnxElementType.Float, "N", 3);
/// byte[] model = graph.ToBytes();
/// </code>
/// </example>
/// </remarks>
public sealed class OnnxGraphBuilder
{
    /// <summary>The ONNX IR version written to the model.</summary>
    public const long IrVersion = 8;

    /// <summary>The version of the default ONNX operator set (domain <c>""</c>) the graph uses.</summary>
    public const long OpsetVersion = 17;

    /// <summary>The producer name written to the model.</summary>
    public const string ProducerName = "ML.DeepExtensions";

    private readonly GraphProto _graph;
    private readonly HashSet<string> _valueNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _definedValues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nextSuffix = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OnnxTensorType> _types = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, string>> _metadata = [];

    /// <summary>Creates an empty graph.</summary>
    /// <param name="graphName">The graph's name, stored in the model.</param>
    public OnnxGraphBuilder(string graphName = "ML.DeepExtensions")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>The graph's name.</summary>
    public string GraphName => _graph.Name;

    /// <summary>The model's metadata (ONNX <c>metadata_props</c>), in the order added.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata => _metadata;

    /// <summary>Declares a graph input.</summary>
    /// <param name="name">The exact input name; it must not be in use.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="dims">The shape, each dimension fixed (<see cref="long"/>) or symbolic (<see cref="string"/>); none for a scalar.</param>
    /// <returns><paramref name="name"/>.</returns>
    /// <exception cref="ArgumentException">The name is already used in the graph.</exception>
    public string AddInput(string name, OnnxElementType elementType, params OnnxDim[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        ReserveExactName(name);
        _graph.Input.Add(CreateValueInfo(name, elementType, dims));
        _types[name] = new OnnxTensorType(elementType, dims);
        return name;
    }

    /// <summary>Declares an existing value as a graph output under its own name.</summary>
    /// <param name="value">A value defined in the graph (input, initializer or node output).</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="dims">The shape; none for a scalar.</param>
    /// <returns><paramref name="value"/>.</returns>
    public string AddOutput(string value, OnnxElementType elementType, params OnnxDim[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        RequireDefined(value, nameof(value));
        if (_graph.Output.Any(output => output.Name == value))
        {
            throw new ArgumentException($"'{value}' is already a graph output.", nameof(value));
        }

        _graph.Output.Add(CreateValueInfo(value, elementType, dims));
        return value;
    }

    /// <summary>
    /// Declares a graph output with an exact name (for example an ML.NET column name such as
    /// <c>Score</c>), fed by an existing value through an <c>Identity</c> node when the names differ.
    /// </summary>
    /// <param name="value">A value defined in the graph.</param>
    /// <param name="outputName">The exact output name; it must not be in use unless it equals <paramref name="value"/>.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="dims">The shape; none for a scalar.</param>
    /// <returns><paramref name="outputName"/>.</returns>
    public string AddOutput(string value, string outputName, OnnxElementType elementType, params OnnxDim[] dims)
    {
        RequireDefined(value, nameof(value));
        if (value != outputName)
        {
            ReserveExactName(outputName);
            _graph.Node.Add(CreateNode("Identity", [value], [outputName], [], UniqueNodeName(outputName)));
        }

        return AddOutput(outputName, elementType, dims);
    }

    /// <summary>
    /// Adds a constant tensor copied from a TorchSharp tensor (float32, float64, int64, int32 or bool;
    /// any device; gradient tracking is ignored). Data is stored little-endian in <c>raw_data</c>.
    /// </summary>
    /// <param name="nameHint">The preferred name; a suffix is added if it is taken.</param>
    /// <param name="tensor">The tensor to copy; it is not modified or disposed.</param>
    /// <returns>The initializer's unique name.</returns>
    /// <exception cref="NotSupportedException">The tensor's element type cannot be written.</exception>
    public string AddInitializer(string nameHint, Tensor tensor) =>
        AddInitializer(nameHint, OnnxTensorData.FromTensor(tensor));

    /// <summary>Adds a constant float tensor.</summary>
    /// <param name="nameHint">The preferred name; a suffix is added if it is taken.</param>
    /// <param name="values">The values in row-major order.</param>
    /// <param name="dims">The shape; empty for a scalar. Its element count must equal the number of values.</param>
    /// <returns>The initializer's unique name.</returns>
    public string AddInitializer(string nameHint, float[] values, long[] dims) =>
        AddInitializer(nameHint, OnnxTensorData.FromValues(values, dims));

    /// <summary>Adds a constant double tensor.</summary>
    /// <inheritdoc cref="AddInitializer(string, float[], long[])" />
    public string AddInitializer(string nameHint, double[] values, long[] dims) =>
        AddInitializer(nameHint, OnnxTensorData.FromValues(values, dims));

    /// <summary>Adds a constant 64-bit integer tensor (for example the shape input of <c>Reshape</c>).</summary>
    /// <inheritdoc cref="AddInitializer(string, float[], long[])" />
    public string AddInitializer(string nameHint, long[] values, long[] dims) =>
        AddInitializer(nameHint, OnnxTensorData.FromValues(values, dims));

    /// <summary>Adds a constant string tensor (stored as UTF-8 in <c>string_data</c>), for example class names to <c>Gather</c> from.</summary>
    /// <inheritdoc cref="AddInitializer(string, float[], long[])" />
    public string AddInitializer(string nameHint, string[] values, long[] dims) =>
        AddInitializer(nameHint, OnnxTensorData.FromStrings(values, dims));

    /// <summary>Adds a node with one output.</summary>
    /// <param name="opType">The operator, for example <c>"Gemm"</c> (default ONNX domain, opset 17).</param>
    /// <param name="inputs">The input values in operator order; an empty string skips an optional input.</param>
    /// <param name="attributes">The node's attributes, if any.</param>
    /// <param name="nameHint">The preferred output name; defaults to the operator name. The node gets a name derived from it.</param>
    /// <returns>The unique name of the node's output.</returns>
    /// <exception cref="ArgumentException">An input is not defined in the graph.</exception>
    public string AddNode(string opType, IReadOnlyList<string> inputs, IEnumerable<OnnxAttribute>? attributes = null, string? nameHint = null) =>
        AddNodeWithOutputs(opType, inputs, 1, attributes, nameHint)[0];

    /// <summary>Adds a node with several outputs (for example <c>Split</c> or <c>LSTM</c>).</summary>
    /// <param name="opType">The operator name.</param>
    /// <param name="inputs">The input values in operator order; an empty string skips an optional input.</param>
    /// <param name="outputCount">How many outputs the node has.</param>
    /// <param name="attributes">The node's attributes, if any.</param>
    /// <param name="nameHint">The preferred output name; outputs after the first get an index suffix.</param>
    /// <returns>The unique names of the node's outputs, in order.</returns>
    public IReadOnlyList<string> AddNodeWithOutputs(
        string opType, IReadOnlyList<string> inputs, int outputCount, IEnumerable<OnnxAttribute>? attributes = null, string? nameHint = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        foreach (var input in inputs)
        {
            if (input.Length > 0)
            {
                RequireDefined(input, nameof(inputs));
            }
        }

        var attributeList = attributes?.ToList() ?? [];
        var duplicate = attributeList.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Attribute '{duplicate.Key}' is given more than once for {opType}.", nameof(attributes));
        }

        var hint = string.IsNullOrWhiteSpace(nameHint) ? opType : nameHint;
        var outputs = new string[outputCount];
        for (var i = 0; i < outputCount; i++)
        {
            outputs[i] = UniqueName(i == 0 ? hint : $"{hint}_{i}");
        }

        _definedValues.UnionWith(outputs);
        _graph.Node.Add(CreateNode(opType, inputs, outputs, attributeList, UniqueNodeName($"{hint}/{opType}")));
        return outputs;
    }

    /// <summary>Whether a value (input, initializer or node output) with this name exists in the graph.</summary>
    public bool IsDefined(string value) => _definedValues.Contains(value);

    /// <summary>What is known about a value's element type and shape, or <see langword="null"/> if nothing is.</summary>
    public OnnxTensorType? TryGetType(string value) => _types.GetValueOrDefault(value);

    /// <summary>Records a value's element type and shape, for later converters that depend on it.</summary>
    /// <exception cref="ArgumentException">The value is not defined in the graph.</exception>
    public void SetType(string value, OnnxTensorType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        RequireDefined(value, nameof(value));
        _types[value] = type;
    }

    /// <summary>Adds a key/value pair to the model's metadata (ONNX <c>metadata_props</c>); a key can be set once.</summary>
    public void AddMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (_metadata.Any(entry => entry.Key == key))
        {
            throw new ArgumentException($"Metadata key '{key}' is already set.", nameof(key));
        }

        _metadata.Add(new(key, value));
    }

    /// <summary>Serializes the model (protobuf binary, the <c>.onnx</c> file format).</summary>
    /// <exception cref="InvalidOperationException">The graph has no input or no output.</exception>
    public byte[] ToBytes() => Build().ToByteArray();

    /// <summary>Writes the model (protobuf binary) to a stream.</summary>
    /// <exception cref="InvalidOperationException">The graph has no input or no output.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Build().WriteTo(stream);
    }

    /// <summary>The initializer with exactly this name, or null.</summary>
    internal TensorProto? FindInitializer(string name) => _graph.Initializer.FirstOrDefault(i => i.Name == name);

    /// <summary>Creates the model message: a copy of the graph so far, with version, opset, producer and metadata.</summary>
    /// <param name="requireInputsAndOutputs">False to inspect a graph under construction.</param>
    internal ModelProto Build(bool requireInputsAndOutputs = true)
    {
        if (requireInputsAndOutputs && _graph.Input.Count == 0)
        {
            throw new InvalidOperationException("The graph has no input; call AddInput first.");
        }

        if (requireInputsAndOutputs && _graph.Output.Count == 0)
        {
            throw new InvalidOperationException("The graph has no output; call AddOutput first.");
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? string.Empty,
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = OpsetVersion });
        model.MetadataProps.AddRange(_metadata.Select(entry => new StringStringEntryProto { Key = entry.Key, Value = entry.Value }));
        return model;
    }

    private string AddInitializer(string nameHint, TensorProto tensor)
    {
        tensor.Name = UniqueName(nameHint);
        _definedValues.Add(tensor.Name);
        _graph.Initializer.Add(tensor);
        _types[tensor.Name] = OnnxTensorData.TypeOf(tensor);
        return tensor.Name;
    }

    /// <summary>
    /// Reserves a value name not yet used in the graph: <paramref name="hint"/> itself if free,
    /// otherwise <c>hint_1</c>, <c>hint_2</c>, ... Characters other than ASCII letters, digits and
    /// <c>_ . / : -</c> become <c>_</c>.
    /// </summary>
    private string UniqueName(string hint) => Reserve(_valueNames, hint);

    private void RequireDefined(string value, string paramName)
    {
        ArgumentNullException.ThrowIfNull(value, paramName);
        if (!_definedValues.Contains(value))
        {
            throw new ArgumentException($"'{value}' is not a value of graph '{GraphName}'.", paramName);
        }
    }

    private void ReserveExactName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_valueNames.Add(name))
        {
            throw new ArgumentException($"The name '{name}' is already used in graph '{GraphName}'.", nameof(name));
        }

        _definedValues.Add(name);
    }

    private string UniqueNodeName(string hint) => Reserve(_nodeNames, hint);

    private string Reserve(HashSet<string> names, string hint)
    {
        ArgumentNullException.ThrowIfNull(hint);
        var stem = Sanitize(hint);
        if (names.Add(stem))
        {
            return stem;
        }

        var key = $"{(ReferenceEquals(names, _nodeNames) ? "node" : "value")}:{stem}";
        var suffix = _nextSuffix.GetValueOrDefault(key, 1);
        string candidate;
        do
        {
            candidate = $"{stem}_{suffix++}";
        }
        while (!names.Add(candidate));

        _nextSuffix[key] = suffix;
        return candidate;
    }

    private static string Sanitize(string hint)
    {
        var builder = new StringBuilder(hint.Length);
        foreach (var c in hint)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '/' or ':' or '-' ? c : '_');
        }

        return builder.Length == 0 ? "value" : builder.ToString();
    }

    private static ValueInfoProto CreateValueInfo(string name, OnnxElementType elementType, IReadOnlyList<OnnxDim> dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            var dimension = new TensorShapeProto.Types.Dimension();
            if (dim.Size is { } size)
            {
                dimension.DimValue = size;
            }
            else if (dim.Symbol is { } symbol)
            {
                dimension.DimParam = symbol;
            }

            shape.Dim.Add(dimension);
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }

    private static NodeProto CreateNode(
        string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, IEnumerable<OnnxAttribute> attributes, string nodeName)
    {
        var node = new NodeProto { OpType = opType, Name = nodeName };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes.Select(attribute => attribute.Proto.Clone()));
        return node;
    }
}
