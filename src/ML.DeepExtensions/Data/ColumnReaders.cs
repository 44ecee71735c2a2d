using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Data;

/// <summary>
/// Reads one column of the cursor's current row into a span of a <see cref="RowStore"/>. One reader
/// per column per cursor: the getter and any VBuffer are created once and reused for every row.
/// </summary>
internal abstract class ColumnReader
{
    protected ColumnReader(ColumnBinding binding, MissingValuePolicy policy)
    {
        Binding = binding;
        Policy = policy;
    }

    public ColumnBinding Binding { get; }

    protected MissingValuePolicy Policy { get; }

    /// <summary>Handles a missing or non-finite value: false (skip the row) or an exception, by policy.</summary>
    protected bool Missing(long position, int element, string what)
    {
        if (Policy == MissingValuePolicy.SkipRow)
        {
            return false;
        }

        throw new DataValidationException(
            $"{Binding.Describe()} has {what} at row {position.ToString(CultureInfo.InvariantCulture)} of the data view" +
            $"{ElementText(element)}. Clean or impute the data (for example with mlContext.Transforms.ReplaceMissingValues), " +
            "or leave such rows out: SkipRowsWithMissingValues = true in a trainer's options (MissingValuePolicy.SkipRow in BatchSourceOptions).",
            Binding.ColumnName,
            Binding.Role,
            position);
    }

    /// <summary>A value that is present but unusable: always an error, whatever the policy.</summary>
    protected DataValidationException Invalid(long position, int element, string what) =>
        new($"{Binding.Describe()} has {what} at row {position.ToString(CultureInfo.InvariantCulture)} of the data view{ElementText(element)}.",
            Binding.ColumnName,
            Binding.Role,
            position);

    protected void CheckLength(int length, long position)
    {
        if (length != Binding.Width)
        {
            throw Invalid(position, -1, $"a vector of {length.ToString(CultureInfo.InvariantCulture)} values although its type declares {Binding.Width.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private string ElementText(int element) => Binding.IsVector && element >= 0
        ? $" (vector element {element.ToString(CultureInfo.InvariantCulture)} of {Binding.Width.ToString(CultureInfo.InvariantCulture)})"
        : string.Empty;

    protected static string DescribeNonFinite(double value) =>
        double.IsNaN(value) ? "a missing value (NaN)" : $"a non-finite value ({value.ToString(CultureInfo.InvariantCulture)}) for float32";

    /// <summary>Index of the first NaN or infinity, or -1. Vectorised: x - x is 0 only for finite x.</summary>
    protected static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            var acc = Vector<float>.Zero;
            foreach (var v in vectors)
            {
                acc += v - v;
            }

            if (Vector.EqualsAll(acc, Vector<float>.Zero))
            {
                i = vectors.Length * Vector<float>.Count;
            }
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A reader whose values are stored as float32.</summary>
internal abstract class FloatColumnReader(ColumnBinding binding, MissingValuePolicy policy) : ColumnReader(binding, policy)
{
    /// <summary>Writes the row's values; false when the row is to be skipped.</summary>
    public abstract bool Read(Span<float> destination, long position);
}

/// <summary>A reader whose values are stored as int64.</summary>
internal abstract class Int64ColumnReader(ColumnBinding binding, MissingValuePolicy policy) : ColumnReader(binding, policy)
{
    /// <summary>Writes the row's values; false when the row is to be skipped.</summary>
    public abstract bool Read(Span<long> destination, long position);
}

/// <summary>Numeric scalar to float32.</summary>
internal sealed class ScalarToFloatReader<T>(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<T> getter)
    : FloatColumnReader(binding, policy)
    where T : unmanaged, INumberBase<T>
{
    private T _value;

    public override bool Read(Span<float> destination, long position)
    {
        getter(ref _value);
        float converted = float.CreateTruncating(_value);
        // The type tests are constants for each value-type instantiation: integer readers skip the check.
        if ((typeof(T) == typeof(float) || typeof(T) == typeof(double)) && !float.IsFinite(converted))
        {
            return Missing(position, -1, DescribeNonFinite(double.CreateTruncating(_value)));
        }

        destination[0] = converted;
        return true;
    }
}

/// <summary>Numeric known-size vector (dense or sparse) to float32.</summary>
internal sealed class VectorToFloatReader<T>(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<VBuffer<T>> getter)
    : FloatColumnReader(binding, policy)
    where T : unmanaged, INumberBase<T>
{
    private VBuffer<T> _buffer;

    public override bool Read(Span<float> destination, long position)
    {
        getter(ref _buffer);
        CheckLength(_buffer.Length, position);
        var values = _buffer.GetValues();
        if (_buffer.IsDense)
        {
            Convert(values, destination);
        }
        else
        {
            destination.Clear();
            var indices = _buffer.GetIndices();
            for (int i = 0; i < values.Length; i++)
            {
                destination[indices[i]] = float.CreateTruncating(values[i]);
            }
        }

        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            int bad = IndexOfNonFinite(destination);
            if (bad >= 0)
            {
                return Missing(position, bad, DescribeNonFinite(SourceValue(bad)));
            }
        }

        return true;
    }

    private static void Convert(ReadOnlySpan<T> source, Span<float> destination)
    {
        if (typeof(T) == typeof(float))
        {
            MemoryMarshal.Cast<T, float>(source).CopyTo(destination);
            return;
        }

        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = float.CreateTruncating(source[i]);
        }
    }

    private double SourceValue(int element) => double.CreateTruncating(_buffer.GetItemOrDefault(element));
}

/// <summary>Boolean scalar to float32 0/1 (features or binary targets).</summary>
internal sealed class BoolScalarToFloatReader(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<bool> getter)
    : FloatColumnReader(binding, policy)
{
    private bool _value;

    public override bool Read(Span<float> destination, long position)
    {
        getter(ref _value);
        destination[0] = _value ? 1f : 0f;
        return true;
    }
}

/// <summary>Boolean vector to float32 0/1.</summary>
internal sealed class BoolVectorToFloatReader(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<VBuffer<bool>> getter)
    : FloatColumnReader(binding, policy)
{
    private VBuffer<bool> _buffer;

    public override bool Read(Span<float> destination, long position)
    {
        getter(ref _buffer);
        CheckLength(_buffer.Length, position);
        var values = _buffer.GetValues();
        if (_buffer.IsDense)
        {
            for (int i = 0; i < values.Length; i++)
            {
                destination[i] = values[i] ? 1f : 0f;
            }
        }
        else
        {
            destination.Clear();
            var indices = _buffer.GetIndices();
            for (int i = 0; i < values.Length; i++)
            {
                destination[indices[i]] = values[i] ? 1f : 0f;
            }
        }

        return true;
    }
}

/// <summary>Single/Double scalar holding 0 or 1 to a float32 binary target.</summary>
internal sealed class ScalarToBinaryReader<T>(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<T> getter)
    : FloatColumnReader(binding, policy)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private T _value;

    public override bool Read(Span<float> destination, long position)
    {
        getter(ref _value);
        if (T.IsNaN(_value))
        {
            return Missing(position, -1, "a missing value (NaN)");
        }

        if (!T.IsZero(_value) && _value != T.One)
        {
            throw Invalid(position, -1, $"the value {double.CreateTruncating(_value).ToString(CultureInfo.InvariantCulture)}, but a binary target must be 0 or 1");
        }

        destination[0] = T.IsZero(_value) ? 0f : 1f;
        return true;
    }
}

/// <summary>Single/Double vector holding 0 or 1 to float32 binary targets (multi-label).</summary>
internal sealed class VectorToBinaryReader<T>(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<VBuffer<T>> getter)
    : FloatColumnReader(binding, policy)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private VBuffer<T> _buffer;

