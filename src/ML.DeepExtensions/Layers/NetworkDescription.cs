using System.Text.Json;
using System.Text.Json.Nodes;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Networks.Vision;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Layers;

/// <summary>Which input normalisation a described network starts with (its values travel with the weights).</summary>
public enum InputNormalization
{
    /// <summary>None: the network starts with <c>layer0</c>.</summary>
    None,

    /// <summary>Per-feature standardisation (<see cref="Standardization"/>), as the MLP uses.</summary>
    Standardization,

    /// <summary>Pixel scaling and per-channel normalisation (<see cref="ImageNormalization"/>), as the image classifier uses.</summary>
    Image,
}

/// <summary>
/// Everything needed to rebuild a network of this library as a trainable TorchSharp module: the
/// per-row input shape, the layers, the output width and the fixed layers around them. Saved models
/// carry it in their ONNX metadata, checkpoints beside each module's state (docs/architecture.md).
/// </summary>
public sealed record NetworkDescription
{
    /// <summary>The per-row input shape ([F] or [C, H, W]).</summary>
    public required IReadOnlyList<long> InputShape { get; init; }

    /// <summary>The described layers, <c>layer0</c> onwards.</summary>
    public required IReadOnlyList<NetworkLayer> Layers { get; init; }

    /// <summary>Units of the <c>output</c> layer.</summary>
    public required int Outputs { get; init; }

    /// <summary>The <c>normalize</c> layer's kind.</summary>
    public InputNormalization Normalization { get; init; }

    /// <summary>Whether a fixed <c>label_scale</c> layer follows the output (regression in label units).</summary>
    public bool LabelScale { get; init; }

    /// <summary>
    /// Builds the network with freshly initialised layers and neutral normalisation; copy a saved state
    /// into it (as <see cref="PretrainedNetwork"/> does) to get the trained network back.
    /// </summary>
    public nn.Module<Tensor, Tensor> Build()
    {
        long[] input = [.. InputShape];
        nn.Module<Tensor, Tensor>? normalization = Normalization switch
        {
            // Per feature of the last dimension: [F] for an MLP, each step's F values for a sequence [T, F].
            InputNormalization.Standardization => new Standardization(new float[input[^1]], Enumerable.Repeat(1f, (int)input[^1]).ToArray()),
            InputNormalization.Image => new ImageNormalization(1f, new float[input[0]], Enumerable.Repeat(1f, (int)input[0]).ToArray()),
            _ => null,
        };
        var scale = LabelScale ? new Standardization([0f], [1f], LayerNames.LabelScale) : null;
        return NetworkBuilder.Build(Layers, input, Outputs, normalization, scale);
    }

    /// <summary>One line per layer with its output shape, for inspection tools and messages.</summary>
    public string Summary()
    {
        var shapes = NetworkBuilder.InferShapes(Layers, [.. InputShape]);
        var lines = new List<string> { $"input [{NetworkLayer.Format([.. InputShape])}]" };
        if (Normalization != InputNormalization.None)
        {
            lines.Add($"{LayerNames.Normalize}: {Normalization}");
        }

        for (int i = 0; i < Layers.Count; i++)
        {
            lines.Add($"{LayerNames.Layer(i)}: {Layers[i].Describe()} -> [{NetworkLayer.Format(shapes[i])}]");
        }

        lines.Add($"{LayerNames.Output}: Dense({Outputs}) -> [{Outputs}]");
        if (LabelScale)
        {
            lines.Add($"{LayerNames.LabelScale}: fixed rescaling to label units");
        }

        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>The description as JSON; each layer is stored with its type name and its record properties.</summary>
    internal string ToJson()
    {
        var layers = new JsonArray();
        foreach (var layer in Layers)
        {
            var type = layer.GetType();
            layers.Add(new JsonObject
            {
                ["type"] = $"{type.FullName}, {type.Assembly.GetName().Name}",
                ["value"] = JsonSerializer.SerializeToNode(layer, type),
            });
        }

        var root = new JsonObject
        {
            ["format"] = 1,
            ["inputShape"] = new JsonArray([.. InputShape.Select(d => (JsonNode)d)]),
            ["layers"] = layers,
            ["outputs"] = Outputs,
            ["normalization"] = Normalization.ToString(),
            ["labelScale"] = LabelScale,
        };
        return root.ToJsonString();
    }

    /// <summary>Reads <see cref="ToJson"/>'s output; a layer type must derive from <see cref="NetworkLayer"/> and be loaded.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a description, or names a layer type that cannot be found.</exception>
    internal static NetworkDescription FromJson(string json, string source)
    {
        try
        {
            var root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("empty description");
            var layers = new List<NetworkLayer>();
            foreach (var entry in root["layers"]!.AsArray())
            {
                string typeName = entry!["type"]!.GetValue<string>();
                var type = Type.GetType(typeName, throwOnError: false);
                if (type is null || !type.IsSubclassOf(typeof(NetworkLayer)))
                {
                    throw new InvalidDataException(
                        $"its layer type '{typeName}' is not a NetworkLayer of a loaded assembly; load the assembly that defines the layer before rebuilding");
                }

                layers.Add((NetworkLayer)(entry["value"].Deserialize(type) ?? throw new InvalidDataException($"layer '{typeName}' has no value")));
            }

            return new NetworkDescription
            {
                InputShape = root["inputShape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray(),
                Layers = layers,
                Outputs = root["outputs"]!.GetValue<int>(),
                Normalization = Enum.Parse<InputNormalization>(root["normalization"]!.GetValue<string>()),
                LabelScale = root["labelScale"]!.GetValue<bool>(),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"The network description in {source} cannot be read: {e.Message}", e);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("The network description", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"The network description in {source} cannot be read: {e.Message}", e);
        }
    }
}
