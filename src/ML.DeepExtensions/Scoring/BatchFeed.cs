using System.Runtime.ExceptionServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// Hands a <see cref="BatchedOnnxDataView"/> cursor its batches, read from the source. With
/// read-ahead, a second thread reads the next batch while the cursor's thread runs ONNX Runtime
/// on the current one and serves its rows: reading the source then costs no time on the cursor's
/// thread, which matters for small networks whose batch takes about as long to read as to score.
/// </summary>
/// <remarks>
/// Two batches exist: the one being served and the one being read. The first batch is read on the
/// cursor's thread, so a source of one batch or less never starts a thread. An exception on the
/// reading thread reaches the cursor when it asks for the batch that failed, as without read-ahead.
/// </remarks>
internal sealed class BatchFeed : IDisposable
{
    private readonly RowBatch[] _batches;
    private readonly bool _readAhead;

    // Batches alternate strictly (the reader fills 1, 0, 1, ...; the cursor serves 0, 1, 0, ...), so two
    // counting semaphores are the whole hand-off, without a queue.
    private readonly SemaphoreSlim _free = new(0);
    private readonly SemaphoreSlim _filled = new(0);
    private Thread? _thread;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _stopping;
    private int _served;
    private bool _started;
    private bool _disposed;

    public BatchFeed(BatchReader reader, bool readAhead)
    {
        Reader = reader;
        _readAhead = readAhead;
        _batches = readAhead ? [reader.NewBatch(), reader.NewBatch()] : [reader.NewBatch()];
    }

    public BatchReader Reader { get; }

    /// <summary>The next batch, or null after the last; the batch served before it may be refilled from now on.</summary>
    public RowBatch? Next()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_started)
        {
            _started = true;
            if (!Reader.Fill(_batches[0]))
            {
                return null;
            }

            if (_readAhead && !Reader.Done)
            {
                _free.Release();
                _thread = new Thread(ReadAll) { IsBackground = true, Name = "ML.DeepExtensions batch read-ahead" };
                _thread.Start();
            }

            return _batches[0];
        }

        if (_thread is null)
        {
            return !Reader.Done && Reader.Fill(_batches[0]) ? _batches[0] : null;
        }

        // A failure already thrown is thrown again: the reading thread has ended and would never signal.
        _failure?.Throw();
        _free.Release();
        _filled.Wait();
        _failure?.Throw();
        var next = _batches[++_served % 2];
        return next.Count > 0 ? next : null;
    }

    /// <summary>Fills batches 1, 0, 1, ... as they are freed; an empty batch (Count 0) marks the end.</summary>
    private void ReadAll()
    {
        try
        {
            for (int filled = 1; ; filled++)
            {
                _free.Wait();
                if (_stopping)
                {
                    return;
                }

                var batch = _batches[filled % 2];
                bool any = !Reader.Done && Reader.Fill(batch);
                if (!any)
                {
                    batch.Count = 0;
                }

                _filled.Release();
                if (!any)
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
            _filled.Release();
        }
    }

    /// <summary>Stops the reading thread (it finishes the batch it is reading), then frees the batches and the source cursor.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stopping = true;
        _free.Release();
        _thread?.Join();
        _free.Dispose();
        _filled.Dispose();
        foreach (var batch in _batches)
        {
            batch.Dispose();
        }

        Reader.Dispose();
    }
}

/// <summary>One batch of rows: the kept columns' values, the row ids, the network's input and output, and the scorer stage's columns.</summary>
internal sealed class RowBatch : IDisposable
{
    /// <summary>No rows: what a cursor serves before its first batch and after its last.</summary>
    public static readonly RowBatch Empty = new([], 0, null, null);

    public RowBatch(Array[] columns, int size, BatchedSession.Buffers? network, ScorerStage? stage)
    {
        Columns = columns;
        Ids = new DataViewRowId[size];
        Network = network;
        if (network is null || stage is null)
        {
            return;
        }

        // Multiclass scores are the graph's softmax output, corrected in place.
        Scores = stage.Task == DeployableOnnx.Task.Multiclass ? network.Softmax : new float[size];
        if (stage.Task == DeployableOnnx.Task.Multiclass)
        {
            Keys = new uint[size];
        }
        else if (stage.Task == DeployableOnnx.Task.Binary)
        {
            Predicted = new bool[size];
            Probabilities = new float[size];
        }
    }

    /// <summary>Rows filled.</summary>
    public int Count { get; set; }

    /// <summary>The pass-through columns' values, one array per kept column (see <see cref="BatchReader.Copies"/>).</summary>
    public Array[] Columns { get; }

    public DataViewRowId[] Ids { get; }

    /// <summary>The network's input and output memory; null when no computed column was asked for.</summary>
    public BatchedSession.Buffers? Network { get; }

    public float[] Scores { get; } = [];

    public uint[] Keys { get; } = [];

    public bool[] Predicted { get; } = [];

    public float[] Probabilities { get; } = [];

    public void Dispose() => Network?.Dispose();
}

/// <summary>Reads batches of rows from a source cursor: the pass-through columns' values, the ids and the network's input.</summary>
internal sealed class BatchReader : IDisposable
{
    private readonly DataViewRowCursor _source;
    private readonly BatchedSession _session;
    private readonly ScorerStage? _stage;
    private readonly ValueGetter<DataViewRowId> _sourceId;
    private readonly ValueGetter<VBuffer<float>>? _features;
    private VBuffer<float> _row;

