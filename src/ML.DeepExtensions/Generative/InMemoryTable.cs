using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.Generative;

/// <summary>Generated rows as a data view: Single, String and key columns held in arrays.</summary>
internal sealed class InMemoryTable : IDataView
{
    private readonly object[] _values;

    /// <param name="columns">Name, type and values (float[], string[] or uint[] key values, 1-based) of each column.</param>
    /// <param name="keyValues">The key values of each key column by name.</param>
    public InMemoryTable(IReadOnlyList<(string Name, DataViewType Type, object Values)> columns, IReadOnlyDictionary<string, string[]> keyValues)
    {
        var builder = new DataViewSchema.Builder();
        foreach (var (name, type, _) in columns)
        {
            if (type is KeyDataViewType && keyValues.TryGetValue(name, out var names))
            {
                var buffer = new VBuffer<ReadOnlyMemory<char>>(names.Length, names.Select(n => n.AsMemory()).ToArray());
                var annotations = new DataViewSchema.Annotations.Builder();
                annotations.Add(KeyValueNames.AnnotationKind, new VectorDataViewType(TextDataViewType.Instance, names.Length),
                    (ref VBuffer<ReadOnlyMemory<char>> value) => buffer.CopyTo(ref value));
                builder.AddColumn(name, type, annotations.ToAnnotations());
            }
            else
            {
                builder.AddColumn(name, type);
            }
        }

        Schema = builder.ToSchema();
        _values = [.. columns.Select(c => c.Values)];
        RowCount = columns.Count == 0 ? 0 : ((Array)_values[0]).Length;
    }

    public int RowCount { get; }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => RowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(InMemoryTable table) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => table.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override bool MoveNext()
        {
            if (_position + 1 >= table.RowCount)
            {
                _position = table.RowCount;
                return false;
            }

            _position++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            object values = table._values[column.Index];
            Delegate getter = values switch
            {
                float[] numbers => (ValueGetter<float>)((ref float value) => value = numbers[_position]),
                string[] texts => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = texts[_position].AsMemory()),
                uint[] keys => (ValueGetter<uint>)((ref uint value) => value = keys[_position]),
                _ => throw new InvalidOperationException("unreachable"),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");
        }
    }
}
