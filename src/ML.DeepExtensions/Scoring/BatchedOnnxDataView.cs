using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;

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
    private readonly ScorerStage? _stage;

    /// <summary>For each column of <see cref="Schema"/>, the source column it passes through, or -1 for a column computed from the network's output.</summary>
    private readonly int[] _sourceOf;

    /// <summary>The general form: the source's columns and the network's raw output, as the OnnxTransformer gives them.</summary>
    public BatchedOnnxDataView(IDataView source, BatchedSession session, DataViewType outputType)
    {
        _source = source;
        _session = session;
        CheckInput(source, session);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(source.Schema);
        builder.AddColumn(session.Graph.OutputName, outputType);
        Schema = builder.ToSchema();
        _sourceOf = [.. Enumerable.Range(0, source.Schema.Count), -1];
    }

    /// <summary>
    /// The network and the scorer stage after it in one: <paramref name="schema"/> is the stage's output
    /// schema as ML.NET computes it, <paramref name="sourceOf"/> maps its columns to the source's (see <see cref="ScorerStage.Bind"/>).
    /// </summary>
    public BatchedOnnxDataView(IDataView source, BatchedSession session, ScorerStage stage, DataViewSchema schema, int[] sourceOf)
    {
        _source = source;
        _session = session;
        _stage = stage;
        CheckInput(source, session);
        if (stage.Task == DeployableOnnx.Task.Multiclass && session.Graph.SoftmaxName is null)
        {
            throw new InvalidOperationException("A multiclass scorer stage reads the softmax output of BatchedOnnxGraph.WithSoftmax; the session's graph has none.");
        }

        Schema = schema;
        _sourceOf = sourceOf;
    }

    private static void CheckInput(IDataView source, BatchedSession session)
    {
        var input = source.Schema.GetColumnOrNull(session.Graph.InputName)
            ?? throw new ArgumentException(
                $"The data has no column '{session.Graph.InputName}', which the network reads (a vector of {session.Graph.InputWidth} Single values).", nameof(source));
        if (input.Type is not VectorDataViewType { ItemType: NumberDataViewType vectorItem } vector || vectorItem != NumberDataViewType.Single || vector.Size != session.Graph.InputWidth)
        {
            throw new ArgumentException(
                $"Column '{input.Name}' is {input.Type}, but the network reads a vector of {session.Graph.InputWidth} Single values.", nameof(source));
        }
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        bool computed = needed.Any(i => _sourceOf[i] < 0);
        var passThrough = needed.Where(i => _sourceOf[i] >= 0).Select(i => _source.Schema[_sourceOf[i]]).OrderBy(c => c.Index).ToList();
        var requested = passThrough.ToList();
        var features = _source.Schema[_session.Graph.InputName];
        if (computed && !requested.Any(c => c.Index == features.Index))
        {
            requested.Add(features);
        }

        return new Cursor(this, _source.GetRowCursor(requested), passThrough, computed ? features : null);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchedOnnxDataView _parent;
        private readonly DataViewRowCursor _source;

        /// <summary>Buffers by source column index; <see cref="_stores"/> holds the same, for the per-row loop.</summary>
        private readonly Dictionary<int, ColumnBuffer> _buffers = [];
        private readonly ColumnBuffer[] _stores;
        private readonly ValueGetter<DataViewRowId> _sourceId;
        private readonly DataViewRowId[] _ids;
        private readonly ValueGetter<VBuffer<float>>? _features;
        private readonly BatchedSession.Buffers? _batch;

        // The scorer stage's columns for the current batch.
        private readonly float[] _scores = [];
        private readonly uint[] _keys = [];
        private readonly bool[] _predicted = [];
        private readonly float[] _probabilities = [];
        private VBuffer<float> _row;
        private int _count;
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

            _stores = [.. _buffers.Values];
            _sourceId = source.GetIdGetter();
            _ids = new DataViewRowId[batchSize];
            if (features is { } f)
            {
                _features = source.GetGetter<VBuffer<float>>(f);
                _batch = parent._session.CreateBuffers();
                if (parent._stage is { } stage)
                {
                    // Multiclass scores are the graph's softmax output, corrected in place.
                    _scores = stage.Task == DeployableOnnx.Task.Multiclass ? _batch.Softmax : new float[batchSize];
                    if (stage.Task == DeployableOnnx.Task.Multiclass)
                    {
                        _keys = new uint[batchSize];
                    }
                    else if (stage.Task == DeployableOnnx.Task.Binary)
                    {
                        _predicted = new bool[batchSize];
                        _probabilities = new float[batchSize];
                    }
                }
            }
        }

        /// <summary>The current row's place in the batch.</summary>
        internal int Index { get; private set; } = -1;

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = _ids[Index];

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            _parent._sourceOf[column.Index] is int source && (source < 0 ? _features is not null : _buffers.ContainsKey(source));

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int source = _parent._sourceOf[column.Index];
            if (source >= 0)
            {
                return _buffers.TryGetValue(source, out var buffer)
                    ? buffer.Getter<TValue>(this)
                    : throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was opened.");
            }

            if (_batch is not { } batch)
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was opened.");
            }

            Delegate getter = _parent._stage is null
                ? Vector(batch.Output, (int)_parent._session.Graph.OutputWidth)
                : column.Name switch
                {
                    ColumnNames.Score when _parent._stage.Task == DeployableOnnx.Task.Multiclass => Vector(_scores, _parent._stage.Classes),
                    ColumnNames.Score => (ValueGetter<float>)((ref float value) => value = _scores[Index]),
                    ColumnNames.PredictedLabel when _parent._stage.Task == DeployableOnnx.Task.Multiclass => (ValueGetter<uint>)((ref uint value) => value = _keys[Index]),
                    ColumnNames.PredictedLabel => (ValueGetter<bool>)((ref bool value) => value = _predicted[Index]),
                    ColumnNames.Probability => (ValueGetter<float>)((ref float value) => value = _probabilities[Index]),
                    _ => throw new InvalidOperationException($"Column '{column.Name}' is not one the scorer stage computes."),
                };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type.RawType.Name}, not {typeof(TValue).Name}.");
        }

        private ValueGetter<VBuffer<float>> Vector(float[] values, int width) => (ref VBuffer<float> value) =>
        {
            var editor = VBufferEditor.Create(ref value, width);
            values.AsSpan(Index * width, width).CopyTo(editor.Values);
            value = editor.Commit();
        };

        public override bool MoveNext()
        {
            if (Index + 1 < _count)
            {
                Index++;
                _position++;
                return true;
            }

            if (_sourceDone || !Fill())
            {
                _count = 0;
                Index = -1;
                return false;
            }

            Index = 0;
            _position++;
            return true;
        }

        private bool Fill()
        {
            int batchSize = _ids.Length;
            int width = (int)_parent._session.Graph.InputWidth;
            var stores = _stores;
            _count = 0;
            while (_count < batchSize)
            {
                if (!_source.MoveNext())
                {
                    _sourceDone = true;
                    break;
                }

                for (int i = 0; i < stores.Length; i++)
                {
                    stores[i].Store(_count);
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
                Score(_batch.Output, _count);
            }

            return _count > 0;
        }

        /// <summary>The scorer stage's columns for the batch just run.</summary>
        private void Score(float[] output, int rows)
        {
            if (_parent._stage is not { } stage)
            {
                return;
            }

            if (stage.Task == DeployableOnnx.Task.Multiclass)
            {
                stage.Multiclass(output, rows, _scores, _keys);
                return;
            }

            for (int r = 0; r < rows; r++)
            {
                float score = stage.Score(output[r]);
                _scores[r] = score;
                if (stage.Task == DeployableOnnx.Task.Binary)
                {
                    _predicted[r] = stage.Predicted(score);
                    _probabilities[r] = stage.Probability(score);
                }
            }
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

        public abstract ValueGetter<TValue> Getter<TValue>(Cursor cursor);

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

        public override ValueGetter<TValue> Getter<TValue>(Cursor cursor)
        {
            ValueGetter<T> getter = (ref T value) => value = _values[cursor.Index];
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }

    private sealed class VectorBuffer<T>(DataViewRow source, DataViewSchema.Column column, int size) : ColumnBuffer
    {
        private readonly ValueGetter<VBuffer<T>> _getter = source.GetGetter<VBuffer<T>>(column);
        private readonly VBuffer<T>[] _values = new VBuffer<T>[size];

        public override void Store(int slot) => _getter(ref _values[slot]);

        public override ValueGetter<TValue> Getter<TValue>(Cursor cursor)
        {
            ValueGetter<VBuffer<T>> getter = (ref VBuffer<T> value) => _values[cursor.Index].CopyTo(ref value);
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }
}
