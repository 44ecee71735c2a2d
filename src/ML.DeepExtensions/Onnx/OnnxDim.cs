using System.Globalization;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// One dimension of an ONNX tensor shape: a fixed size, a symbolic name shared by dimensions that
/// are equal at run time (for example <c>"N"</c> for the batch size), or unknown.
/// </summary>
/// <remarks>
/// A <see cref="long"/> or a <see cref="string"/> converts implicitly, so shapes read naturally:
/// <c>graph.AddInput("features", OnnxElementType.Float, "N", 4)</c>.
/// </remarks>
public readonly record struct OnnxDim
{
    private OnnxDim(long? size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The fixed size, or <see langword="null"/> when the dimension is symbolic or unknown.</summary>
    public long? Size { get; }

    /// <summary>The symbolic name, or <see langword="null"/> when the dimension is fixed or unknown.</summary>
    public string? Symbol { get; }

    /// <summary>Whether the dimension has a fixed size.</summary>
    public bool IsFixed => Size.HasValue;

    /// <summary>Whether the dimension has a symbolic name.</summary>
    public bool IsSymbolic => Symbol is not null;

    /// <summary>Whether nothing is known about the dimension (neither size nor name).</summary>
    public bool IsUnknown => !IsFixed && !IsSymbolic;

    /// <summary>A dimension of unknown size without a name (the default value).</summary>
    public static OnnxDim Unknown => default;

    /// <summary>A dimension of fixed size.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative.</exception>
    public static OnnxDim Fixed(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return new OnnxDim(size, null);
    }

    /// <summary>A dimension known only by a name; dimensions with the same name are equal at run time.</summary>
    /// <exception cref="ArgumentException"><paramref name="symbol"/> is null, empty or white space.</exception>
    public static OnnxDim Symbolic(string symbol)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        return new OnnxDim(null, symbol);
    }

    /// <summary>Same as <see cref="Fixed(long)"/>.</summary>
    public static OnnxDim FromInt64(long size) => Fixed(size);

    /// <summary>Same as <see cref="Symbolic(string)"/>.</summary>
    public static OnnxDim FromString(string symbol) => Symbolic(symbol);

    /// <summary>Converts a size to a fixed dimension.</summary>
    public static implicit operator OnnxDim(long size) => Fixed(size);

    /// <summary>Converts a name to a symbolic dimension.</summary>
    public static implicit operator OnnxDim(string symbol) => Symbolic(symbol);

    /// <summary>The size, the symbol, or <c>?</c> when unknown.</summary>
    public override string ToString() =>
        Size?.ToString(CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}