    public override bool Read(Span<float> destination, long position)
    {
        getter(ref _buffer);
        CheckLength(_buffer.Length, position);
        var values = _buffer.GetValues();
        var indices = _buffer.IsDense ? default : _buffer.GetIndices();
        if (!_buffer.IsDense)
        {
            destination.Clear();
        }

        for (int i = 0; i < values.Length; i++)
        {
            T value = values[i];
            int element = _buffer.IsDense ? i : indices[i];
            if (T.IsNaN(value))
            {
                return Missing(position, element, "a missing value (NaN)");
            }

            if (!T.IsZero(value) && value != T.One)
            {
                throw Invalid(position, element, $"the value {double.CreateTruncating(value).ToString(CultureInfo.InvariantCulture)}, but a binary target must be 0 or 1");
            }

            destination[element] = T.IsZero(value) ? 0f : 1f;
        }

        return true;
    }
}

/// <summary>Key scalar to a 0-based int64 class index.</summary>
internal sealed class KeyScalarToIndexReader<T>(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<T> getter)
    : Int64ColumnReader(binding, policy)
    where T : unmanaged, IBinaryInteger<T>
{
    private T _value;

    public override bool Read(Span<long> destination, long position)
    {
        getter(ref _value);
        ulong key = ulong.CreateTruncating(_value);
        if (key == 0)
        {
            return Missing(position, -1, "a missing key value (0, which ML.NET uses for values not in the key's dictionary)");
        }

        if (key > Binding.KeyCount)
        {
            throw Invalid(position, -1, $"the key value {key.ToString(CultureInfo.InvariantCulture)} beyond the key count {Binding.KeyCount.ToString(CultureInfo.InvariantCulture)}");
        }

        destination[0] = (long)(key - 1);
        return true;
    }
}

