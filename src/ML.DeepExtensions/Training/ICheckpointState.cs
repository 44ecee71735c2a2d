using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// State that a training loop registers with <see cref="TrainingRun.AddState"/> (a replay buffer, an
/// environment, a sampler position, a callback's memory) so that checkpoints carry it and a resumed
/// run continues it exactly. Callbacks that implement it are registered automatically.
/// </summary>
public interface ICheckpointState
{
    /// <summary>A key unique within the run, e.g. <c>replay_buffer</c>.</summary>
    string StateKey { get; }

    /// <summary>Writes the state. Use <see cref="CheckpointTensors"/> for tensors.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Reads what <see cref="SaveState"/> wrote, replacing the current state.</summary>
    void LoadState(BinaryReader reader);
}

/// <summary>Writes and reads named tensors inside an <see cref="ICheckpointState"/> (any device; read back on the CPU).</summary>
public static class CheckpointTensors
{
    /// <summary>Writes the tensors with their names, types and shapes.</summary>
    public static void Write(BinaryWriter writer, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensors);
        TensorDictionaryFormat.Write(writer, tensors);
    }

    /// <summary>Reads tensors written by <see cref="Write"/>; they are detached from any dispose scope and owned by the caller.</summary>
    public static Dictionary<string, Tensor> Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return TensorDictionaryFormat.Read(reader);
    }
}
