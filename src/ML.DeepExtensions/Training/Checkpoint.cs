using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>State a callback contributes to checkpoints so a resumed run continues it.</summary>
internal interface ICheckpointState
{
    string StateKey { get; }

    void Save(CheckpointContents contents);

    void Restore(CheckpointContents contents);
}

/// <summary>Everything a checkpoint holds, in memory.</summary>
internal sealed class CheckpointContents : IDisposable
{
    public int CompletedEpochs { get; set; }

    public long GlobalStep { get; set; }

    public int Seed { get; set; }

    public double PlateauFactor { get; set; } = 1.0;

    public MetricMonitor.MonitorState? PlateauMonitor { get; set; }

    public List<Dictionary<string, double>> History { get; set; } = [];

    public Dictionary<string, string> CallbackJson { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, Tensor> ModelState { get; set; } = new(StringComparer.Ordinal);

    public List<byte[]> OptimizerStates { get; set; } = [];

    public Dictionary<string, Dictionary<string, Tensor>> CallbackTensors { get; set; } = new(StringComparer.Ordinal);

    public void Dispose()
    {
        foreach (var t in ModelState.Values.Concat(CallbackTensors.Values.SelectMany(d => d.Values)))
        {
            t.Dispose();
        }
    }
}

/// <summary>
/// The checkpoint file: magic, format version, payload length, payload, SHA-256 of the payload.
/// A damaged or foreign file is rejected with a message naming it, before any state is touched.
/// </summary>
internal static class CheckpointFile
{
    private const int FormatVersion = 1;
    private static readonly byte[] Magic = "MLDXCKPT"u8.ToArray();

    // Metrics can be NaN and monitors start at ±Infinity: JSON needs the named literals.
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string FileName(int completedEpochs) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"checkpoint-epoch-{completedEpochs:D4}.mldx");

    /// <summary>Fails early, before training, when checkpoints could not be written.</summary>
    public static void EnsureWritable(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".write-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new InvalidOperationException($"The checkpoint directory '{directory}' cannot be written: {e.Message}", e);
        }
    }

    public static void Write(string path, CheckpointContents contents)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            var metadata = new Metadata(contents.CompletedEpochs, contents.GlobalStep, contents.Seed, contents.PlateauFactor,
                contents.PlateauMonitor, contents.History, contents.CallbackJson);
            writer.Write(JsonSerializer.Serialize(metadata, JsonOptions));
            TensorDictionaryFormat.Write(writer, contents.ModelState);
            writer.Write(contents.OptimizerStates.Count);
            foreach (var state in contents.OptimizerStates)
            {
                writer.Write(state.Length);
                writer.Write(state);
            }

            writer.Write(contents.CallbackTensors.Count);
            foreach (var (key, tensors) in contents.CallbackTensors)
            {
                writer.Write(key);
                TensorDictionaryFormat.Write(writer, tensors);
            }
        }

        byte[] body = payload.ToArray();
        string temporary = path + ".partial-" + Guid.NewGuid().ToString("N");
        using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        using (var writer = new BinaryWriter(file))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write((long)body.Length);
            writer.Write(body);
            writer.Write(SHA256.HashData(body));
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException e)
        {
            File.Delete(temporary);
            throw new IOException($"The checkpoint '{path}' already exists and will not be overwritten; use an empty checkpoint directory or remove the file.", e);
        }
    }

    public static CheckpointContents Read(string path)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The checkpoint '{path}' cannot be read: {e.Message}", e);
        }

        const int headerLength = 8 + 4 + 8;
        if (file.Length < headerLength || !file.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"'{path}' is not an ML.DeepExtensions checkpoint (its header does not match).");
        }

        int version = BitConverter.ToInt32(file, 8);
        if (version > FormatVersion)
        {
            throw new InvalidDataException($"The checkpoint '{path}' has format version {version}; this library reads up to {FormatVersion}.");
        }

        long length = BitConverter.ToInt64(file, 12);
        if (length < 0 || headerLength + length + 32 != file.Length)
        {
            throw new InvalidDataException($"The checkpoint '{path}' is truncated or has extra bytes (expected {headerLength + length + 32} bytes, found {file.Length}).");
        }

        var body = file.AsSpan(headerLength, (int)length);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(file.AsSpan(headerLength + (int)length, 32)))
        {
            throw new InvalidDataException($"The checkpoint '{path}' is corrupt: its checksum does not match its contents.");
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(file, headerLength, (int)length), Encoding.UTF8);
            var metadata = JsonSerializer.Deserialize<Metadata>(reader.ReadString(), JsonOptions)
                ?? throw new InvalidDataException("empty metadata");
            var contents = new CheckpointContents
            {
                CompletedEpochs = metadata.CompletedEpochs,
                GlobalStep = metadata.GlobalStep,
                Seed = metadata.Seed,
                PlateauFactor = metadata.PlateauFactor,
                PlateauMonitor = metadata.PlateauMonitor,
                History = metadata.History,
                CallbackJson = metadata.CallbackJson,
                ModelState = TensorDictionaryFormat.Read(reader),
            };
            int optimizers = reader.ReadInt32();
            for (int i = 0; i < optimizers; i++)
            {
                contents.OptimizerStates.Add(reader.ReadBytes(reader.ReadInt32()));
            }

            int callbacks = reader.ReadInt32();
            for (int i = 0; i < callbacks; i++)
            {
                string key = reader.ReadString();
                contents.CallbackTensors[key] = TensorDictionaryFormat.Read(reader);
            }

            return contents;
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"The checkpoint '{path}' could not be decoded: {e.Message}", e);
        }
    }

    /// <summary>The seed of the run that wrote the checkpoint (validates the whole file).</summary>
    public static int ReadSeed(string path)
    {
        using var contents = Read(path);
        return contents.Seed;
    }

    public static byte[] SaveOptimizer(optim.Optimizer optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            AsHelper(optimizer).save_state_dict(writer);
        }

        return stream.ToArray();
    }

    public static void LoadOptimizer(optim.Optimizer optimizer, byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        AsHelper(optimizer).load_state_dict(reader);
    }

    /// <summary>Copies a checkpoint's model state into <paramref name="model"/>, checking names and shapes first.</summary>
    public static void LoadModelState(nn.Module model, IReadOnlyDictionary<string, Tensor> state, string path)
    {
        var current = model.state_dict();
        foreach (var (name, value) in current)
        {
            if (!state.TryGetValue(name, out var saved))
            {
                throw new InvalidDataException($"The checkpoint '{path}' was saved from a different network: it has no '{name}'.");
            }

            if (!saved.shape.SequenceEqual(value.shape))
            {
                throw new InvalidDataException(
                    $"The checkpoint '{path}' was saved from a different network: '{name}' has shape [{string.Join(", ", saved.shape)}] there but [{string.Join(", ", value.shape)}] in this model.");
            }
        }

        using (no_grad())
        {
            foreach (var (name, value) in current)
            {
                value.copy_(state[name]);
            }
        }
    }

    private static OptimizerHelper AsHelper(optim.Optimizer optimizer) => optimizer as OptimizerHelper
        ?? throw new NotSupportedException($"Optimizer {optimizer.GetType().Name} cannot be checkpointed.");

    private sealed record Metadata(
        int CompletedEpochs,
        long GlobalStep,
        int Seed,
        double PlateauFactor,
        MetricMonitor.MonitorState? PlateauMonitor,
        List<Dictionary<string, double>> History,
        Dictionary<string, string> CallbackJson);
}
