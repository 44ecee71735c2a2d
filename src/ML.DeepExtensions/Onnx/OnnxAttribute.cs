using System.Diagnostics.CodeAnalysis;
using System.Text;
using Google.Protobuf;
using ML.DeepExtensions.Onnx.Proto;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// A named attribute of an ONNX node, created with one of the typed factories, for example
/// <c>OnnxAttribute.Int("axis", 1)</c> or <c>OnnxAttribute.Float("alpha", 0.01f)</c>.
/// </summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "ONNX calls these node attributes; this is not a .NET attribute.")]
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Factories are named after the ONNX attribute types (INT, FLOAT, STRING).")]
public sealed class OnnxAttribute
{
    private OnnxAttribute(AttributeProto proto) => Proto = proto;

    /// <summary>The attribute's name.</summary>
    public string Name => Proto.Name;

    internal AttributeProto Proto { get; }

    /// <summary>An integer attribute (ONNX <c>INT</c>, 64-bit).</summary>
    public static OnnxAttribute Int(string name, long value) =>
        Create(name, AttributeProto.Types.AttributeType.Int, proto => proto.I = value);

    /// <summary>A floating-point attribute (ONNX <c>FLOAT</c>, 32-bit).</summary>
    public static OnnxAttribute Float(string name, float value) =>
        Create(name, AttributeProto.Types.AttributeType.Float, proto => proto.F = value);

    /// <summary>A string attribute (ONNX <c>STRING</c>, stored as UTF-8).</summary>
    public static OnnxAttribute String(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Create(name, AttributeProto.Types.AttributeType.String, proto => proto.S = ByteString.CopyFrom(value, Encoding.UTF8));
    }

    /// <summary>A list-of-integers attribute (ONNX <c>INTS</c>).</summary>
    public static OnnxAttribute Ints(string name, IEnumerable<long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Create(name, AttributeProto.Types.AttributeType.Ints, proto => proto.Ints.AddRange(values));
    }

    /// <summary>A list-of-floats attribute (ONNX <c>FLOATS</c>).</summary>
    public static OnnxAttribute Floats(string name, IEnumerable<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Create(name, AttributeProto.Types.AttributeType.Floats, proto => proto.Floats.AddRange(values));
    }

    /// <summary>A tensor attribute (ONNX <c>TENSOR</c>, as used by <c>Constant</c>) holding float values.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">The values in row-major order.</param>
    /// <param name="dims">The shape; empty for a scalar.</param>
    public static OnnxAttribute Tensor(string name, float[] values, long[] dims) =>
        TensorAttribute(name, OnnxTensorData.FromValues(values, dims));

    /// <summary>A tensor attribute holding 64-bit integers.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">The values in row-major order.</param>
    /// <param name="dims">The shape; empty for a scalar.</param>
    public static OnnxAttribute Tensor(string name, long[] values, long[] dims) =>
        TensorAttribute(name, OnnxTensorData.FromValues(values, dims));

    /// <summary>A tensor attribute copied from a TorchSharp tensor (float32, float64, int64, int32 or bool).</summary>
    public static OnnxAttribute Tensor(string name, Tensor tensor) =>
        TensorAttribute(name, OnnxTensorData.FromTensor(tensor));

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Proto.Type})";

    private static OnnxAttribute TensorAttribute(string name, TensorProto tensor) =>
        Create(name, AttributeProto.Types.AttributeType.Tensor, proto => proto.T = tensor);

    private static OnnxAttribute Create(string name, AttributeProto.Types.AttributeType type, Action<AttributeProto> setValue)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var proto = new AttributeProto { Name = name, Type = type };
        setValue(proto);
        return new OnnxAttribute(proto);
    }
}
