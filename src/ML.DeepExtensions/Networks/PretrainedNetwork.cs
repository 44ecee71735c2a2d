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

    /// <summary>
    /// Rebuilds the network from an ONNX model: one this library exported, or any other (for example from
    /// <c>torch.onnx.export</c>) that uses the operators of the importer and ends with a fully connected layer,
    /// which becomes the <c>output</c> layer while the rest of the graph becomes <c>layer0</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model, or its input has unknown sizes.</exception>
    /// <exception cref="NotSupportedException">The graph uses an operator the importer does not support; the message names the operator and the node.</exception>
    public static PretrainedNetwork FromOnnxModel(byte[] onnxModel, string source = "the ONNX model")
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        if (TryRebuild(onnxModel, source) is { } rebuilt)
        {
            return rebuilt;
        }

        var (description, network) = OnnxGraphImport.Import(onnxModel, source);
        return new PretrainedNetwork(description, network, source);
    }

    /// <summary>Reads an ONNX file and rebuilds it with <see cref="FromOnnxModel"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static PretrainedNetwork FromOnnxFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The ONNX file '{path}' does not exist.", path);
        }

        return FromOnnxModel(File.ReadAllBytes(path), $"the ONNX file '{path}'");
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

    /// <summary>
    /// Loads a PyTorch <c>state_dict</c> (the file <c>torch.save(model.state_dict(), path)</c> writes, or a
    /// <c>.safetensors</c> file) into the network <paramref name="description"/> describes, for example
    /// <see cref="ML.DeepExtensions.Vision.TorchvisionResNet.ResNet18"/> with <see cref="ML.DeepExtensions.Vision.TorchvisionResNet.ParameterName"/> as the name mapping.
    /// Every entry must match by name and shape; the <c>normalize</c> layer, which PyTorch models do not have,
    /// takes its values from <paramref name="options"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a state_dict, or does not match the network: the message lists every missing,
    /// unexpected and mis-shaped entry.
    /// </exception>
    public static PretrainedNetwork FromPyTorchStateDict(string path, NetworkDescription description, PyTorchStateDictOptions? options = null) =>
        PyTorchStateDict.Load(path, description, options ?? new PyTorchStateDictOptions(), (d, n, s) => new PretrainedNetwork(d, n, s));

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
