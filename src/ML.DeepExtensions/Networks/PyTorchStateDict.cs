using System.Collections;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Vision;
using ML.DeepExtensions.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Reads a PyTorch state_dict (torch.save's zip format, or safetensors) with TorchSharp.PyBridge's
/// readers and copies it into a network built from a description, matching every entry by name and shape.
/// </summary>
internal static class PyTorchStateDict
{
    public static PretrainedNetwork Load(string path, NetworkDescription description, PyTorchStateDictOptions options, Func<NetworkDescription, nn.Module<Tensor, Tensor>, string, PretrainedNetwork> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(description);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The PyTorch state_dict file '{path}' does not exist.", path);
        }

        string source = $"the PyTorch state_dict '{path}'";
        var file = Read(path);
        try
        {
            var rename = options.ParameterNames ?? (n => n);
            var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (name, value) in file)
            {
                state[rename(name)] = value;
            }

            var network = description.Build();
            using (no_grad())
            {
                Copy(network, description, state, options, path);
            }

            network.eval();
            return create(description, network, source);
        }
        finally
        {
            foreach (var tensor in file.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>The file's tensors by name; a clear error for anything that is not a state_dict.</summary>
    private static Dictionary<string, Tensor> Read(string path)
    {
        byte[] head = new byte[8];
        using (var stream = File.OpenRead(path))
        {
            if (stream.Read(head, 0, head.Length) < head.Length)
            {
                throw new InvalidDataException($"'{path}' is not a PyTorch state_dict: it is only {stream.Length} bytes long.");
            }
        }

        bool zip = head[0] == (byte)'P' && head[1] == (byte)'K';
        try
        {
            if (zip)
            {
                var table = PyTorchUnpickler.UnpickleStateDict(path);
                var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (DictionaryEntry entry in table)
                {
                    if (entry.Value is Tensor tensor)
                    {
                        result[(string)entry.Key] = tensor;
                    }
                    else
                    {
                        throw new InvalidDataException(
                            $"'{path}' holds '{entry.Key}', which is not a tensor ({entry.Value?.GetType().Name ?? "null"}): save the model's state_dict (torch.save(model.state_dict(), path)), not a whole checkpoint or model.");
                    }
                }

                return result;
            }

            long headerLength = BitConverter.ToInt64(head, 0);
            if (headerLength <= 0 || headerLength > new FileInfo(path).Length - 8)
            {
                throw new InvalidDataException(
                    $"'{path}' is neither a PyTorch state_dict written by torch.save (a zip archive) nor a safetensors file.");
            }

            return TorchSharp.PyBridge.Safetensors.LoadStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{path}' cannot be read as a PyTorch state_dict ({(zip ? "torch.save zip" : "safetensors")}): {e.Message}", e);
        }
    }

    private static void Copy(nn.Module<Tensor, Tensor> network, NetworkDescription description, Dictionary<string, Tensor> state, PyTorchStateDictOptions options, string path)
    {
        var target = network.state_dict();
        var missing = new List<string>();
        var misShaped = new List<string>();
        bool adaptedFirstConvolution = false;
        foreach (var (name, value) in target)
        {
            if (name.StartsWith(LayerNames.Normalize + ".", StringComparison.Ordinal) && !state.ContainsKey(name))
            {
                continue;
            }

            if (!state.TryGetValue(name, out var saved))
            {
                missing.Add($"{name} [{Format(value.shape)}]");
                continue;
            }

            var from = saved;
            bool isFirstConvolution = !adaptedFirstConvolution && value.dim() == 4 && description.InputShape.Count == 3;
            if (isFirstConvolution)
            {
                adaptedFirstConvolution = true;
                if (options.AdaptInputChannels && saved.dim() == 4 && saved.shape[1] != value.shape[1]
                    && saved.shape[0] == value.shape[0] && saved.shape[2] == value.shape[2] && saved.shape[3] == value.shape[3])
                {
                    from = AdaptChannels(saved, value.shape[1]);
                }
            }

            if (!from.shape.SequenceEqual(value.shape))
            {
                misShaped.Add($"{name}: [{Format(from.shape)}] in the file, [{Format(value.shape)}] in the network");
                continue;
            }

            value.copy_(from.to_type(value.dtype));
        }

        var unexpected = state.Keys.Where(k => !target.ContainsKey(k)).Select(k => $"{k} [{Format(state[k].shape)}]").ToList();
        if (missing.Count + misShaped.Count + unexpected.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add($"missing from the file ({missing.Count}): {string.Join(", ", missing)}");
            }

            if (unexpected.Count > 0)
            {
                parts.Add($"not in the network ({unexpected.Count}): {string.Join(", ", unexpected)}");
            }

            if (misShaped.Count > 0)
            {
                parts.Add($"of another shape ({misShaped.Count}): {string.Join("; ", misShaped)}");
            }

            throw new InvalidDataException(
                $"The PyTorch state_dict '{path}' does not match the network ({string.Join(", ", description.Layers.Select(l => l.Describe()))} -> {description.Outputs}). "
                + string.Join(". ", parts) + ". Check the architecture, the number of outputs, and the name mapping (PyTorchStateDictOptions.ParameterNames).");
        }

        if (description.Normalization == InputNormalization.Image && !state.ContainsKey($"{LayerNames.Normalize}.mean"))
        {
            SetImageNormalization(network, (int)description.InputShape[0], options);
        }
    }

    private static Tensor AdaptChannels(Tensor weight, long channels)
    {
        long fileChannels = weight.shape[1];
        if (channels == 1)
        {
            return weight.sum(1, keepdim: true);
        }

        if (fileChannels == 1)
        {
            return weight.repeat(1, channels, 1, 1) / channels;
        }

        // Any other pair: the mean filter, spread over the new channels.
        return (weight.mean([1L], keepdim: true) * fileChannels / channels).repeat(1, channels, 1, 1);
    }

    private static void SetImageNormalization(nn.Module<Tensor, Tensor> network, int channels, PyTorchStateDictOptions options)
    {
        var module = network.named_children().FirstOrDefault(c => c.name == LayerNames.Normalize).module as ImageNormalization;
        if (module is null)
        {
            return;
        }

        float[] Fit(IReadOnlyList<float>? values, float neutral, string name)
        {
            if (values is null)
            {
                return Enumerable.Repeat(neutral, channels).ToArray();
            }

            if (values.Count == channels)
            {
                return [.. values];
            }

            OptionChecks.Require(options.AdaptInputChannels && (values.Count == 1 || channels == 1), name, values.Count,
                $"must give one value per input channel ({channels}), or set AdaptInputChannels");
            return channels == 1 ? [values.Average()] : Enumerable.Repeat(values[0], channels).ToArray();
        }

        module.Scale.fill_(options.PixelScale);
        module.Mean.copy_(tensor(Fit(options.ChannelMean, 0f, nameof(options.ChannelMean))).reshape(module.Mean.shape));
        module.Std.copy_(tensor(Fit(options.ChannelStd, 1f, nameof(options.ChannelStd))).reshape(module.Std.shape));
    }

    private static string Format(long[] shape) => string.Join(", ", shape);
}
