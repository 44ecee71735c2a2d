using System.Diagnostics.CodeAnalysis;

namespace ML.DeepExtensions.Data;

/// <summary>How the values of an ML.NET column become the elements of a tensor.</summary>
public enum BatchColumnConversion
{
    /// <summary>
    /// Numeric (or Boolean, as 0/1) values to a <c>float32</c> tensor: a scalar column gives
    /// <c>[N]</c>, a known-size vector gives <c>[N, F]</c>, and a declared
    /// <see cref="BatchColumn.Shape"/> gives <c>[N, ...Shape]</c>. NaN and infinity are invalid.
    /// </summary>
    [SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Named after the tensor dtype it produces, as ClassIndex yields int64.")]
    Float32,

    /// <summary>
    /// A key column to an <c>int64</c> tensor of 0-based class indices (ML.NET keys are 1-based and 0
    /// means missing). A Boolean column gives false = 0, true = 1.
    /// </summary>
    ClassIndex,

    /// <summary>
    /// A Boolean column (or a Single/Double column holding only 0 and 1) to a <c>float32</c> tensor of
    /// 0/1 targets, the form binary cross-entropy expects.
    /// </summary>
    BinaryTarget,

    /// <summary>
    /// A key vector of tokens (for example from <c>TokenizeIntoWords</c> → <c>MapValueToKey</c>; variable
    /// or known size) to an <c>int64</c> tensor <c>[N, MaxLength]</c> of token ids for an embedding:
    /// key k becomes id k + 1, ML.NET's missing key 0 becomes the unknown token 1, and rows are padded
    /// with 0 to <see cref="BatchColumn.Shape"/> <c>[MaxLength]</c> (required) or truncated as
    /// <see cref="BatchColumn.Truncation"/> says. An empty row is all padding.
    /// </summary>
    TokenIds,
}

/// <summary>Which tokens a <see cref="BatchColumnConversion.TokenIds"/> binding keeps from a row longer than its maximum length.</summary>
public enum SequenceTruncation
{
    /// <summary>The first tokens (the end is cut off).</summary>
    KeepStart,

    /// <summary>The last tokens (the start is cut off).</summary>
    KeepEnd,
}

/// <summary>
/// Binds one column of an <c>IDataView</c> to one tensor of every <see cref="TensorBatch"/>.
/// </summary>
/// <param name="Role">
/// The tensor's name in the batch, for example <see cref="BatchRoles.Features"/>,
/// <see cref="BatchRoles.Label"/>, <see cref="BatchRoles.Weight"/>, or any other name a model uses.
/// Roles must be unique within one batch source.
/// </param>
/// <param name="ColumnName">The name of the (visible) column in the data view.</param>
/// <param name="Conversion">How the column's values become tensor elements.</param>
/// <param name="Shape">
/// Optional per-row shape, for example <c>[1, 28, 28]</c> for a 784-value grayscale image column. Its
/// product must equal the number of values per row. Without it a scalar column gives <c>[N]</c> and a
/// vector column <c>[N, F]</c>.
/// </param>
/// <example>
/// <code>
/// var columns = new[]
/// {
///     new BatchColumn(BatchRoles.Features, "Pixels", BatchColumnConversion.Float32, [1, 28, 28]),
///     BatchColumn.ClassLabel("Label"),
/// };
/// </code>
/// </example>
public sealed record BatchColumn(
    string Role,
    string ColumnName,
    BatchColumnConversion Conversion = BatchColumnConversion.Float32,
    long[]? Shape = null)
{
    /// <summary>The model input: a numeric column as <c>float32</c>, in role <see cref="BatchRoles.Features"/>.</summary>
    /// <param name="columnName">The column name; <c>"Features"</c> by default.</param>
    /// <param name="shape">Optional per-row shape, see <see cref="Shape"/>.</param>
    public static BatchColumn Features(string columnName = "Features", long[]? shape = null) =>
        new(BatchRoles.Features, columnName, BatchColumnConversion.Float32, shape);

    /// <summary>A class label (key or Boolean column) as 0-based <c>int64</c> indices, in role <see cref="BatchRoles.Label"/>.</summary>
    /// <param name="columnName">The column name; <c>"Label"</c> by default.</param>
    public static BatchColumn ClassLabel(string columnName = "Label") =>
        new(BatchRoles.Label, columnName, BatchColumnConversion.ClassIndex);

    /// <summary>A binary label (Boolean, or 0/1 Single/Double) as <c>float32</c> 0/1, in role <see cref="BatchRoles.Label"/>.</summary>
    /// <param name="columnName">The column name; <c>"Label"</c> by default.</param>
    public static BatchColumn BinaryLabel(string columnName = "Label") =>
        new(BatchRoles.Label, columnName, BatchColumnConversion.BinaryTarget);

    /// <summary>A numeric regression target as <c>float32</c>, in role <see cref="BatchRoles.Label"/>.</summary>
    /// <param name="columnName">The column name; <c>"Label"</c> by default.</param>
    /// <param name="shape">Optional per-row shape, for example <c>[1]</c> to get <c>[N, 1]</c>.</param>
    public static BatchColumn RegressionLabel(string columnName = "Label", long[]? shape = null) =>
        new(BatchRoles.Label, columnName, BatchColumnConversion.Float32, shape);

    /// <summary>Token ids of a key vector column, padded or truncated to <paramref name="maxLength"/>, in role <see cref="BatchRoles.Features"/>; see <see cref="BatchColumnConversion.TokenIds"/>.</summary>
    /// <param name="columnName">The token key column.</param>
    /// <param name="maxLength">Tokens per row after padding or truncation.</param>
    /// <param name="truncation">Which tokens a longer row keeps.</param>
    public static BatchColumn Tokens(string columnName, int maxLength, SequenceTruncation truncation = SequenceTruncation.KeepStart) =>
        new(BatchRoles.Features, columnName, BatchColumnConversion.TokenIds, [maxLength]) { Truncation = truncation };

    /// <summary>Which tokens a <see cref="BatchColumnConversion.TokenIds"/> binding keeps from a longer row. Default <see cref="SequenceTruncation.KeepStart"/>.</summary>
    public SequenceTruncation Truncation { get; init; }

    /// <summary>Per-row weights as <c>float32</c>, in role <see cref="BatchRoles.Weight"/>.</summary>
    /// <param name="columnName">The column name; <c>"Weight"</c> by default.</param>
    public static BatchColumn Weight(string columnName = "Weight") =>
        new(BatchRoles.Weight, columnName, BatchColumnConversion.Float32);
}