/// <summary>Key vector to 0-based int64 class indices. Absent entries of a sparse key vector are 0: missing.</summary>
internal sealed class KeyVectorToIndexReader<T>(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<VBuffer<T>> getter)
    : Int64ColumnReader(binding, policy)
    where T : unmanaged, IBinaryInteger<T>
{
    private VBuffer<T> _buffer;

    public override bool Read(Span<long> destination, long position)
    {
        getter(ref _buffer);
        CheckLength(_buffer.Length, position);
        var values = _buffer.GetValues();
        if (!_buffer.IsDense)
        {
            destination.Clear();
            var indices = _buffer.GetIndices();
            for (int i = 0; i < values.Length; i++)
            {
                destination[indices[i]] = long.CreateTruncating(values[i]);
            }
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
            {
                destination[i] = long.CreateTruncating(values[i]);
            }
        }

        // Stored as raw keys above; turn them into 0-based indices, checking each.
        for (int i = 0; i < destination.Length; i++)
        {
            ulong key = (ulong)destination[i];
            if (key == 0)
            {
                return Missing(position, i, "a missing key value (0, which ML.NET uses for values not in the key's dictionary)");
            }

            if (key > Binding.KeyCount)
            {
                throw Invalid(position, i, $"the key value {key.ToString(CultureInfo.InvariantCulture)} beyond the key count {Binding.KeyCount.ToString(CultureInfo.InvariantCulture)}");
            }

            destination[i] = (long)(key - 1);
        }

        return true;
    }
}

/// <summary>
/// Key vector of tokens to ids padded or truncated to the binding's width: key k → k + 1, missing key
/// 0 → 1 (the unknown token), padding 0. A key beyond the key count is an error naming the row.
/// </summary>
internal sealed class KeyVectorToTokenIdsReader<T>(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<VBuffer<T>> getter)
    : Int64ColumnReader(binding, policy)
    where T : unmanaged, IBinaryInteger<T>
{
    private VBuffer<T> _buffer;
    private long[] _dense = [];

    public override bool Read(Span<long> destination, long position)
    {
        getter(ref _buffer);
        int length = _buffer.Length;
        if (_dense.Length < length)
        {
            _dense = new long[Math.Max(length, _dense.Length * 2)];
        }

        var tokens = _dense.AsSpan(0, length);
        var values = _buffer.GetValues();
        if (_buffer.IsDense)
        {
            for (int i = 0; i < values.Length; i++)
            {
                tokens[i] = long.CreateTruncating(values[i]);
            }
        }
        else
        {
            tokens.Clear();
            var indices = _buffer.GetIndices();
            for (int i = 0; i < values.Length; i++)
            {
                tokens[indices[i]] = long.CreateTruncating(values[i]);
            }
        }

        int kept = Math.Min(length, destination.Length);
        int start = Binding.Column.Truncation == SequenceTruncation.KeepEnd ? length - kept : 0;
        destination.Clear();
        for (int i = 0; i < kept; i++)
        {
            ulong key = (ulong)tokens[start + i];
            if (key > Binding.KeyCount)
            {
                throw Invalid(position, start + i, $"the key value {key.ToString(CultureInfo.InvariantCulture)} beyond the key count {Binding.KeyCount.ToString(CultureInfo.InvariantCulture)}");
            }

            destination[i] = (long)key + 1;
        }

        return true;
    }
}

/// <summary>Boolean scalar to int64 class index (false = 0, true = 1).</summary>
internal sealed class BoolScalarToIndexReader(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<bool> getter)
    : Int64ColumnReader(binding, policy)
{
    private bool _value;

    public override bool Read(Span<long> destination, long position)
    {
        getter(ref _value);
        destination[0] = _value ? 1 : 0;
        return true;
    }
}

/// <summary>Boolean vector to int64 class indices.</summary>
internal sealed class BoolVectorToIndexReader(ColumnBinding binding, MissingValuePolicy policy, ValueGetter<VBuffer<bool>> getter)
    : Int64ColumnReader(binding, policy)
{
    private VBuffer<bool> _buffer;

    public override bool Read(Span<long> destination, long position)
    {
        getter(ref _buffer);
        CheckLength(_buffer.Length, position);
        var values = _buffer.GetValues();
        if (_buffer.IsDense)
        {
            for (int i = 0; i < values.Length; i++)
            {
                destination[i] = values[i] ? 1 : 0;
            }
        }
        else
        {
            destination.Clear();
            var indices = _buffer.GetIndices();
            for (int i = 0; i < values.Length; i++)
            {
                destination[indices[i]] = values[i] ? 1 : 0;
            }
        }

        return true;
    }
}

