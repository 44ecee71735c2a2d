using System.Diagnostics.CodeAnalysis;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// Element type of an ONNX tensor. The numeric values are the ONNX <c>TensorProto.DataType</c> codes,
/// so a value can be written to the model as is.
/// </summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Member names are the ONNX data type names on purpose.")]
public enum OnnxElementType
{
    /// <summary>32-bit floating point (<c>float</c>).</summary>
    Float = 1,

    /// <summary>Unsigned 8-bit integer (<c>byte</c>).</summary>
    UInt8 = 2,

    /// <summary>Signed 8-bit integer (<c>sbyte</c>).</summary>
    Int8 = 3,

    /// <summary>Unsigned 16-bit integer (<c>ushort</c>).</summary>
    UInt16 = 4,

    /// <summary>Signed 16-bit integer (<c>short</c>).</summary>
    Int16 = 5,

    /// <summary>Signed 32-bit integer (<c>int</c>).</summary>
    Int32 = 6,

    /// <summary>Signed 64-bit integer (<c>long</c>).</summary>
    Int64 = 7,

    /// <summary>UTF-8 string.</summary>
    String = 8,

    /// <summary>Boolean.</summary>
    Bool = 9,

    /// <summary>16-bit IEEE floating point (<c>Half</c>).</summary>
    Float16 = 10,

    /// <summary>64-bit floating point (<c>double</c>).</summary>
    Double = 11,

    /// <summary>Unsigned 32-bit integer (<c>uint</c>).</summary>
    UInt32 = 12,

    /// <summary>Unsigned 64-bit integer (<c>ulong</c>).</summary>
    UInt64 = 13,
}
