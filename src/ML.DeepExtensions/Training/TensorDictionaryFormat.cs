using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>Writes and reads named CPU tensors (a module's state) in a compact binary form.</summary>
internal static class TensorDictionaryFormat
{
    public static void Write(BinaryWriter writer, IReadOnlyDictionary<string, Tensor> tensors)
    {
        writer.Write(tensors.Count);
        foreach (var (name, value) in tensors)
        {
            using var cpu = value.detach().cpu().contiguous();
            writer.Write(name);
            writer.Write((int)cpu.dtype);
            writer.Write(cpu.shape.Length);
            foreach (var dim in cpu.shape)
            {
                writer.Write(dim);
            }

            byte[] bytes = cpu.dtype switch
            {
                ScalarType.Float32 => MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).ToArray(),
                ScalarType.Float64 => MemoryMarshal.AsBytes(cpu.data<double>().ToArray().AsSpan()).ToArray(),
                ScalarType.Int64 => MemoryMarshal.AsBytes(cpu.data<long>().ToArray().AsSpan()).ToArray(),
                ScalarType.Int32 => MemoryMarshal.AsBytes(cpu.data<int>().ToArray().AsSpan()).ToArray(),
                ScalarType.Byte => cpu.data<byte>().ToArray(),
                ScalarType.Bool => cpu.data<bool>().ToArray().Select(b => b ? (byte)1 : (byte)0).ToArray(),
                _ => throw new NotSupportedException($"Tensor '{name}' has type {cpu.dtype}, which checkpoints do not store."),
            };
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    /// <summary>Reads tensors; they are detached from any dispose scope and owned by the caller.</summary>
    public static Dictionary<string, Tensor> Read(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count is < 0 or > 1_000_000)
        {
            throw new InvalidDataException($"implausible tensor count {count}");
        }

        var result = new Dictionary<string, Tensor>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            var dtype = (ScalarType)reader.ReadInt32();
            int rank = reader.ReadInt32();
            if (rank is < 0 or > 16)
            {
                throw new InvalidDataException($"tensor '{name}' has implausible rank {rank}");
            }

            var shape = new long[rank];
            for (int d = 0; d < rank; d++)
            {
                shape[d] = reader.ReadInt64();
            }

            byte[] bytes = reader.ReadBytes(reader.ReadInt32());
            Tensor value = dtype switch
            {
                ScalarType.Float32 => tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape),
                ScalarType.Float64 => tensor(MemoryMarshal.Cast<byte, double>(bytes).ToArray(), shape),
                ScalarType.Int64 => tensor(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape),
                ScalarType.Int32 => tensor(MemoryMarshal.Cast<byte, int>(bytes).ToArray(), shape),
                ScalarType.Byte => tensor(bytes, shape),
                ScalarType.Bool => tensor(bytes.Select(b => b != 0).ToArray(), shape),
                _ => throw new InvalidDataException($"tensor '{name}' has unsupported type {dtype}"),
            };
            result[name] = value.DetachFromDisposeScope();
        }

        return result;
    }
}