/// <summary>Creates the reader for a binding on a cursor; the type was already checked by <see cref="ColumnBinding"/>.</summary>
internal static class ColumnReaderFactory
{
    public static ColumnReader Create(ColumnBinding binding, DataViewRow row, MissingValuePolicy policy)
    {
        var column = row.Schema[binding.SchemaColumn.Index];
        var code = Type.GetTypeCode(binding.ItemType.RawType);
        return binding.Column.Conversion switch
        {
            BatchColumnConversion.Float32 => code switch
            {
                TypeCode.Single => Numeric<float>(binding, row, column, policy),
                TypeCode.Double => Numeric<double>(binding, row, column, policy),
                TypeCode.SByte => Numeric<sbyte>(binding, row, column, policy),
                TypeCode.Byte => Numeric<byte>(binding, row, column, policy),
                TypeCode.Int16 => Numeric<short>(binding, row, column, policy),
                TypeCode.UInt16 => Numeric<ushort>(binding, row, column, policy),
                TypeCode.Int32 => Numeric<int>(binding, row, column, policy),
                TypeCode.UInt32 => Numeric<uint>(binding, row, column, policy),
                TypeCode.Int64 => Numeric<long>(binding, row, column, policy),
                TypeCode.UInt64 => Numeric<ulong>(binding, row, column, policy),
                TypeCode.Boolean => BoolToFloat(binding, row, column, policy),
                _ => throw Unexpected(binding),
            },
            BatchColumnConversion.BinaryTarget => code switch
            {
                TypeCode.Single => Binary<float>(binding, row, column, policy),
                TypeCode.Double => Binary<double>(binding, row, column, policy),
                TypeCode.Boolean => BoolToFloat(binding, row, column, policy),
                _ => throw Unexpected(binding),
            },
            BatchColumnConversion.TokenIds => code switch
            {
                TypeCode.Byte => new KeyVectorToTokenIdsReader<byte>(binding, policy, row.GetGetter<VBuffer<byte>>(column)),
                TypeCode.UInt16 => new KeyVectorToTokenIdsReader<ushort>(binding, policy, row.GetGetter<VBuffer<ushort>>(column)),
                TypeCode.UInt32 => new KeyVectorToTokenIdsReader<uint>(binding, policy, row.GetGetter<VBuffer<uint>>(column)),
                TypeCode.UInt64 => new KeyVectorToTokenIdsReader<ulong>(binding, policy, row.GetGetter<VBuffer<ulong>>(column)),
                _ => throw Unexpected(binding),
            },
            _ => code switch
            {
                TypeCode.Byte => Key<byte>(binding, row, column, policy),
                TypeCode.UInt16 => Key<ushort>(binding, row, column, policy),
                TypeCode.UInt32 => Key<uint>(binding, row, column, policy),
                TypeCode.UInt64 => Key<ulong>(binding, row, column, policy),
                TypeCode.Boolean => binding.IsVector
                    ? new BoolVectorToIndexReader(binding, policy, row.GetGetter<VBuffer<bool>>(column))
                    : new BoolScalarToIndexReader(binding, policy, row.GetGetter<bool>(column)),
                _ => throw Unexpected(binding),
            },
        };
    }

    private static FloatColumnReader Numeric<T>(ColumnBinding binding, DataViewRow row, DataViewSchema.Column column, MissingValuePolicy policy)
        where T : unmanaged, INumberBase<T> =>
        binding.IsVector
            ? new VectorToFloatReader<T>(binding, policy, row.GetGetter<VBuffer<T>>(column))
            : new ScalarToFloatReader<T>(binding, policy, row.GetGetter<T>(column));

    private static FloatColumnReader Binary<T>(ColumnBinding binding, DataViewRow row, DataViewSchema.Column column, MissingValuePolicy policy)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        binding.IsVector
            ? new VectorToBinaryReader<T>(binding, policy, row.GetGetter<VBuffer<T>>(column))
            : new ScalarToBinaryReader<T>(binding, policy, row.GetGetter<T>(column));

    private static FloatColumnReader BoolToFloat(ColumnBinding binding, DataViewRow row, DataViewSchema.Column column, MissingValuePolicy policy) =>
        binding.IsVector
            ? new BoolVectorToFloatReader(binding, policy, row.GetGetter<VBuffer<bool>>(column))
            : new BoolScalarToFloatReader(binding, policy, row.GetGetter<bool>(column));

    private static Int64ColumnReader Key<T>(ColumnBinding binding, DataViewRow row, DataViewSchema.Column column, MissingValuePolicy policy)
        where T : unmanaged, IBinaryInteger<T> =>
        binding.IsVector
            ? new KeyVectorToIndexReader<T>(binding, policy, row.GetGetter<VBuffer<T>>(column))
            : new KeyScalarToIndexReader<T>(binding, policy, row.GetGetter<T>(column));

    private static InvalidOperationException Unexpected(ColumnBinding binding) =>
        new($"Internal error: no reader for {binding.Describe()} of type {binding.SchemaColumn.Type} with {binding.Column.Conversion}.");
}
