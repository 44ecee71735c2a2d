using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace ML.DeepExtensions.Cli.Input;

/// <summary>
/// Streams a Parquet file one row group at a time (memory: one row group of the columns asked for).
/// Flat columns of float, double, int, long, bool and string are read; nested and list columns are not.
/// </summary>
internal sealed class ParquetRecordReader : RecordReader
{
    private readonly FileStream _file;
    private readonly ParquetReader _reader;
    private readonly DataField[] _fields;
    private readonly Array?[] _values;
    private readonly HashSet<int> _wanted = [];
    private int _group = -1;
    private long _rowInGroup;
    private long _groupRows;
    private long _rowsBefore;
    private readonly long _totalRows;

    public ParquetRecordReader(string path)
    {
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (_file.Length == 0)
        {
            _file.Dispose();
            throw CliException.Input($"The input file '{path}' is empty.");
        }

        try
        {
            _reader = ParquetReader.CreateAsync(_file).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException)
        {
            _file.Dispose();
            throw CliException.Input($"The input file '{path}' is not a Parquet file: {e.Message}");
        }

        _fields = _reader.Schema.GetDataFields();
        _values = new Array?[_fields.Length];
        _totalRows = _reader.RowGroups.Sum(g => g.RowCount);
        Columns = _fields.Select(f => f.Name).ToList();
    }

    public override IReadOnlyList<string> Columns { get; }

    public override string Where => $"row {RecordIndex + 1}";

    public override double Fraction => _totalRows == 0 ? 1 : Math.Min(1, (double)(_rowsBefore + _rowInGroup) / _totalRows);

    public override string RawHeader => string.Join(',', Columns.Select(Output.CsvTableWriter.Escape));

    public override string RawRecord => string.Join(',', Enumerable.Range(0, _fields.Length).Select(i => _wanted.Contains(i) ? Output.CsvTableWriter.Escape(GetText(i)) : ""));

    /// <summary>The type of a column, for checks against the model's input schema.</summary>
    public Type ClrType(int field) => _fields[field].ClrType;

    /// <summary>A column type as users know it (Parquet.Net reports strings as ReadOnlyMemory&lt;char&gt;).</summary>
    public static string TypeName(Type clr) => clr == typeof(ReadOnlyMemory<char>) ? nameof(String) : clr.Name;

    /// <summary>Whether a column is a list (repeated) column, which this reader does not read.</summary>
    public bool IsList(int field) => _fields[field].IsArray || _fields[field].MaxRepetitionLevel > 0;

    /// <summary>Columns to read; the others are skipped.</summary>
    public void Want(int field) => _wanted.Add(field);

    public override bool MoveNext()
    {
        while (_rowInGroup + 1 >= _groupRows)
        {
            if (_group + 1 >= _reader.RowGroupCount)
            {
                _rowInGroup = _groupRows;
                return false;
            }

            _rowsBefore += _groupRows;
            _group++;
            LoadGroup();
            _rowInGroup = -1;
        }

        _rowInGroup++;
        RecordIndex++;
        return true;
    }

    public override bool TryGetSingle(int field, out float value)
    {
        if (_values[field] is float[] floats)
        {
            value = floats[_rowInGroup];
            return true;
        }

        bool ok = TryGetDouble(field, out double d);
        value = (float)d;
        return ok;
    }

    public override bool TryGetDouble(int field, out double value)
    {
        object? boxed = Value(field);
        switch (boxed)
        {
            case float f:
                value = f;
                return true;
            case double d:
                value = d;
                return true;
            case int i:
                value = i;
                return true;
            case long l:
                value = l;
                return true;
            case string s:
                return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
            default:
                value = double.NaN;
                return false;
        }
    }

    public override bool TryGetBoolean(int field, out bool value)
    {
        switch (Value(field))
        {
            case bool b:
                value = b;
                return true;
            default:
                value = false;
                return false;
        }
    }

    public override string GetText(int field) => Value(field) switch
    {
        null => "",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString() ?? "",
    };

    public override string Show(int field) => Value(field) is null ? "null" : $"'{GetText(field)}'";

    public override void Dispose()
    {
        _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _file.Dispose();
    }

    private object? Value(int field) => _values[field]?.GetValue(_rowInGroup);

    private void LoadGroup()
    {
        using var group = _reader.OpenRowGroupReader(_group);
        _groupRows = group.RowCount;
        int rows = checked((int)_groupRows);
        foreach (int i in _wanted)
        {
            var field = _fields[i];
            _values[i] = (field.ClrType, field.IsNullable) switch
            {
                (var t, _) when t == typeof(string) || t == typeof(ReadOnlyMemory<char>) => ReadStrings(group, field, rows),
                (var t, false) when t == typeof(float) => Read<float>(group, field, rows),
                (var t, true) when t == typeof(float) => ReadNullable<float>(group, field, rows),
                (var t, false) when t == typeof(double) => Read<double>(group, field, rows),
                (var t, true) when t == typeof(double) => ReadNullable<double>(group, field, rows),
                (var t, false) when t == typeof(int) => Read<int>(group, field, rows),
                (var t, true) when t == typeof(int) => ReadNullable<int>(group, field, rows),
                (var t, false) when t == typeof(long) => Read<long>(group, field, rows),
                (var t, true) when t == typeof(long) => ReadNullable<long>(group, field, rows),
                (var t, false) when t == typeof(bool) => Read<bool>(group, field, rows),
                (var t, true) when t == typeof(bool) => ReadNullable<bool>(group, field, rows),
                _ => throw CliException.Input($"Parquet column '{field.Name}' has type {TypeName(field.ClrType)}, which the scorer cannot read (float, double, int, long, bool or string)."),
            };
        }
    }

    private static T[] Read<T>(ParquetRowGroupReader group, DataField field, int rows)
        where T : struct
    {
        var values = new T[rows];
        group.ReadAsync(field, values.AsMemory(), null).AsTask().GetAwaiter().GetResult();
        return values;
    }

    private static T?[] ReadNullable<T>(ParquetRowGroupReader group, DataField field, int rows)
        where T : struct
    {
        var values = new T?[rows];
        group.ReadAsync(field, values.AsMemory(), null).AsTask().GetAwaiter().GetResult();
        return values;
    }

    private static string?[] ReadStrings(ParquetRowGroupReader group, DataField field, int rows)
    {
        var values = new string?[rows];
        group.ReadAsync(field, values.AsMemory(), null).AsTask().GetAwaiter().GetResult();
        return values;
    }
}
