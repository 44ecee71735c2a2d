namespace ML.DeepExtensions.Data;

/// <summary>
/// Rows stored compactly: one flat array per bound column (row-major, <c>Width</c> values per row),
/// so buffering a row costs no allocation. Holds the reader's row slots (shuffle buffer and batches
/// in flight) and the single row of a statistics pass.
/// </summary>
/// <remarks>
/// Only the reader thread writes and grows a store; the consumer reads rows of published batches.
/// Growth copies the rows into new arrays and then publishes them with a release write, and readers
/// use <see cref="FloatColumn"/> / <see cref="Int64Column"/> (acquire reads), so either array they
/// see holds the published rows.
/// </remarks>
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

    /// <summary>The current array of a float32 binding, safe to call from the consumer thread.</summary>
    public float[] FloatColumn(int index) => Volatile.Read(ref Floats[index]);

    /// <summary>The current array of an int64 binding, safe to call from the consumer thread.</summary>
    public long[] Int64Column(int index) => Volatile.Read(ref Longs[index]);

    /// <summary>Rows the arrays can hold.</summary>
    public int Capacity { get; private set; }

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
            Volatile.Write(ref Floats[i], grown);
        }

        for (int i = 0; i < Longs.Length; i++)
        {
            var grown = new long[checked(target * _longWidths[i])];
            Longs[i]?.AsSpan().CopyTo(grown);
            Volatile.Write(ref Longs[i], grown);
        }

        Capacity = target;
    }
}
