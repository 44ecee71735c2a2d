namespace ML.DeepExtensions.Cli.Input;

/// <summary>A forward-only reader of an input table's records (CSV/TSV lines or Parquet rows).</summary>
internal abstract class RecordReader : IDisposable
{
    /// <summary>The file's column names, in file order.</summary>
    public abstract IReadOnlyList<string> Columns { get; }

    /// <summary>0-based index of the current data record (the header does not count); sharding uses it.</summary>
    public long RecordIndex { get; protected set; } = -1;

    /// <summary>A structural problem of the current record (for example its field count), or null.</summary>
    public string? Problem { get; protected set; }

    /// <summary>Where the current record is, for messages: "line 12" or "row 5".</summary>
    public abstract string Where { get; }

    /// <summary>How far through the file the reader is, in [0, 1], for progress and ETA.</summary>
    public abstract double Fraction { get; }

    /// <summary>Moves to the next record; false at the end.</summary>
    public abstract bool MoveNext();

    /// <summary>Reads a field as Single; false when it is not a number.</summary>
    public abstract bool TryGetSingle(int field, out float value);

    /// <summary>Reads a field as Double; false when it is not a number.</summary>
    public abstract bool TryGetDouble(int field, out double value);

    /// <summary>Reads a field as Boolean (true/false/1/0); false when it is neither.</summary>
    public abstract bool TryGetBoolean(int field, out bool value);

    /// <summary>The field as text (empty for a missing value).</summary>
    public abstract string GetText(int field);

    /// <summary>The field as it appears in the file, for error messages.</summary>
    public abstract string Show(int field);

    /// <summary>The record as one line of CSV for a reject file.</summary>
    public abstract string RawRecord { get; }

    /// <summary>The header line for a reject file.</summary>
    public abstract string RawHeader { get; }

    public abstract void Dispose();
}
