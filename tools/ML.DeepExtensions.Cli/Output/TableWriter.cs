using System.Globalization;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace ML.DeepExtensions.Cli.Output;

/// <summary>The type of an output cell.</summary>
internal enum CellType
{
    Single,
    Double,
    Int64,
    Boolean,
    Text,
}

/// <summary>A flat output field: one per scalar column, one per slot of a vector column.</summary>
internal sealed record OutputField(string Name, CellType Type);

/// <summary>Writes rows of cells, field by field in order.</summary>
internal abstract class TableWriter : IDisposable
{
    public abstract void Begin(IReadOnlyList<OutputField> fields);

    public abstract void Single(float value);

    public abstract void Double(double value);

    public abstract void Int64(long value);

    public abstract void Boolean(bool value);

    public abstract void Text(string value);

    public abstract void EndRow();

    /// <summary>Finishes the file (flushes buffers, writes footers). Without it the file is incomplete.</summary>
    public abstract void Complete();

    public abstract void Dispose();
}

/// <summary>CSV (comma) or TSV (tab) with a header line; floats in shortest round-trip form.</summary>
internal sealed class CsvTableWriter(Stream stream, char separator) : TableWriter
{
    private readonly StreamWriter _writer = new(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
    private bool _first = true;

    public override void Begin(IReadOnlyList<OutputField> fields)
    {
        _writer.WriteLine(string.Join(separator, fields.Select(f => Escape(f.Name, separator))));
    }

    public override void Single(float value) => Cell(value.ToString("R", CultureInfo.InvariantCulture));

    public override void Double(double value) => Cell(value.ToString("R", CultureInfo.InvariantCulture));

    public override void Int64(long value) => Cell(value.ToString(CultureInfo.InvariantCulture));

    public override void Boolean(bool value) => Cell(value ? "true" : "false");

    public override void Text(string value) => Cell(Escape(value, separator));

    public override void EndRow()
    {
        _writer.Write('\n');
        _first = true;
    }

    public override void Complete() => _writer.Flush();

    public override void Dispose() => _writer.Dispose();

    public static string Escape(string value) => Escape(value, ',');

    public static string Escape(string value, char separator) =>
        value.AsSpan().IndexOfAny(['"', '\n', '\r', separator]) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private void Cell(string text)
    {
        if (!_first)
        {
            _writer.Write(separator);
        }

        _writer.Write(text);
        _first = false;
    }
}

/// <summary>Parquet, one row group per block of rows: memory is one block of the output columns.</summary>
internal sealed class ParquetTableWriter(Stream stream) : TableWriter
{
    private const int CellsPerRowGroup = 4_000_000;
    private IReadOnlyList<OutputField> _fields = [];
    private DataField[] _dataFields = [];
    private Array[] _buffers = [];
    private ParquetWriter? _writer;
    private int _rowsPerGroup;
    private int _row;
    private int _field;

    public override void Begin(IReadOnlyList<OutputField> fields)
    {
        _fields = fields;
        _dataFields = fields.Select(f => new DataField(f.Name, f.Type switch
        {
            CellType.Single => typeof(float),
            CellType.Double => typeof(double),
            CellType.Int64 => typeof(long),
            CellType.Boolean => typeof(bool),
            _ => typeof(string),
        }, isNullable: f.Type == CellType.Text ? true : false)).ToArray();
        _rowsPerGroup = Math.Clamp(CellsPerRowGroup / Math.Max(1, fields.Count), 1_000, 100_000);
        _buffers = fields.Select(f => (Array)(f.Type switch
        {
            CellType.Single => new float[_rowsPerGroup],
            CellType.Double => new double[_rowsPerGroup],
            CellType.Int64 => new long[_rowsPerGroup],
            CellType.Boolean => new bool[_rowsPerGroup],
            _ => new string[_rowsPerGroup],
        })).ToArray();
        _writer = ParquetWriter.CreateAsync(new ParquetSchema(_dataFields), stream).GetAwaiter().GetResult();
    }

    public override void Single(float value) => ((float[])_buffers[_field++])[_row] = value;

    public override void Double(double value) => ((double[])_buffers[_field++])[_row] = value;

    public override void Int64(long value) => ((long[])_buffers[_field++])[_row] = value;

    public override void Boolean(bool value) => ((bool[])_buffers[_field++])[_row] = value;

    public override void Text(string value) => ((string[])_buffers[_field++])[_row] = value;

    public override void EndRow()
    {
        _field = 0;
        if (++_row == _rowsPerGroup)
        {
            Flush();
        }
    }

    public override void Complete()
    {
        Flush();
        _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _writer = null;
    }

    public override void Dispose() => _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void Flush()
    {
        if (_row == 0 || _writer is null)
        {
            return;
        }

        using (var group = _writer.CreateRowGroup())
        {
            for (int i = 0; i < _fields.Count; i++)
            {
                var field = _dataFields[i];
                switch (_buffers[i])
                {
                    case float[] f:
                        group.WriteAsync(field, (ReadOnlyMemory<float>)f.AsMemory(0, _row)).GetAwaiter().GetResult();
                        break;
                    case double[] d:
                        group.WriteAsync(field, (ReadOnlyMemory<double>)d.AsMemory(0, _row)).GetAwaiter().GetResult();
                        break;
                    case long[] l:
                        group.WriteAsync(field, (ReadOnlyMemory<long>)l.AsMemory(0, _row)).GetAwaiter().GetResult();
                        break;
                    case bool[] b:
                        group.WriteAsync(field, (ReadOnlyMemory<bool>)b.AsMemory(0, _row)).GetAwaiter().GetResult();
                        break;
                    case string[] s:
                        group.WriteAsync(field, new ArraySegment<string>(s, 0, _row), null).GetAwaiter().GetResult();
                        break;
                }
            }
        }

        _row = 0;
    }
}
