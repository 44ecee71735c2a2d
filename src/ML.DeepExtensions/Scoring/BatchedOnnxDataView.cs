using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// The data view an OnnxTransformer would produce, with the network evaluated in batches: the
/// source's columns pass through and the network's raw output is appended. A cursor reads up to
/// one batch of rows ahead, keeps the values of the columns asked for, runs ONNX Runtime once for
/// the batch, then serves the rows one by one, so memory stays at one batch per cursor.
/// </summary>
internal sealed class BatchedOnnxDataView : IDataView
{
    private readonly IDataView _source;
    private readonly BatchedSession _session;
    private readonly int _outputIndex;

    public BatchedOnnxDataView(IDataView source, BatchedSession session, DataViewType outputType)
    {
        _source = source;
        _session = session;
        var input = source.Schema.GetColumnOrNull(session.Graph.InputName)
            ?? throw new ArgumentException(
                $"The data has no column '{session.Graph.InputName}', which the network reads (a vector of {session.Graph.InputWidth} Single values).", nameof(source));
        if (input.Type is not VectorDataViewType { ItemType: NumberDataViewType vectorItem } vector || vectorItem != NumberDataViewType.Single || vector.Size != session.Graph.InputWidth)
        {
            throw new ArgumentException(
                $"Column '{input.Name}' is {input.Type}, but the network reads a vector of {session.Graph.InputWidth} Single values.", nameof(source));
        }

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(source.Schema);
        builder.AddColumn(session.Graph.OutputName, outputType);
        Schema = builder.ToSchema();
        _outputIndex = source.Schema.Count;
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        bool output = needed.Contains(_outputIndex);
        var sourceColumns = _source.Schema.Where(c => needed.Contains(c.Index)).ToList();
        var requested = sourceColumns.ToList();
        var features = _source.Schema[_session.Graph.InputName];
        if (output && !requested.Any(c => c.Index == features.Index))
        {
            requested.Add(features);
        }

        return new Cursor(this, _source.GetRowCursor(requested), sourceColumns, output ? features : null);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchedOnnxDataView _parent;
        private readonly DataViewRowCursor _source;
        private readonly Dictionary<int, ColumnBuffer> _buffers = [];
        private readonly ValueGetter<DataViewRowId> _sourceId;
        private readonly DataViewRowId[] _ids;
        private readonly ValueGetter<VBuffer<float>>? _features;
        private readonly BatchedSession.Buffers? _batch;
        private VBuffer<float> _row;
        private int _count;
        private int _index = -1;
        private long _position = -1;
        private bool _sourceDone;

        public Cursor(BatchedOnnxDataView parent, DataViewRowCursor source, List<DataViewSchema.Column> passThrough, DataViewSchema.Column? features)
        {
            _parent = parent;
            _source = source;
            int batchSize = parent._session.BatchSize;
            foreach (var column in passThrough)
            {
                _buffers[column.Index] = ColumnBuffer.Create(source, column, batchSize);
            }

            _sourceId = source.GetIdGetter();
            _ids = new DataViewRowId[batchSize];
            if (features is { } f)
            {
                _features = source.GetGetter<VBuffer<float>>(f);
                _batch = parent._session.CreateBuffers();
            }
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = _ids[_index];

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == _parent._outputIndex ? _features is not null : _buffers.ContainsKey(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index == _parent._outputIndex && _batch is { } batch)
            {
                int width = (int)_parent._session.Graph.OutputWidth;
                ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, width);
                    batch.Output.AsSpan(_index * width, width).CopyTo(editor.Values);
                    value = editor.Commit();
                };
                return getter as ValueGetter<TValue>
                    ?? throw new InvalidOperationException($"Column '{column.Name}' is VBuffer<Single>, not {typeof(TValue).Name}.");
            }

            if (_buffers.TryGetValue(column.Index, out var buffer))
            {
                return buffer.Getter<TValue>(() => _index);
            }

            throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was opened.");
        }

        public override bool MoveNext()
        {
            if (_index + 1 < _count)
            {
                _index++;
                _position++;
                return true;
            }

            if (_sourceDone || !Fill())
            {
                _count = 0;
                _index = -1;
                return false;
            }

            _index = 0;
            _position++;
            return true;
        }

        private bool Fill()
        {
            int batchSize = _ids.Length;
            int width = (int)_parent._session.Graph.InputWidth;
            _count = 0;
            while (_count < batchSize)
            {
                if (!_source.MoveNext())
                {
                    _sourceDone = true;
                    break;
                }

                foreach (var buffer in _buffers.Values)
                {
                    buffer.Store(_count);
                }

                _sourceId(ref _ids[_count]);
                if (_features is not null)
                {
                    _features(ref _row);
                    if (_row.Length != width)
                    {
                        throw new InvalidOperationException(
                            $"Row {_source.Position} of column '{_parent._session.Graph.InputName}' has {_row.Length} values; the network reads {width}.");
                    }

                    _row.CopyTo(_batch!.Input.AsSpan(_count * width, width));
                }

                _count++;
            }

            if (_count > 0 && _batch is not null)
            {
                _parent._session.Run(_batch, _count);
            }

            return _count > 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _batch?.Dispose();
                _source.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>One batch worth of a source column's values, copied so they outlive the source cursor's row.</summary>
    private abstract class ColumnBuffer
    {
        public abstract void Store(int slot);

        public abstract ValueGetter<TValue> Getter<TValue>(Func<int> slot);

        public static ColumnBuffer Create(DataViewRow source, DataViewSchema.Column column, int size)
        {
            var raw = column.Type.RawType;
            // Text (ReadOnlyMemory<char>) is kept as given: ML.NET treats such values as immutable, so
            // its own buffering keeps them by reference too, and consumers may hold them past the row.
            Type bufferType;
            if (raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>))
            {
                bufferType = typeof(VectorBuffer<>).MakeGenericType(raw.GetGenericArguments()[0]);
            }
            else
            {
                bufferType = typeof(ValueBuffer<>).MakeGenericType(raw);
            }

            return (ColumnBuffer)Activator.CreateInstance(bufferType, source, column, size)!;
        }
    }

    private sealed class ValueBuffer<T>(DataViewRow source, DataViewSchema.Column column, int size) : ColumnBuffer
    {
        private readonly ValueGetter<T> _getter = source.GetGetter<T>(column);
        private readonly T[] _values = new T[size];

        public override void Store(int slot) => _getter(ref _values[slot]);

        public override ValueGetter<TValue> Getter<TValue>(Func<int> slot)
        {
            ValueGetter<T> getter = (ref T value) => value = _values[slot()];
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }

    private sealed class VectorBuffer<T>(DataViewRow source, DataViewSchema.Column column, int size) : ColumnBuffer
    {
        private readonly ValueGetter<VBuffer<T>> _getter = source.GetGetter<VBuffer<T>>(column);
        private readonly VBuffer<T>[] _values = new VBuffer<T>[size];

        public override void Store(int slot) => _getter(ref _values[slot]);

        public override ValueGetter<TValue> Getter<TValue>(Func<int> slot)
        {
            ValueGetter<VBuffer<T>> getter = (ref VBuffer<T> value) => _values[slot()].CopyTo(ref value);
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }
}
