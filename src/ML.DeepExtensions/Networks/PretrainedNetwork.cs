using System.IO.Compression;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// A trainable TorchSharp network rebuilt from something this library saved: a model zip written by
/// <c>mlContext.Model.Save</c>, an ONNX file from <see cref="NeuralNetworkTransformer.SaveOnnx"/>, a
/// checkpoint, or a fitted transformer in memory. Its outputs equal the saved model's; train it
/// further, fine-tune it, or take its layers as a backbone.
/// </summary>
public sealed class PretrainedNetwork
{
    private PretrainedNetwork(NetworkDescription description, nn.Module<Tensor, Tensor> network, string source)
    {
        Description = description;
        Network = network;
        Source = source;
    }

    /// <summary>The network's description: input shape, layers, output width.</summary>
    public NetworkDescription Description { get; }

    /// <summary>The rebuilt network, on the CPU, in eval mode, with every parameter trainable.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>Where it came from, for messages.</summary>
    public string Source { get; }

    /// <summary>Rebuilds the network inside a model zip saved with <c>mlContext.Model.Save</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a model zip, or holds no network trained by this library.</exception>
    public static PretrainedNetwork FromModelFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The model file '{path}' does not exist.", path);
        }

        string source = $"the model file '{path}'";
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries.Where(e => e.Name == SavedModelOnnx.OnnxEntryName))
            {
                if (TryRebuild(SavedModelOnnx.ReadLengthPrefixed(entry, entry.FullName), source) is { } network)
                {
                    return network;
                }
            }
        }
        catch (InvalidDataException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{path}' is not an ML.NET model zip: {e.Message}", e);
        }

        throw new InvalidDataException(
            $"{char.ToUpperInvariant(source[0])}{source[1..]} holds no network trained by ML.DeepExtensions (no ONNX graph with a network description).");
    }

    /// <summary>Rebuilds the network from an ONNX model this library exported.</summary>
    public static PretrainedNetwork FromOnnxModel(byte[] onnxModel, string source = "the ONNX model")
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        return TryRebuild(onnxModel, source)
            ?? throw new InvalidDataException($"{source} was not exported by ML.DeepExtensions: it has no network description.");
    }

    /// <summary>A trainable copy of a fitted model's network (the model itself is not changed).</summary>
    public static PretrainedNetwork FromTransformer(NeuralNetworkTransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.Network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
        return Rebuild(model.Description, state, "the fitted model");
    }

    /// <summary>Rebuilds a module of a checkpoint written by a trainer of this library (module <c>model</c> by default).</summary>
    public static PretrainedNetwork FromCheckpoint(string path, string module = "model")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var contents = CheckpointFile.Read(path);
        string json = contents.Metadata.Networks.GetValueOrDefault(module)
            ?? throw new InvalidDataException($"The checkpoint '{path}' holds no network description for module '{module}' (it has: {string.Join(", ", contents.Metadata.Networks.Keys)}).");
        var state = contents.Modules.GetValueOrDefault(module)
            ?? throw new InvalidDataException($"The checkpoint '{path}' has no module '{module}'.");
        contents.Modules.Remove(module);
        return Rebuild(NetworkDescription.FromJson(json, $"the checkpoint '{path}'"), state, $"the checkpoint '{path}'");
    }

    private static PretrainedNetwork? TryRebuild(byte[] onnxModel, string source) =>
        NetworkStateInGraph.Read(onnxModel, source) is { } saved ? Rebuild(saved.Description, saved.State, source) : null;

    private static PretrainedNetwork Rebuild(NetworkDescription description, Dictionary<string, Tensor> state, string source)
    {
        try
        {
            var network = description.Build();
            CheckpointFile.LoadModelState(network, state, source);
            network.eval();
            return new PretrainedNetwork(description, network, source);
        }
        finally
        {
            foreach (var tensor in state.Values)
            {
                tensor.Dispose();
            }
        }
    }
}