    public BatchReader(DataViewRowCursor source, IReadOnlyList<DataViewSchema.Column> passThrough, DataViewSchema.Column? features, BatchedSession session, ScorerStage? stage)
    {
        _source = source;
        _session = session;
        _stage = stage;
        Copies = [.. passThrough.Select(c => ColumnCopy.Create(source, c))];
        Slots = passThrough.Select((c, slot) => (c.Index, slot)).ToDictionary(p => p.Index, p => p.slot);
        _sourceId = source.GetIdGetter();
        if (features is { } f)
        {
            _features = source.GetGetter<VBuffer<float>>(f);
        }
    }

    /// <summary>One copier per kept column, in slot order.</summary>
    public ColumnCopy[] Copies { get; }

    /// <summary>Each kept source column's slot in <see cref="RowBatch.Columns"/>, by source column index.</summary>
    public Dictionary<int, int> Slots { get; }

    /// <summary>Whether the network runs (a computed column was asked for).</summary>
    public bool Computed => _features is not null;

    /// <summary>The source has no more rows.</summary>
    public bool Done { get; private set; }

    public RowBatch NewBatch()
    {
        int size = _session.BatchSize;
        return new RowBatch([.. Copies.Select(c => c.NewStorage(size))], size, Computed ? _session.CreateBuffers() : null, _stage);
    }

    /// <summary>Fills <paramref name="batch"/> with up to a batch of rows; false when the source had none left.</summary>
    public bool Fill(RowBatch batch)
    {
        int batchSize = batch.Ids.Length;
        int width = (int)_session.Graph.InputWidth;
        var copies = Copies;
        var columns = batch.Columns;
        int count = 0;
        while (count < batchSize)
        {
            if (!_source.MoveNext())
            {
                Done = true;
                break;
            }

            for (int i = 0; i < copies.Length; i++)
            {
                copies[i].Store(columns[i], count);
            }

            _sourceId(ref batch.Ids[count]);
            if (_features is not null)
            {
                _features(ref _row);
                if (_row.Length != width)
                {
                    throw new InvalidOperationException(
                        $"Row {_source.Position} of column '{_session.Graph.InputName}' has {_row.Length} values; the network reads {width}.");
                }

                _row.CopyTo(batch.Network!.Input.AsSpan(count * width, width));
            }

            count++;
        }

        batch.Count = count;
        return count > 0;
    }

    public void Dispose() => _source.Dispose();
}

/// <summary>A cursor serving a batch's rows: the kept columns' storage and the current row's place in it.</summary>
internal interface IBatchRow
{
    /// <summary>The current row's place in its batch.</summary>
    int Index { get; }

    /// <summary>The storage of kept column <paramref name="slot"/> for the batch being served.</summary>
    Array Column(int slot);
}

/// <summary>Copies a source column's values into a batch's storage, so they outlive the source cursor's row.</summary>
internal abstract class ColumnCopy
{
    public abstract Array NewStorage(int size);

    public abstract void Store(Array storage, int slot);

    /// <summary>A getter of the current row's value in slot <paramref name="slot"/> of the batch <paramref name="row"/> serves, both read at call time.</summary>
    public abstract ValueGetter<TValue> Getter<TValue>(IBatchRow row, int slot);

    public static ColumnCopy Create(DataViewRow source, DataViewSchema.Column column)
    {
        var raw = column.Type.RawType;
        // Text (ReadOnlyMemory<char>) is kept as given: ML.NET treats such values as immutable, so
        // its own buffering keeps them by reference too, and consumers may hold them past the row.
        var copyType = raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>)
            ? typeof(VectorCopy<>).MakeGenericType(raw.GetGenericArguments()[0])
            : typeof(ValueCopy<>).MakeGenericType(raw);
        return (ColumnCopy)Activator.CreateInstance(copyType, source, column)!;
    }

    private sealed class ValueCopy<T>(DataViewRow source, DataViewSchema.Column column) : ColumnCopy
    {
        private readonly ValueGetter<T> _getter = source.GetGetter<T>(column);

        public override Array NewStorage(int size) => new T[size];

        public override void Store(Array storage, int slot) => _getter(ref ((T[])storage)[slot]);

        public override ValueGetter<TValue> Getter<TValue>(IBatchRow row, int slot)
        {
            ValueGetter<T> getter = (ref T value) => value = ((T[])row.Column(slot))[row.Index];
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }

    private sealed class VectorCopy<T>(DataViewRow source, DataViewSchema.Column column) : ColumnCopy
    {
        private readonly ValueGetter<VBuffer<T>> _getter = source.GetGetter<VBuffer<T>>(column);

        public override Array NewStorage(int size) => new VBuffer<T>[size];

        public override void Store(Array storage, int slot) => _getter(ref ((VBuffer<T>[])storage)[slot]);

        public override ValueGetter<TValue> Getter<TValue>(IBatchRow row, int slot)
        {
            ValueGetter<VBuffer<T>> getter = (ref VBuffer<T> value) => ((VBuffer<T>[])row.Column(slot))[row.Index].CopyTo(ref value);
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }
}
