using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Onnx.Proto;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// Builds the deployable form of a model's network: the batched graph, ML.NET-style outputs
/// computed inside the graph, and a description of its contract in <c>metadata_props</c>.
/// </summary>
internal static class DeployableOnnx
{
    public const string TaskKey = "ml_deepextensions.task";
    public const string InputsKey = "ml_deepextensions.inputs";
    public const string OutputsKey = "ml_deepextensions.outputs";
    public const string ClassNamesKey = "ml_deepextensions.class_names";
    public const string PreprocessingKey = "ml_deepextensions.preprocessing";
    public const string BatchDimensionKey = "ml_deepextensions.batch_dimension";

    /// <summary>The task a network's chain scores for, read from the columns of the scorer that follows it.</summary>
    internal enum Task
    {
        Multiclass,
        Binary,
        Regression,
    }

    public static ModelProto Build(ModelNetworks networks, DataViewSchema inputSchema)
    {
        if (networks.Steps.Count != 1)
        {
            throw new NotSupportedException($"The model contains {networks.Steps.Count} networks; a deployable export needs exactly one.");
        }

        var network = networks.Steps[0];
        var schemas = Schemas(networks, inputSchema);
        var (task, classNames) = DetectTask(schemas.Skip(network.Index + 2).ToList());
        var graph = network.RequireBatched();
        var model = graph.Model.Clone();
        var onnx = model.Graph;
        string raw = graph.OutputName;
        onnx.Output.Clear();
        var outputs = new List<object>();
        switch (task)
        {
            case Task.Multiclass:
                Add(onnx, "Softmax", [raw], ColumnNames.Score, Int("axis", 1));
                Output(onnx, ColumnNames.Score, TensorProto.Types.DataType.Float, graph.OutputWidth);
                outputs.Add(Describe(ColumnNames.Score, "float32", graph.OutputWidth, "class probabilities (softmax of the network's logits), in class_names order"));
                Add(onnx, "ArgMax", [raw], "PredictedLabelIndex", Int("axis", 1), Int("keepdims", 0));
                Output(onnx, "PredictedLabelIndex", TensorProto.Types.DataType.Int64, null);
                outputs.Add(Describe("PredictedLabelIndex", "int64", null, "index of the most probable class in class_names"));
                onnx.Initializer.Add(Strings("class_names", classNames!));
                Add(onnx, "Gather", ["class_names", "PredictedLabelIndex"], ColumnNames.PredictedLabel, Int("axis", 0));
                Output(onnx, ColumnNames.PredictedLabel, TensorProto.Types.DataType.String, null);
                outputs.Add(Describe(ColumnNames.PredictedLabel, "string", null, "name of the most probable class"));
                break;
            case Task.Binary:
                onnx.Initializer.Add(Int64s("flat_shape", [-1]));
                Add(onnx, "Reshape", [raw, "flat_shape"], ColumnNames.Score);
                Output(onnx, ColumnNames.Score, TensorProto.Types.DataType.Float, null);
                outputs.Add(Describe(ColumnNames.Score, "float32", null, "the logit; positive means the positive class"));
                Add(onnx, "Sigmoid", [ColumnNames.Score], ColumnNames.Probability);
                Output(onnx, ColumnNames.Probability, TensorProto.Types.DataType.Float, null);
                outputs.Add(Describe(ColumnNames.Probability, "float32", null, "probability of the positive class (sigmoid of Score)"));
                onnx.Initializer.Add(new TensorProto { Name = "zero", DataType = (int)TensorProto.Types.DataType.Float, FloatData = { 0f } });
                Add(onnx, "Greater", [ColumnNames.Score, "zero"], ColumnNames.PredictedLabel);
                Output(onnx, ColumnNames.PredictedLabel, TensorProto.Types.DataType.Bool, null);
                outputs.Add(Describe(ColumnNames.PredictedLabel, "bool", null, "Score > 0"));
                break;
            default:
                onnx.Initializer.Add(Int64s("flat_shape", [-1]));
                Add(onnx, "Reshape", [raw, "flat_shape"], ColumnNames.Score);
                Output(onnx, ColumnNames.Score, TensorProto.Types.DataType.Float, null);
                outputs.Add(Describe(ColumnNames.Score, "float32", null, "the predicted value, in label units"));
                break;
        }

        var input = new Dictionary<string, object>
        {
            ["name"] = graph.InputName,
            ["type"] = "float32",
            ["shape"] = new object[] { BatchedOnnxGraph.BatchDimension, graph.InputWidth },
            ["row_layout"] = graph.RowShape,
            ["description"] = graph.RowShape.Length == 3
                ? $"each row is an image flattened in channel, row, column order ({string.Join("x", graph.RowShape)}), pixel values as the model's ML.NET pipeline produced them"
                : "each row is the feature vector as the model's ML.NET pipeline produced it; standardisation is part of the graph",
        };
        var metadata = new Dictionary<string, string>
        {
            [TaskKey] = task.ToString().ToLowerInvariant(),
            [BatchDimensionKey] = BatchedOnnxGraph.BatchDimension,
            [InputsKey] = JsonSerializer.Serialize(new[] { input }),
            [OutputsKey] = JsonSerializer.Serialize(outputs),
            [PreprocessingKey] = JsonSerializer.Serialize(Preprocessing(networks, schemas, network.Index)),
        };
        if (classNames is not null)
        {
            metadata[ClassNamesKey] = JsonSerializer.Serialize(classNames);
        }

        foreach (var (key, value) in metadata)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        model.DocString = $"{task} network exported by ML.DeepExtensions for deployment: input '{graph.InputName}' [N, {graph.InputWidth}] float32; "
            + $"outputs {string.Join(", ", model.Graph.Output.Select(o => o.Name))}. The metadata_props '{InputsKey}', '{OutputsKey}', '{ClassNamesKey}' and '{PreprocessingKey}' describe the contract.";
        return model;
    }

