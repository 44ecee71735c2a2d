namespace ML.DeepExtensions.Data;

/// <summary>
/// Rows stored compactly: one flat array per bound column (row-major, <c>Width</c> values per row),
/// so buffering a row costs no allocation. Used for batches, the shuffle buffer and statistics.
/// </summary>
internal sealed class RowStore
{
    private readonly int[] _floatWidths;
    private readonly int[] _longWidths;

    public RowStore(ColumnBinding[] bindings, int capacity)
    {
        _floatWidths = bindings.Where(b => b.Storage == StorageKind.Float32).OrderBy(b => b.StorageIndex).Select(b => b.Width).ToArray();
        _longWidths = bindings.Where(b => b.Storage == StorageKind.Int64).OrderBy(b => b.StorageIndex).Select(b => b.Width).ToArray();
        Floats = new float[_floatWidths.Length][];
        Longs = new long[_longWidths.Length][];
        Capacity = 0;
        EnsureCapacity(capacity);
    }

    /// <summary>One array per float32 binding, indexed by <see cref="ColumnBinding.StorageIndex"/>.</summary>
    public float[][] Floats { get; }

    /// <summary>One array per int64 binding, indexed by <see cref="ColumnBinding.StorageIndex"/>.</summary>
    public long[][] Longs { get; }

    public int[] FloatWidths => _floatWidths;

    public int[] LongWidths => _longWidths;

    /// <summary>Rows the arrays can hold.</summary>
    public int Capacity { get; private set; }

    /// <summary>Rows in use (batches fill from the front).</summary>
    public int Count { get; set; }

    /// <summary>Grows the arrays (doubling, but not beyond <paramref name="limit"/>) so that <paramref name="rows"/> rows fit.</summary>
    public void EnsureCapacity(int rows, int limit = int.MaxValue)
    {
        if (rows <= Capacity)
        {
            return;
        }

        int target = Math.Max(rows, (int)Math.Min(Math.Max(limit, rows), 2L * Capacity));
        for (int i = 0; i < Floats.Length; i++)
        {
            var grown = new float[checked(target * _floatWidths[i])];
            Floats[i]?.AsSpan().CopyTo(grown);
            Floats[i] = grown;
        }

        for (int i = 0; i < Longs.Length; i++)
        {
            var grown = new long[checked(target * _longWidths[i])];
            Longs[i]?.AsSpan().CopyTo(grown);
            Longs[i] = grown;
        }

        Capacity = target;
    }

    /// <summary>Copies row <paramref name="sourceRow"/> of <paramref name="source"/> (same layout) into row <paramref name="row"/>.</summary>
    public void CopyRowFrom(RowStore source, int sourceRow, int row)
    {
        for (int i = 0; i < Floats.Length; i++)
        {
            int w = _floatWidths[i];
            source.Floats[i].AsSpan(sourceRow * w, w).CopyTo(Floats[i].AsSpan(row * w, w));
        }

        for (int i = 0; i < Longs.Length; i++)
        {
            int w = _longWidths[i];
            source.Longs[i].AsSpan(sourceRow * w, w).CopyTo(Longs[i].AsSpan(row * w, w));
        }
    }
}
