using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// The data view an OnnxTransformer would produce, with the network evaluated in batches: the
/// source's columns pass through and the network's raw output is appended. A cursor reads a batch
/// of rows, keeps the values of the columns asked for, runs ONNX Runtime once for the batch, then
/// serves the rows one by one. With read-ahead (<see cref="BatchFeed"/>) the next batch is read on a
/// second thread meanwhile, so memory stays at two batches per cursor.
/// </summary>
internal sealed class BatchedOnnxDataView : IDataView
{
    private readonly IDataView _source;
    private readonly BatchedSession _session;
    private readonly ScorerStage? _stage;
    private readonly bool _readAhead;

    /// <summary>For each column of <see cref="Schema"/>, the source column it passes through, or -1 for a column computed from the network's output.</summary>
    private readonly int[] _sourceOf;

    /// <summary>The general form: the source's columns and the network's raw output, as the OnnxTransformer gives them.</summary>
    public BatchedOnnxDataView(IDataView source, BatchedSession session, DataViewType outputType, bool readAhead)
    {
        _source = source;
        _session = session;
        _readAhead = readAhead;
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
    public BatchedOnnxDataView(IDataView source, BatchedSession session, ScorerStage stage, DataViewSchema schema, int[] sourceOf, bool readAhead)
    {
        _source = source;
        _session = session;
        _readAhead = readAhead;
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

        var cursor = _source.GetRowCursor(requested);
        try
        {
            var reader = new BatchReader(cursor, passThrough, computed ? features : null, _session, _stage);
            return new Cursor(this, new BatchFeed(reader, _readAhead));
        }
        catch
        {
            cursor.Dispose();
            throw;
        }
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(BatchedOnnxDataView parent, BatchFeed feed) : DataViewRowCursor, IBatchRow
    {
        private readonly BatchedSession _session = parent._session;
        private readonly ScorerStage? _stage = parent._stage;
        private readonly Dictionary<int, int> _slots = feed.Reader.Slots;
        private readonly bool _computed = feed.Reader.Computed;
        private RowBatch _current = RowBatch.Empty;
        private long _position = -1;
        private bool _done;

        /// <summary>The current row's place in its batch.</summary>
        private int _index = -1;

        int IBatchRow.Index => _index;

        Array IBatchRow.Column(int slot) => _current.Columns[slot];

        public override DataViewSchema Schema => parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = _current.Ids[_index];

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            parent._sourceOf[column.Index] is int source && (source < 0 ? _computed : _slots.ContainsKey(source));

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int source = parent._sourceOf[column.Index];
            if (source >= 0)
            {
                return _slots.TryGetValue(source, out int slot)
                    ? feed.Reader.Copies[slot].Getter<TValue>(this, slot)
                    : throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was opened.");
            }

            if (!_computed)
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was opened.");
            }

            Delegate getter = _stage is null
                ? Vector(() => _current.Network!.Output, (int)_session.Graph.OutputWidth)
                : column.Name switch
                {
                    ColumnNames.Score when _stage.Task == DeployableOnnx.Task.Multiclass => Vector(() => _current.Scores, _stage.Classes),
                    ColumnNames.Score => (ValueGetter<float>)((ref float value) => value = _current.Scores[_index]),
                    ColumnNames.PredictedLabel when _stage.Task == DeployableOnnx.Task.Multiclass => (ValueGetter<uint>)((ref uint value) => value = _current.Keys[_index]),
                    ColumnNames.PredictedLabel => (ValueGetter<bool>)((ref bool value) => value = _current.Predicted[_index]),
                    ColumnNames.Probability => (ValueGetter<float>)((ref float value) => value = _current.Probabilities[_index]),
                    _ => throw new InvalidOperationException($"Column '{column.Name}' is not one the scorer stage computes."),
                };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type.RawType.Name}, not {typeof(TValue).Name}.");
        }

        private ValueGetter<VBuffer<float>> Vector(Func<float[]> values, int width) => (ref VBuffer<float> value) =>
        {
            var editor = VBufferEditor.Create(ref value, width);
            values().AsSpan(_index * width, width).CopyTo(editor.Values);
            value = editor.Commit();
        };

        public override bool MoveNext()
        {
            if (_index + 1 < _current.Count)
            {
                _index++;
                _position++;
                return true;
            }

            if (_done || feed.Next() is not { } next)
            {
                _done = true;
                _current = RowBatch.Empty;
                _index = -1;
                return false;
            }

            if (next.Network is { } network)
            {
                _session.Run(network, next.Count);
                Score(next);
            }

            _current = next;
            _index = 0;
            _position++;
            return true;
        }

        /// <summary>The scorer stage's columns for the batch just run.</summary>
        private void Score(RowBatch batch)
        {
            if (_stage is not { } stage)
            {
                return;
            }

            var output = batch.Network!.Output;
            if (stage.Task == DeployableOnnx.Task.Multiclass)
            {
                stage.Multiclass(output, batch.Count, batch.Scores, batch.Keys);
                return;
            }

            for (int r = 0; r < batch.Count; r++)
            {
                float score = stage.Score(output[r]);
                batch.Scores[r] = score;
                if (stage.Task == DeployableOnnx.Task.Binary)
                {
                    batch.Predicted[r] = stage.Predicted(score);
                    batch.Probabilities[r] = stage.Probability(score);
                }
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                feed.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
