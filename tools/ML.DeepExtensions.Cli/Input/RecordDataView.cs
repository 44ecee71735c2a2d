using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Cli.Input;

/// <summary>Where bad records go when the user asked to skip them (--reject-file).</summary>
internal sealed class RejectSink(TextWriter writer, string header) : IDisposable
{
    private bool _headerWritten;

    public long Count { get; private set; }

    public List<string> FirstMessages { get; } = [];

    public void Write(string rawRecord, string message)
    {
        if (!_headerWritten)
        {
            writer.WriteLine(header);
            _headerWritten = true;
        }

        writer.WriteLine(rawRecord);
        Count++;
        if (FirstMessages.Count < 5)
        {
            FirstMessages.Add(message);
        }
    }

    private bool _disposed;

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            writer.Dispose();
        }
    }
}

/// <summary>
/// The input file as an ML.NET data view: one forward pass, the planned columns typed as the model
/// expects. Rows outside this shard are skipped unparsed; bad rows stop the run with a message
/// naming the line and column, or go to the reject sink.
/// </summary>
internal sealed class RecordDataView : IDataView
{
    private readonly Func<RecordReader> _open;
    private readonly IReadOnlyList<PlannedColumn> _plan;
    private readonly string _path;
    private readonly (int Index, int Count) _shard;
    private readonly RejectSink? _rejects;
    private bool _opened;

    public RecordDataView(Func<RecordReader> open, IReadOnlyList<PlannedColumn> plan, string path, (int Index, int Count) shard, RejectSink? rejects)
    {
        _open = open;
        _plan = plan;
        _path = path;
        _shard = shard;
        _rejects = rejects;
        var builder = new DataViewSchema.Builder();
        foreach (var column in plan)
        {
            builder.AddColumn(column.Name, column.Type);
        }

        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    /// <summary>The reader of the open cursor, for progress.</summary>
    public RecordReader? Reader { get; private set; }

    /// <summary>Rows this shard passed on to scoring.</summary>
    public long RowsRead { get; private set; }

    public long? GetRowCount() => null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        // One pass over a stream: a second cursor would read the file again (and duplicate rejects).
        if (_opened)
        {
            throw new InvalidOperationException("The input file is read once; a second pass was requested.");
        }

        _opened = true;
        Reader = _open();
        return new Cursor(this, Reader);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly RecordDataView _parent;
        private readonly RecordReader _reader;
        private readonly float[] _singles;
        private readonly double[] _doubles;
        private readonly bool[] _booleans;
        private readonly string[] _texts;
        private readonly float[][] _singleVectors;
        private readonly double[][] _doubleVectors;
        private long _position = -1;

        public Cursor(RecordDataView parent, RecordReader reader)
        {
            _parent = parent;
            _reader = reader;
            int n = parent._plan.Count;
            _singles = new float[n];
            _doubles = new double[n];
            _booleans = new bool[n];
            _texts = new string[n];
            _singleVectors = parent._plan.Select(p => p.Kind == ValueKind.SingleVector ? new float[p.Fields.Length] : []).ToArray();
            _doubleVectors = parent._plan.Select(p => p.Kind == ValueKind.DoubleVector ? new double[p.Fields.Length] : []).ToArray();
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_reader.RecordIndex, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int c = column.Index;
            Delegate getter = _parent._plan[c].Kind switch
            {
                ValueKind.Single => (ValueGetter<float>)((ref float v) => v = _singles[c]),
                ValueKind.Double => (ValueGetter<double>)((ref double v) => v = _doubles[c]),
                ValueKind.Boolean => (ValueGetter<bool>)((ref bool v) => v = _booleans[c]),
                ValueKind.Text => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = _texts[c].AsMemory()),
                ValueKind.SingleVector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) => Copy(_singleVectors[c], ref v)),
                _ => (ValueGetter<VBuffer<double>>)((ref VBuffer<double> v) => Copy(_doubleVectors[c], ref v)),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");
        }

        public override bool MoveNext()
        {
            var (shard, shards) = _parent._shard;
            while (_reader.MoveNext())
            {
                if (_reader.RecordIndex % shards != shard)
                {
                    continue;
                }

                string? problem = _reader.Problem ?? Parse();
                if (problem is not null)
                {
                    if (_parent._rejects is { } rejects)
                    {
                        rejects.Write(_reader.RawRecord, problem);
                        continue;
                    }

                    throw CliException.Input(problem + (_parent._rejects is null ? ". Fix the row, or pass --reject-file to skip bad rows into a file." : "."));
                }

                _position++;
                _parent.RowsRead++;
                return true;
            }

            return false;
        }

        /// <summary>Parses the planned fields of the current record; returns a message naming the line and column on failure.</summary>
        private string? Parse()
        {
            var plan = _parent._plan;
            for (int c = 0; c < plan.Count; c++)
            {
                var column = plan[c];
                var fields = column.Fields;
                switch (column.Kind)
                {
                    case ValueKind.Single:
                        if (!_reader.TryGetSingle(fields[0], out _singles[c]))
                        {
                            return Bad(fields[0], "a number");
                        }

                        break;
                    case ValueKind.Double:
                        if (!_reader.TryGetDouble(fields[0], out _doubles[c]))
                        {
                            return Bad(fields[0], "a number");
                        }

                        break;
                    case ValueKind.Boolean:
                        if (!_reader.TryGetBoolean(fields[0], out _booleans[c]))
                        {
                            return Bad(fields[0], "true, false, 1 or 0");
                        }

                        break;
                    case ValueKind.Text:
                        _texts[c] = _reader.GetText(fields[0]);
                        break;
                    case ValueKind.SingleVector:
                        var singles = _singleVectors[c];
                        for (int i = 0; i < fields.Length; i++)
                        {
                            if (!_reader.TryGetSingle(fields[i], out singles[i]))
                            {
                                return Bad(fields[i], "a number");
                            }
                        }

                        break;
                    default:
                        var doubles = _doubleVectors[c];
                        for (int i = 0; i < fields.Length; i++)
                        {
                            if (!_reader.TryGetDouble(fields[i], out doubles[i]))
                            {
                                return Bad(fields[i], "a number");
                            }
                        }

                        break;
                }
            }

            return null;
        }

        private string Bad(int field, string expected) =>
            $"{char.ToUpperInvariant(_reader.Where[0])}{_reader.Where[1..]} of '{_parent._path}', column '{_reader.Columns[field]}' (column {field + 1}): {_reader.Show(field)} is not {expected}";

        private static void Copy<T>(T[] values, ref VBuffer<T> destination)
        {
            var editor = VBufferEditor.Create(ref destination, values.Length);
            values.AsSpan().CopyTo(editor.Values);
            destination = editor.Commit();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _reader.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
