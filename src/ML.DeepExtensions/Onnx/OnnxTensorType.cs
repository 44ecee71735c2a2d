namespace ML.DeepExtensions.Onnx;

/// <summary>
/// What the graph builder knows about a value: its element type and, when known, its shape.
/// Converters read it to choose an operator form (for example Gemm for a rank-2 input) and record
/// it for the values they produce when it is cheap to do so.
/// </summary>
public sealed class OnnxTensorType
{
    /// <summary>Creates a tensor type.</summary>
    /// <param name="elementType">The element type.</param>
    /// <param name="dims">The shape, empty for a scalar, or <see langword="null"/> when even the rank is unknown.</param>
    public OnnxTensorType(OnnxElementType elementType, IEnumerable<OnnxDim>? dims)
    {
        ElementType = elementType;
        Dims = dims?.ToArray();
    }

    /// <summary>The element type.</summary>
    public OnnxElementType ElementType { get; }

    /// <summary>The shape (empty for a scalar), or <see langword="null"/> when the rank is unknown.</summary>
    public IReadOnlyList<OnnxDim>? Dims { get; }

    /// <summary>The rank, or <see langword="null"/> when unknown.</summary>
    public int? Rank => Dims?.Count;

    /// <summary>For example <c>Float[N,4]</c>, <c>String[]</c> or <c>Float[*]</c> when the rank is unknown.</summary>
    public override string ToString() =>
        $"{ElementType}[{(Dims is null ? "*" : string.Join(",", Dims))}]";
}
