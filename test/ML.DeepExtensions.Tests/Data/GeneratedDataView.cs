using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Tests.Data;

/// <summary>Fills a value for a row; vector fillers reuse the VBuffer they are given.</summary>
internal delegate void RowFiller<T>(long row, ref T value);

/// <summary>One column of a <see cref="GeneratedDataView"/>.</summary>
internal abstract class GeneratedColumn(string name, DataViewType type)
{
    public string Name { get; } = name;

    public DataViewType Type { get; } = type;

    public abstract Delegate CreateGetter(DataViewRow cursor);

    public static GeneratedColumn Scalar<T>(string name, DataViewType type, Func<long, T> value) =>
        new GeneratedColumn<T>(name, type, (long row, ref T v) => v = value(row));

    /// <summary>A dense known-size vector filled in place, without allocating per row.</summary>
    public static GeneratedColumn Dense<T>(string name, PrimitiveDataViewType itemType, int size, Action<long, Span<T>> fill) =>
        new GeneratedColumn<VBuffer<T>>(name, new VectorDataViewType(itemType, size), (long row, ref VBuffer<T> v) =>
        {
            var editor = VBufferEditor.Create(ref v, size);
            fill(row, editor.Values);
            v = editor.Commit();
        });

    /// <summary>A sparse known-size vector: the filler returns the explicit (index, value) pairs.</summary>
    public static GeneratedColumn Sparse<T>(string name, PrimitiveDataViewType itemType, int size, Func<long, (int Index, T Value)[]> entries) =>
        new GeneratedColumn<VBuffer<T>>(name, new VectorDataViewType(itemType, size), (long row, ref VBuffer<T> v) =>
        {
            var pairs = entries(row);
            v = new VBuffer<T>(size, pairs.Length, pairs.Select(p => p.Value).ToArray(), pairs.Select(p => p.Index).ToArray());
        });

    /// <summary>A column whose getter must never be requested.</summary>
    public static GeneratedColumn Forbidden(string name) =>
        new GeneratedColumn<float>(name, NumberDataViewType.Single, (long row, ref float v) => throw new InvalidOperationException($"Column '{name}' was read."));
}

internal sealed class GeneratedColumn<T>(string name, DataViewType type, RowFiller<T> filler) : GeneratedColumn(name, type)
{
    public override Delegate CreateGetter(DataViewRow cursor) =>
        new ValueGetter<T>((ref T value) => filler(cursor.Position, ref value));
}

/// <summary>
/// An IDataView whose rows are computed on demand (nothing is stored), instrumented for tests:
/// rows produced, cursors open, the thread and columns of the last cursor, and a per-row hook
/// that can throw or block.
/// </summary>
internal sealed class GeneratedDataView : IDataView
{
    private readonly GeneratedColumn[] _columns;
    private readonly long _rows;
    private long _rowsProduced;
    private int _openCursors;
    private int _cursorsOpened;

    public GeneratedDataView(long rows, params GeneratedColumn[] columns)
    {
        _rows = rows;
        _columns = columns;
        var builder = new DataViewSchema.Builder();
        foreach (var column in columns)
        {
            builder.AddColumn(column.Name, column.Type);
        }

        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    /// <summary>Whether <see cref="GetRowCount"/> reports the count (lazy sources often cannot).</summary>
    public bool ReportsRowCount { get; init; } = true;

    /// <summary>Called in MoveNext with the new row position, before the row is counted.</summary>
    public Action<long>? BeforeRow { get; init; }

    public long RowsProduced => Interlocked.Read(ref _rowsProduced);

    public int OpenCursors => Volatile.Read(ref _openCursors);

    public int CursorsOpened => Volatile.Read(ref _cursorsOpened);

    public Thread? LastCursorThread { get; private set; }

    public bool LastCursorThreadWasBackground { get; private set; }

    public IReadOnlyList<string>? LastRequestedColumns { get; private set; }

    public long? GetRowCount() => ReportsRowCount ? _rows : null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        LastRequestedColumns = needed.Select(c => c.Name).ToArray();
        LastCursorThread = Thread.CurrentThread;
        LastCursorThreadWasBackground = Thread.CurrentThread.IsBackground;
        Interlocked.Increment(ref _openCursors);
        Interlocked.Increment(ref _cursorsOpened);
        return new Cursor(this, needed);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly GeneratedDataView _view;
        private readonly bool[] _active;
        private long _position = -1;
        private bool _disposed;

        public Cursor(GeneratedDataView view, DataViewSchema.Column[] needed)
        {
            _view = view;
            _active = new bool[view._columns.Length];
            foreach (var column in needed)
            {
                _active[column.Index] = true;
            }
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_position + 1 >= _view._rows)
            {
                return false;
            }

            _position++;
            _view.BeforeRow?.Invoke(_position);
            Interlocked.Increment(ref _view._rowsProduced);
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            _active[column.Index]
                ? (ValueGetter<TValue>)_view._columns[column.Index].CreateGetter(this)
                : throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");

        protected override void Dispose(bool disposing)
        {
            if (!_disposed)
            {
                _disposed = true;
                Interlocked.Decrement(ref _view._openCursors);
            }

            base.Dispose(disposing);
        }
    }
}
