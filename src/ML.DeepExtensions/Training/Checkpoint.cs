using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>Everything a checkpoint holds, in memory.</summary>
internal sealed class CheckpointContents : IDisposable
{
    public CheckpointMetadata Metadata { get; set; } = new();

    public Dictionary<string, Dictionary<string, Tensor>> Modules { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, byte[]> Optimizers { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, byte[]> States { get; } = new(StringComparer.Ordinal);

    public void Dispose()
    {
        foreach (var t in Modules.Values.SelectMany(d => d.Values))
        {
            t.Dispose();
        }
    }
}

/// <summary>The JSON part of a checkpoint: the clock, the history, the settings that shape the result, schedule state.</summary>
internal sealed class CheckpointMetadata
{
    public int CompletedEpochs { get; set; }

    public long GlobalStep { get; set; }

    public int Seed { get; set; }

    public List<Dictionary<string, double>> History { get; set; } = [];

    public Dictionary<string, string> Settings { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, double> PlateauFactors { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, MetricMonitor.MonitorState> PlateauMonitors { get; set; } = new(StringComparer.Ordinal);

    public string? RandomState { get; set; }

    /// <summary>Network descriptions (JSON) of the modules added with one, so a checkpoint can be rebuilt into a network.</summary>
    public Dictionary<string, string> Networks { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The checkpoint file: magic, format version, payload length, payload, SHA-256 of the payload.
/// A damaged or foreign file is rejected with a message naming it, before any state is touched.
/// Written to a temporary name and renamed, so a crash never leaves a half-written checkpoint.
/// </summary>
internal static class CheckpointFile
{
    private const int FormatVersion = 2;
    private static readonly byte[] Magic = "MLDXCKPT"u8.ToArray();

    // Metrics can be NaN and monitors start at ±Infinity: JSON needs the named literals.
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string EpochFileName(int completedEpochs) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"checkpoint-epoch-{completedEpochs:D4}.mldx");

    public static string StepFileName(long completedSteps) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"checkpoint-step-{completedSteps:D8}.mldx");

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
            writer.Write(JsonSerializer.Serialize(contents.Metadata, JsonOptions));
            writer.Write(contents.Modules.Count);
            foreach (var (name, state) in contents.Modules)
            {
                writer.Write(name);
                TensorDictionaryFormat.Write(writer, state);
            }

            WriteBlobs(writer, contents.Optimizers);
            WriteBlobs(writer, contents.States);
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
            writer.Flush();
            file.Flush(flushToDisk: true);
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
        if (version != FormatVersion)
        {
            throw new InvalidDataException(version > FormatVersion
                ? $"The checkpoint '{path}' has format version {version}; this library reads version {FormatVersion}."
                : $"The checkpoint '{path}' has format version {version}, written by an earlier ML.DeepExtensions; this version reads only version {FormatVersion}. Train again to write a new checkpoint.");
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

        var contents = new CheckpointContents();
        try
        {
            using var reader = new BinaryReader(new MemoryStream(file, headerLength, (int)length), Encoding.UTF8);
            contents.Metadata = JsonSerializer.Deserialize<CheckpointMetadata>(reader.ReadString(), JsonOptions)
                ?? throw new InvalidDataException("empty metadata");
            int modules = ReadCount(reader);
            for (int i = 0; i < modules; i++)
            {
                string name = reader.ReadString();
                contents.Modules[name] = TensorDictionaryFormat.Read(reader);
            }

            ReadBlobs(reader, contents.Optimizers);
            ReadBlobs(reader, contents.States);
            return contents;
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or InvalidDataException or ArgumentException)
        {
            contents.Dispose();
            throw new InvalidDataException($"The checkpoint '{path}' could not be decoded: {e.Message}", e);
        }
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

    public static void LoadOptimizer(optim.Optimizer optimizer, byte[] state, string path, string name)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(state));
            AsHelper(optimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is not NotSupportedException)
        {
            throw new InvalidDataException($"The checkpoint '{path}' holds a state for optimizer '{name}' that does not fit this run's optimizer: {e.Message}", e);
        }
    }

    /// <summary>Copies a checkpoint's module state into <paramref name="model"/>, checking names and shapes first.</summary>
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

    private static void WriteBlobs(BinaryWriter writer, Dictionary<string, byte[]> blobs)
    {
        writer.Write(blobs.Count);
        foreach (var (name, bytes) in blobs)
        {
            writer.Write(name);
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    private static void ReadBlobs(BinaryReader reader, Dictionary<string, byte[]> blobs)
    {
        int count = ReadCount(reader);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            int length = reader.ReadInt32();
            if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
            {
                throw new InvalidDataException($"entry '{name}' claims {length} bytes");
            }

            blobs[name] = reader.ReadBytes(length);
        }
    }

    private static int ReadCount(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        return count is >= 0 and <= 100_000 ? count : throw new InvalidDataException($"implausible entry count {count}");
    }

    private static OptimizerHelper AsHelper(optim.Optimizer optimizer) => optimizer as OptimizerHelper
        ?? throw new NotSupportedException($"Optimizer {optimizer.GetType().Name} cannot be checkpointed.");
}
