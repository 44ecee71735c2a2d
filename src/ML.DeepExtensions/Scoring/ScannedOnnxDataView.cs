using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace ML.DeepExtensions.Scoring;

/// <summary>An ONNX Runtime session over a <see cref="ScannedGraph"/>; thread-safe, shared by every cursor.</summary>
internal sealed class ScannedSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    public ScannedSession(ScannedGraph graph, int batchSize, int? intraOpThreads)
    {
        Graph = graph;
        BatchSize = batchSize;
        using var options = BatchedSession.CreateOptions(intraOpThreads);
        _session = new InferenceSession(graph.ToBytes(), options);
        _inputNames = [.. Enumerable.Range(0, graph.Inputs.Count).Select(i => $"scan_input_{i}")];
        _outputNames = [.. Enumerable.Range(0, graph.Outputs.Count).Select(j => $"scan_output_{j}")];
    }

    public ScannedGraph Graph { get; }

    public int BatchSize { get; }

    /// <summary>Runs the first <paramref name="rows"/> rows of <paramref name="inputs"/> (float[] or uint[] per input) into <paramref name="outputs"/>.</summary>
    public void Run(Array[] inputs, float[][] outputs, int rows)
    {
        var feeds = new OrtValue[inputs.Length];
        var fetches = new OrtValue[outputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                var tensor = Graph.Inputs[i];
                long[] shape = [rows, .. tensor.Shape];
                int length = rows * tensor.Width;
                feeds[i] = inputs[i] is uint[] keys
                    ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, keys.AsMemory(0, length), shape)
                    : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ((float[])inputs[i]).AsMemory(0, length), shape);
            }

            for (int j = 0; j < outputs.Length; j++)
            {
                var tensor = Graph.Outputs[j];
                fetches[j] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, outputs[j].AsMemory(0, rows * tensor.Width), [rows, .. tensor.Shape]);
            }

            using var runOptions = new RunOptions();
            _session.Run(runOptions, _inputNames, feeds, _outputNames, fetches);
        }
        finally
        {
            foreach (var value in feeds.Concat(fetches))
            {
                value?.Dispose();
            }
        }
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// The data view ML.NET's OnnxTransformer would produce for a per-row graph run as a
/// <see cref="ScannedGraph"/>: the source's columns pass through and the graph's outputs are
/// appended, with the schema the OnnxTransformer itself gives (names, types, dimensions). A cursor
/// reads a batch of rows, runs ONNX Runtime once, then serves the rows one by one.
/// </summary>
internal sealed class ScannedOnnxDataView : IDataView
{
    private readonly IDataView _source;
    private readonly ScannedSession _session;

    /// <summary>For each column of <see cref="Schema"/>, the source column it passes through, or −1 − j for output j.</summary>
    private readonly int[] _sourceOf;

    /// <param name="source">The data the OnnxTransformer would read.</param>
    /// <param name="session">The session over the scanned graph.</param>
    /// <param name="schema">The OnnxTransformer's output schema for <paramref name="source"/>.</param>
    public ScannedOnnxDataView(IDataView source, ScannedSession session, DataViewSchema schema)
    {
        _source = source;
        _session = session;
        Schema = schema;
        foreach (var input in session.Graph.Inputs)
        {
            CheckInput(source.Schema, input);
        }

        _sourceOf = new int[schema.Count];
        for (int c = 0; c < schema.Count; c++)
        {
            int output = session.Graph.Outputs.ToList().FindIndex(o => o.Name == schema[c].Name);
            bool computed = output >= 0 && (c >= source.Schema.Count || source.Schema[c].Name != schema[c].Name);
            _sourceOf[c] = computed ? -1 - output : c;
        }
    }

