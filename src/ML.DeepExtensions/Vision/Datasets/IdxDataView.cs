using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Vision.Datasets;

/// <summary>
/// A data view over an IDX image file and its label file that decodes rows as its cursors move: nothing
/// is cached, and a cursor holds one image.
/// </summary>
/// <remarks>
/// Written as a data view of its own rather than with <c>LoadFromEnumerable</c>: ML.NET's streaming view
/// never disposes the enumerator of a cursor that stops early (its files would stay open until garbage
/// collection), reports no row count, and decodes every column whether a cursor needs it or not. Here a
/// cursor opens only the files of its active columns and closes them when disposed, and the row count is
/// known from the headers.
/// </remarks>
internal sealed class IdxDataView : IDataView
{
    private readonly IdxFileHeaders _headers;
    private readonly int _rowCount;
    private readonly int _classCount;

    public IdxDataView(IdxFileHeaders headers, int rowCount, IReadOnlyList<string> classNames)
    {
        _headers = headers;
        _rowCount = rowCount;
        _classCount = classNames.Count;

        var keyValues = new VBuffer<ReadOnlyMemory<char>>(classNames.Count, classNames.Select(n => n.AsMemory()).ToArray());
        var annotations = new DataViewSchema.Annotations.Builder();
        annotations.Add(
            KeyValueNames.AnnotationKind,
            new VectorDataViewType(TextDataViewType.Instance, classNames.Count),
            (ref VBuffer<ReadOnlyMemory<char>> value) => keyValues.CopyTo(ref value));
        var schema = new DataViewSchema.Builder();
        schema.AddColumn(ColumnNames.Label, new KeyDataViewType(typeof(uint), classNames.Count), annotations.ToAnnotations());
        schema.AddColumn(ColumnNames.Features, new VectorDataViewType(NumberDataViewType.Single, 1, headers.Rows, headers.Columns));
        Schema = schema.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        return new Cursor(this, labelActive: needed.Contains(0), featuresActive: needed.Contains(1));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly IdxDataView _view;
        private readonly IdxReader? _labels;
        private readonly IdxReader? _images;
        private readonly byte[] _label = new byte[1];
        private readonly byte[] _pixels;
        private long _position = -1;
        private bool _disposed;

        public Cursor(IdxDataView view, bool labelActive, bool featuresActive)
        {
            _view = view;
            try
            {
                _labels = labelActive ? view._headers.OpenLabels() : null;
                _images = featuresActive ? view._headers.OpenImages() : null;
            }
            catch
            {
                _labels?.Dispose();
                throw;
            }

            _pixels = featuresActive ? new byte[view._headers.Rows * view._headers.Columns] : [];
        }

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => _view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == 0 ? _labels is not null : column.Index == 1 && _images is not null;

        public override bool MoveNext()
        {
            if (_disposed)
            {
                return false;
            }

            if (_position + 1 >= _view._rowCount)
            {
                Dispose();
                return false;
            }

            // Each file's header declares at least _rowCount items, so a short file throws here rather than returning false.
            _labels?.ReadItem(_label);
            _images?.ReadItem(_pixels);
            _position++;
            if (_labels is not null && _label[0] >= _view._classCount)
            {
                throw _view._headers.LabelOutOfRange(_position, _label[0], _view._classCount);
            }

            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            }

            Delegate getter = column.Index == 0 ? (ValueGetter<uint>)GetLabel : (ValueGetter<VBuffer<float>>)GetFeatures;
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"Column '{column.Name}' is of type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) =>
        {
            CheckPositioned();
            value = new DataViewRowId((ulong)_position, 0);
        };

        protected override void Dispose(bool disposing)
        {
            if (!_disposed && disposing)
            {
                _labels?.Dispose();
                _images?.Dispose();
            }

            _disposed = true;
            _position = -1;
            base.Dispose(disposing);
        }

        // Stored labels are 0-based; ML.NET keys are 1-based with 0 meaning missing.
        private void GetLabel(ref uint value)
        {
            CheckPositioned();
            value = _label[0] + 1u;
        }

        private void GetFeatures(ref VBuffer<float> value)
        {
            CheckPositioned();
            var editor = VBufferEditor.Create(ref value, _pixels.Length);
            var values = editor.Values;
            for (int i = 0; i < _pixels.Length; i++)
            {
                values[i] = _pixels[i];
            }

            value = editor.Commit();
        }

        private void CheckPositioned()
        {
            if (_position < 0 || _disposed)
            {
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext first, and only while it returns true.");
            }
        }
    }
}
