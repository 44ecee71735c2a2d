using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Onnx.Proto;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// What an exported graph carries so that the trainable network can be rebuilt from it: the
/// <see cref="NetworkDescription"/> as JSON (metadata <c>ml_deepextensions.network</c>) and a map from
/// every state-dict entry to the initializer that holds the same values under the same name
/// (metadata <c>ml_deepextensions.state</c>). Entries no initializer holds verbatim (a normalisation
/// folded into other constants, BatchNorm's step counter) are stored in that metadata entry itself.
/// </summary>
internal static class NetworkStateInGraph
{
    public const string DescriptionKey = "ml_deepextensions.network";
    public const string StateKey = "ml_deepextensions.state";

    public static void Attach(OnnxGraphBuilder graph, nn.Module network, NetworkDescription description)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var extra = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, value) in network.state_dict())
        {
            if (graph.FindInitializer(name) is { } initializer && SameValues(initializer, value))
            {
                map[name] = name;
            }
            else
            {
                extra[name] = value;
            }
        }

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            TensorDictionaryFormat.Write(writer, extra);
        }

        graph.AddMetadata(DescriptionKey, description.ToJson());
        graph.AddMetadata(StateKey, JsonSerializer.Serialize(new SavedState(map, Convert.ToBase64String(stream.ToArray()))));
    }

    /// <summary>The description and the trained state of a graph exported with <see cref="Attach"/>, or null when it has none.</summary>
    public static (NetworkDescription Description, Dictionary<string, Tensor> State)? Read(byte[] onnxModel, string source)
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

        string? descriptionJson = model.MetadataProps.FirstOrDefault(p => p.Key == DescriptionKey)?.Value;
        string? stateJson = model.MetadataProps.FirstOrDefault(p => p.Key == StateKey)?.Value;
        if (descriptionJson is null || stateJson is null)
        {
            return null;
        }

        var description = NetworkDescription.FromJson(descriptionJson, source);
        try
        {
            var saved = JsonSerializer.Deserialize<SavedState>(stateJson) ?? throw new InvalidDataException("empty state map");
            using var reader = new BinaryReader(new MemoryStream(Convert.FromBase64String(saved.Extra)));
            var state = TensorDictionaryFormat.Read(reader);
            var initializers = model.Graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
            foreach (var (name, initializer) in saved.Initializers)
            {
                state[name] = ToTensor(initializers.GetValueOrDefault(initializer)
                    ?? throw new InvalidDataException($"the initializer '{initializer}' of state entry '{name}' is missing"));
            }

            return (description, state);
        }
        catch (Exception e) when (e is JsonException or FormatException or EndOfStreamException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"The network state in {source} cannot be read: {e.Message}", e);
        }
    }

    private static bool SameValues(TensorProto initializer, Tensor value)
    {
        if (value.dtype != ScalarType.Float32 || initializer.DataType != (int)OnnxElementType.Float
            || !initializer.Dims.SequenceEqual(value.shape) || initializer.RawData.IsEmpty)
        {
            return false;
        }

        using var cpu = value.detach().cpu().contiguous();
        return MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).SequenceEqual(initializer.RawData.Span);
    }

    private static Tensor ToTensor(TensorProto initializer) => initializer.DataType == (int)OnnxElementType.Float
        ? tensor(OnnxGraphModule.ReadFloat(initializer), [.. initializer.Dims]).DetachFromDisposeScope()
        : throw new NotSupportedException($"initializer '{initializer.Name}' is not a float tensor");

    private sealed record SavedState(Dictionary<string, string> Initializers, string Extra);
}