    private static void CheckInput(DataViewSchema schema, RowTensor input)
    {
        var column = schema.GetColumnOrNull(input.Name)
            ?? throw new ArgumentException($"The data has no column '{input.Name}', which the network reads ({input.Width} {(input.IsKey ? "key" : "Single")} values).");
        var item = column.Type is VectorDataViewType v ? v.ItemType : column.Type;
        int size = column.Type is VectorDataViewType vector ? vector.Size : 1;
        bool typeFits = input.IsKey ? item.RawType == typeof(uint) : item == NumberDataViewType.Single;
        if (!typeFits || size != input.Width)
        {
            throw new ArgumentException($"Column '{input.Name}' is {column.Type}, but the network reads {input.Width} {(input.IsKey ? "UInt32 key" : "Single")} values.");
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
        var inputs = computed ? _session.Graph.Inputs.Select(i => _source.Schema[i.Name]).ToList() : [];
        var source = _source.GetRowCursor(passThrough.Concat(inputs).DistinctBy(c => c.Index));
        return new Cursor(this, source, passThrough, computed);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor, IBatchRow
    {
        private readonly ScannedOnnxDataView _parent;
        private readonly DataViewRowCursor _source;
        private readonly ColumnCopy[] _copies;
        private readonly Array[] _columns;
        private readonly Dictionary<int, int> _slots;
        private readonly ValueGetter<DataViewRowId> _sourceId;
        private readonly DataViewRowId[] _ids;
        private readonly Action<int>[] _readInputs = [];
        private readonly Array[] _inputs = [];
        private readonly float[][] _outputs = [];
        private readonly bool _computed;
        private int _count;
        private int _index = -1;
        private long _position = -1;
        private bool _done;

        public Cursor(ScannedOnnxDataView parent, DataViewRowCursor source, List<DataViewSchema.Column> passThrough, bool computed)
        {
            _parent = parent;
            _source = source;
            _computed = computed;
            int batchSize = parent._session.BatchSize;
            _copies = [.. passThrough.Select(c => ColumnCopy.Create(source, c))];
            _columns = [.. _copies.Select(c => c.NewStorage(batchSize))];
            _slots = passThrough.Select((c, slot) => (c.Index, slot)).ToDictionary(p => p.Index, p => p.slot);
            _sourceId = source.GetIdGetter();
            _ids = new DataViewRowId[batchSize];
            if (computed)
            {
                var graph = parent._session.Graph;
                _inputs = [.. graph.Inputs.Select(i => i.IsKey ? (Array)new uint[batchSize * i.Width] : new float[batchSize * i.Width])];
                _readInputs = [.. graph.Inputs.Select((input, i) => InputReader(source, input, _inputs[i]))];
                _outputs = [.. graph.Outputs.Select(o => new float[batchSize * o.Width])];
            }
        }

        private static Action<int> InputReader(DataViewRowCursor source, RowTensor input, Array buffer)
        {
            var column = source.Schema[input.Name];
            int width = input.Width;
            bool vector = column.Type is VectorDataViewType;
            return input.IsKey
                ? vector ? VectorReader<uint>(source, column, (uint[])buffer, width) : ScalarReader<uint>(source, column, (uint[])buffer)
                : vector ? VectorReader<float>(source, column, (float[])buffer, width) : ScalarReader<float>(source, column, (float[])buffer);
        }

        private static Action<int> ScalarReader<T>(DataViewRowCursor source, DataViewSchema.Column column, T[] buffer)
        {
            var getter = source.GetGetter<T>(column);
            return row => getter(ref buffer[row]);
        }

        private static Action<int> VectorReader<T>(DataViewRowCursor source, DataViewSchema.Column column, T[] buffer, int width)
        {
            var getter = source.GetGetter<VBuffer<T>>(column);
            var value = default(VBuffer<T>);
            return row =>
            {
                getter(ref value);
                if (value.Length != width)
                {
                    throw new InvalidOperationException($"Row {source.Position} of column '{column.Name}' has {value.Length} values; the network reads {width}.");
                }

                value.CopyTo(buffer.AsSpan(row * width, width));
            };
        }

        int IBatchRow.Index => _index;

        Array IBatchRow.Column(int slot) => _columns[slot];

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = _ids[_index];

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            _parent._sourceOf[column.Index] is int source && (source < 0 ? _computed : _slots.ContainsKey(source));

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int source = _parent._sourceOf[column.Index];
            if (source >= 0)
            {
                return _slots.TryGetValue(source, out int slot)
                    ? _copies[slot].Getter<TValue>(this, slot)
                    : throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was opened.");
            }

            if (!_computed)
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was opened.");
            }

            var values = _outputs[-1 - source];
            int width = _parent._session.Graph.Outputs[-1 - source].Width;
            Delegate getter = column.Type is VectorDataViewType
                ? (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, width);
                    values.AsSpan(_index * width, width).CopyTo(editor.Values);
                    value = editor.Commit();
                })
                : (ValueGetter<float>)((ref float value) => value = values[_index]);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type.RawType.Name}, not {typeof(TValue).Name}.");
        }

        public override bool MoveNext()
        {
            if (_index + 1 < _count)
            {
                _index++;
                _position++;
                return true;
            }

            if (_done || !Fill())
            {
                _done = true;
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
            _count = 0;
            while (_count < batchSize && _source.MoveNext())
            {
                for (int i = 0; i < _copies.Length; i++)
                {
                    _copies[i].Store(_columns[i], _count);
                }

                _sourceId(ref _ids[_count]);
                foreach (var read in _readInputs)
                {
                    read(_count);
                }

                _count++;
            }

            if (_count > 0 && _computed)
            {
                _parent._session.Run(_inputs, _outputs, _count);
            }

            return _count > 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _source.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
