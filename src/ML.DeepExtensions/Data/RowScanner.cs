using Microsoft.ML;

namespace ML.DeepExtensions.Data;

/// <summary>
/// One forward pass over the selected rows of a data view: a single cursor over only the bound
/// columns, with one reader per binding. Used by the batch producer and by the statistics pass.
/// </summary>
internal sealed class RowScanner : IDisposable
{
    private readonly DataViewRowCursor _cursor;
    private readonly FloatColumnReader[] _floatReaders;
    private readonly Int64ColumnReader[] _longReaders;
    private readonly int[] _floatWidths;
    private readonly int[] _longWidths;
    private readonly RowSelection _selection;

    public RowScanner(IDataView data, ColumnBinding[] bindings, MissingValuePolicy policy, RowSelection selection)
    {
        _selection = selection;
        var needed = bindings.Select(b => b.SchemaColumn).DistinctBy(c => c.Index).ToArray();
        // No Random: rows come in source order, which the split and the seeded shuffle rely on.
        _cursor = data.GetRowCursor(needed);
        try
        {
            var floats = bindings.Where(b => b.Storage == StorageKind.Float32).OrderBy(b => b.StorageIndex).ToArray();
            var longs = bindings.Where(b => b.Storage == StorageKind.Int64).OrderBy(b => b.StorageIndex).ToArray();
            _floatReaders = floats.Select(b => (FloatColumnReader)ColumnReaderFactory.Create(b, _cursor, policy)).ToArray();
            _longReaders = longs.Select(b => (Int64ColumnReader)ColumnReaderFactory.Create(b, _cursor, policy)).ToArray();
            _floatWidths = floats.Select(b => b.Width).ToArray();
            _longWidths = longs.Select(b => b.Width).ToArray();
        }
        catch
        {
            _cursor.Dispose();
            throw;
        }
    }

    /// <summary>Rows left out because of a missing value (with <see cref="MissingValuePolicy.SkipRow"/>).</summary>
    public long SkippedRows { get; private set; }

    /// <summary>Moves to the next row of the selected subset; values are read only by <see cref="TryRead"/>.</summary>
    public bool MoveNext()
    {
        while (_cursor.MoveNext())
        {
            if (_selection.Accepts(_cursor.Position))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads the current row into row <paramref name="row"/> of the store; false if it is skipped.</summary>
    public bool TryRead(RowStore store, int row)
    {
        long position = _cursor.Position;
        for (int i = 0; i < _floatReaders.Length; i++)
        {
            int width = _floatWidths[i];
            if (!_floatReaders[i].Read(store.Floats[i].AsSpan(row * width, width), position))
            {
                SkippedRows++;
                return false;
            }
        }

        for (int i = 0; i < _longReaders.Length; i++)
        {
            int width = _longWidths[i];
            if (!_longReaders[i].Read(store.Longs[i].AsSpan(row * width, width), position))
            {
                SkippedRows++;
                return false;
            }
        }

        return true;
    }

    public void Dispose() => _cursor.Dispose();
}
