using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using ML.DeepExtensions.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>Builds <see cref="TensorProto"/> messages (initializers and tensor attributes) from .NET and TorchSharp data.</summary>
internal static class OnnxTensorData
{
    public static TensorProto FromValues(ReadOnlySpan<float> values, IReadOnlyList<long> dims) =>
        FromUnmanaged(values, dims, OnnxElementType.Float);

    public static TensorProto FromValues(ReadOnlySpan<double> values, IReadOnlyList<long> dims) =>
        FromUnmanaged(values, dims, OnnxElementType.Double);

    public static TensorProto FromValues(ReadOnlySpan<long> values, IReadOnlyList<long> dims) =>
        FromUnmanaged(values, dims, OnnxElementType.Int64);

    public static TensorProto FromValues(ReadOnlySpan<int> values, IReadOnlyList<long> dims) =>
        FromUnmanaged(values, dims, OnnxElementType.Int32);

    public static TensorProto FromStrings(IReadOnlyList<string> values, IReadOnlyList<long> dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckElementCount(values.Count, dims);
        var proto = NewProto(dims, OnnxElementType.String);
        foreach (var value in values)
        {
            ArgumentNullException.ThrowIfNull(value, nameof(values));
            proto.StringData.Add(ByteString.CopyFrom(value, Encoding.UTF8));
        }

        return proto;
    }

    /// <summary>
    /// Copies a TorchSharp tensor (on any device, with or without gradient tracking) into a proto.
    /// Supported element types: float32, float64, int64, int32 and bool.
    /// </summary>
    public static TensorProto FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var cpu = tensor.detach().cpu().contiguous();
        var dims = cpu.shape;
        return cpu.dtype switch
        {
            ScalarType.Float32 => FromValues(cpu.data<float>().ToArray(), dims),
            ScalarType.Float64 => FromValues(cpu.data<double>().ToArray(), dims),
            ScalarType.Int64 => FromValues(cpu.data<long>().ToArray(), dims),
            ScalarType.Int32 => FromValues(cpu.data<int>().ToArray(), dims),
            ScalarType.Bool => FromUnmanaged<bool>(cpu.data<bool>().ToArray(), dims, OnnxElementType.Bool),
            _ => throw new NotSupportedException(
                $"A tensor of element type {cpu.dtype} cannot be written to ONNX; supported: Float32, Float64, Int64, Int32, Bool."),
        };
    }

    public static OnnxTensorType TypeOf(TensorProto proto) =>
        new((OnnxElementType)proto.DataType, proto.Dims.Select(OnnxDim.Fixed));

    private static TensorProto FromUnmanaged<T>(ReadOnlySpan<T> values, IReadOnlyList<long> dims, OnnxElementType elementType)
        where T : unmanaged
    {
        CheckElementCount(values.Length, dims);
        var proto = NewProto(dims, elementType);
        proto.RawData = UnsafeByteOperations.UnsafeWrap(ToLittleEndianBytes(values));
        return proto;
    }

    private static TensorProto NewProto(IReadOnlyList<long> dims, OnnxElementType elementType)
    {
        var proto = new TensorProto { DataType = (int)elementType };
        proto.Dims.AddRange(dims);
        return proto;
    }

    private static void CheckElementCount(int count, IReadOnlyList<long> dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long expected = 1;
        foreach (var dim in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dim, nameof(dims));
            expected *= dim;
        }

        if (expected != count)
        {
            throw new ArgumentException(
                $"The shape [{string.Join(",", dims)}] holds {expected} elements but {count} values were given.", nameof(dims));
        }
    }

    // ONNX raw_data is little-endian whatever the machine's byte order is.
    private static byte[] ToLittleEndianBytes<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        var size = Unsafe.SizeOf<T>();
        if (!BitConverter.IsLittleEndian && size > 1)
        {
            for (var offset = 0; offset < bytes.Length; offset += size)
            {
                Array.Reverse(bytes, offset, size);
            }
        }

        return bytes;
    }
}
