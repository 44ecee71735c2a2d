namespace ML.DeepExtensions.Data;

/// <summary>
/// A value in the data cannot be used for training: NaN, infinity, a missing key, or a value outside
/// what the conversion accepts. The message names the column and the 0-based row position in the
/// source data view.
/// </summary>
public sealed class DataValidationException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public DataValidationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DataValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public DataValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a value at a known column and row.</summary>
    /// <param name="message">The full message, naming the column and the row.</param>
    /// <param name="columnName">The data view column holding the value.</param>
    /// <param name="role">The batch role the column is bound to.</param>
    /// <param name="rowPosition">The 0-based row position in the source data view.</param>
    public DataValidationException(string message, string columnName, string role, long rowPosition)
        : base(message)
    {
        ColumnName = columnName;
        Role = role;
        RowPosition = rowPosition;
    }

    /// <summary>The data view column holding the invalid value, when known.</summary>
    public string? ColumnName { get; }

    /// <summary>The batch role the column is bound to, when known.</summary>
    public string? Role { get; }

    /// <summary>The 0-based row position in the source data view, or -1 when unknown.</summary>
    public long RowPosition { get; } = -1;
}