    /// <summary>Schema before each transformer of the chain, and after the last.</summary>
    private static List<DataViewSchema> Schemas(ModelNetworks networks, DataViewSchema inputSchema)
    {
        var schemas = new List<DataViewSchema> { inputSchema };
        foreach (var (transformer, _) in networks.Leaves)
        {
            schemas.Add(transformer.GetOutputSchema(schemas[^1]));
        }

        return schemas;
    }

    /// <summary>The task, from the columns that ML.NET's scorer (and, for binary, its calibrator) add after the network.</summary>
    /// <param name="afterNetwork">The schemas after each transformer that follows the network.</param>
    internal static (Task Task, string[]? ClassNames) DetectTask(IReadOnlyList<DataViewSchema> afterNetwork)
    {
        foreach (var scored in afterNetwork)
        {
            var predicted = scored.GetColumnOrNull(ColumnNames.PredictedLabel);
            if (predicted?.Type is KeyDataViewType)
            {
                var names = KeyValueNames.Read(predicted.Value)
                    ?? throw new NotSupportedException($"The multiclass model's '{ColumnNames.PredictedLabel}' column has no class names.");
                return (Task.Multiclass, names);
            }

            if (scored.GetColumnOrNull(ColumnNames.Probability) is not null)
            {
                return (Task.Binary, null);
            }
        }

        return (Task.Regression, null);
    }

    private static List<object> Preprocessing(ModelNetworks networks, List<DataViewSchema> schemas, int networkIndex)
    {
        var steps = new List<object>();
        for (int i = 0; i < networkIndex; i++)
        {
            var before = schemas[i];
            var after = schemas[i + 1];
            var added = after.Where(c => !c.IsHidden && !Equals(before.GetColumnOrNull(c.Name)?.Type, c.Type))
                .Select(c => $"{c.Name}: {c.Type}")
                .ToArray();
            steps.Add(new Dictionary<string, object> { ["transform"] = TypeName(networks.Leaves[i].Transformer.GetType()), ["produces"] = added });
        }

        return steps;
    }

    private static string TypeName(Type type) => type.IsGenericType ? type.Name[..type.Name.IndexOf('`')] : type.Name;

    private static Dictionary<string, object> Describe(string name, string type, long? width, string meaning) => new()
    {
        ["name"] = name,
        ["type"] = type,
        ["shape"] = width is { } w ? new object[] { BatchedOnnxGraph.BatchDimension, w } : new object[] { BatchedOnnxGraph.BatchDimension },
        ["meaning"] = meaning,
    };

    private static void Add(GraphProto graph, string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        if (graph.Node.Any(n => n.Output.Contains(output)) || graph.Input.Any(i => i.Name == output) || graph.Initializer.Any(t => t.Name == output))
        {
            throw new NotSupportedException($"The network already has a value named '{output}'; it cannot be exported with ML.NET-style output names.");
        }

        var node = new NodeProto { OpType = op, Name = $"deploy_{output}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
    }

    private static void Output(GraphProto graph, string name, TensorProto.Types.DataType type, long? width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchedOnnxGraph.BatchDimension });
        if (width is { } w)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = w });
        }

        graph.Output.Add(new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        });
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, I = value, Type = AttributeProto.Types.AttributeType.Int };

    private static TensorProto Int64s(string name, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    private static TensorProto Strings(string name, string[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.String };
        tensor.Dims.Add(values.Length);
        tensor.StringData.AddRange(values.Select(ByteString.CopyFromUtf8));
        return tensor;
    }
}
