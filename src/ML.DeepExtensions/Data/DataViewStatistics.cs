using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Data;

/// <summary>
/// One streaming pass over a data view that gathers what a trainer checks and fits before training:
/// the row count, per-class counts of label columns and per-feature mean and standard deviation of
/// numeric columns. Memory does not grow with the number of rows.
/// </summary>
/// <example>
/// <code>
/// var (train, validation) = DataViewBatchSource.CreateTrainValidation(data, columns, options, 0.1);
/// var stats = DataViewStatistics.Compute(train);
/// if (stats.RowCount == 0 || stats[BatchRoles.Label].ObservedClassCount &lt; 2) { /* reject */ }
/// var standardize = new Standardization(stats[BatchRoles.Features].GetMeanAsSingle(),
///                                       stats[BatchRoles.Features].GetStandardDeviationAsSingle());
/// </code>
/// </example>
public static class DataViewStatistics
{
    /// <summary>Largest key count for which per-class counts are kept.</summary>
    public const int MaximumCountedClasses = 1 << 24;

    /// <summary>Computes statistics of every row of <paramref name="data"/> for the given columns.</summary>
    /// <param name="data">The data view to read.</param>
    /// <param name="columns">The columns, converted exactly as a <see cref="DataViewBatchSource"/> would.</param>
    /// <param name="missingValues">What to do with NaN, infinity and missing keys, as for a batch source.</param>
    /// <param name="cancellationToken">Cancels the pass.</param>
    /// <exception cref="ArgumentException">A column is missing or has an unsupported type.</exception>
    /// <exception cref="DataValidationException">A value is invalid (with <see cref="MissingValuePolicy.Error"/>, also a missing one).</exception>
    public static DataStatistics Compute(
        IDataView data,
        IReadOnlyList<BatchColumn> columns,
        MissingValuePolicy missingValues = MissingValuePolicy.Error,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var bindings = ColumnBinding.ResolveAll(data.Schema, columns, nameof(columns));
        return ComputeCore(data, bindings, missingValues, RowSelection.All, cancellationToken);
    }

    /// <summary>
    /// Computes statistics of exactly the rows <paramref name="source"/> yields (so the training side
    /// of a split excludes validation rows) for its columns, with its missing-value policy. Also makes
    /// the source's <see cref="DataViewBatchSource.RowCount"/> known.
    /// </summary>
    /// <param name="source">The batch source whose rows and columns to summarise.</param>
    /// <param name="cancellationToken">Cancels the pass.</param>
    /// <exception cref="DataValidationException">A value is invalid (with <see cref="MissingValuePolicy.Error"/>, also a missing one).</exception>
    public static DataStatistics Compute(DataViewBatchSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var statistics = ComputeCore(source.Data, source.Bindings, source.Options.MissingValues, source.Selection, cancellationToken);
        source.ObserveRowCount(statistics.RowCount);
        return statistics;
    }

    private static DataStatistics ComputeCore(
        IDataView data,
        ColumnBinding[] bindings,
        MissingValuePolicy missingValues,
        RowSelection selection,
        CancellationToken cancellationToken)
    {
        var accumulators = bindings.Select(b => new Accumulator(b)).ToArray();
        var store = new RowStore(bindings, 1);
        long rows = 0;
        long skipped;
        using (var scanner = new RowScanner(data, bindings, missingValues, selection))
        {
            while (scanner.MoveNext())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!scanner.TryRead(store, 0))
                {
                    continue;
                }

                rows++;
                foreach (var accumulator in accumulators)
                {
                    accumulator.Add(store, rows);
                }
            }

            skipped = scanner.SkippedRows;
        }

        return new DataStatistics(rows, skipped, accumulators.Select(a => a.ToStatistics(rows)).ToArray());
    }

    private sealed class Accumulator
    {
        private readonly ColumnBinding _binding;
        private readonly double[]? _mean;
        private readonly double[]? _m2;
        private readonly long[]? _classCounts;

        public Accumulator(ColumnBinding binding)
        {
            _binding = binding;
            if (binding.Storage == StorageKind.Float32)
            {
                _mean = new double[binding.Width];
                _m2 = new double[binding.Width];
            }

            if (binding.Column.Conversion == BatchColumnConversion.BinaryTarget)
            {
                _classCounts = new long[2];
            }
            else if (binding.Column.Conversion == BatchColumnConversion.ClassIndex)
            {
                if (binding.ItemType is BooleanDataViewType)
                {
                    _classCounts = new long[2];
                }
                else if (binding.KeyCount <= MaximumCountedClasses)
                {
                    _classCounts = new long[(int)binding.KeyCount];
                }
            }
        }

        public void Add(RowStore store, long count)
        {
            int width = _binding.Width;
            if (_binding.Storage == StorageKind.Float32)
            {
                // Welford's update in double: stable for large counts and large offsets.
                var values = store.Floats[_binding.StorageIndex].AsSpan(0, width);
                var mean = _mean!;
                var m2 = _m2!;
                double inverseCount = 1.0 / count;
                for (int i = 0; i < values.Length; i++)
                {
                    double x = values[i];
                    double delta = x - mean[i];
                    mean[i] += delta * inverseCount;
                    m2[i] += delta * (x - mean[i]);
                }

                if (_classCounts is { } binary && _binding.Column.Conversion == BatchColumnConversion.BinaryTarget)
                {
                    foreach (float value in values)
                    {
                        binary[value > 0.5f ? 1 : 0]++;
                    }
                }
            }
            else if (_classCounts is { } counts)
            {
                foreach (long index in store.Longs[_binding.StorageIndex].AsSpan(0, width))
                {
                    counts[index]++;
                }
            }
        }

        public ColumnStatistics ToStatistics(long rows)
        {
            double[]? std = null;
            if (_mean is not null)
            {
                std = new double[_mean.Length];
                for (int i = 0; i < std.Length; i++)
                {
                    if (rows == 0)
                    {
                        _mean[i] = double.NaN;
                        std[i] = double.NaN;
                    }
                    else
                    {
                        std[i] = Math.Sqrt(_m2![i] / rows);
                    }
                }
            }

            return new ColumnStatistics(
                _binding.Column,
                _binding.Width,
                _mean,
                std,
                _classCounts,
                _binding.Column.Conversion == BatchColumnConversion.ClassIndex ? KeyValueNames.Read(_binding.SchemaColumn) : null);
        }
    }
}

/// <summary>The result of <see cref="DataViewStatistics.Compute(DataViewBatchSource, CancellationToken)"/>.</summary>
public sealed class DataStatistics
{
    internal DataStatistics(long rowCount, long skippedRowCount, IReadOnlyList<ColumnStatistics> columns)
    {
        RowCount = rowCount;
        SkippedRowCount = skippedRowCount;
        Columns = columns;
    }

    /// <summary>Rows counted (those a batch source would yield).</summary>
    public long RowCount { get; }

    /// <summary>Rows left out because of a missing value with <see cref="MissingValuePolicy.SkipRow"/>.</summary>
    public long SkippedRowCount { get; }

    /// <summary>Statistics per bound column, in binding order.</summary>
    public IReadOnlyList<ColumnStatistics> Columns { get; }

    /// <summary>The statistics of the column bound to <paramref name="role"/>.</summary>
    /// <exception cref="KeyNotFoundException">No column is bound to that role.</exception>
    public ColumnStatistics this[string role] => TryGet(role, out var statistics)
        ? statistics
        : throw new KeyNotFoundException($"No statistics for role '{role}'. Roles: {string.Join(", ", Columns.Select(c => c.Column.Role))}.");

    /// <summary>Gets the statistics of the column bound to <paramref name="role"/>, if any.</summary>
    public bool TryGet(string role, out ColumnStatistics statistics)
    {
        foreach (var column in Columns)
        {
            if (string.Equals(column.Column.Role, role, StringComparison.Ordinal))
            {
                statistics = column;
                return true;
            }
        }

        statistics = null!;
        return false;
    }
}

/// <summary>Statistics of one bound column.</summary>
public sealed class ColumnStatistics
{
    private readonly double[]? _mean;
    private readonly double[]? _standardDeviation;

    internal ColumnStatistics(BatchColumn column, int valuesPerRow, double[]? mean, double[]? standardDeviation, long[]? classCounts, string[]? classNames)
    {
        Column = column;
        ValuesPerRow = valuesPerRow;
        _mean = mean;
        _standardDeviation = standardDeviation;
        ClassCounts = classCounts;
        ClassNames = classNames;
        ObservedClassCount = classCounts?.Count(c => c > 0) ?? 0;
    }

    /// <summary>The binding these statistics describe.</summary>
    public BatchColumn Column { get; }

    /// <summary>Values per row (1 for a scalar column, the vector size otherwise).</summary>
    public int ValuesPerRow { get; }

    /// <summary>
    /// Per-value mean for <see cref="BatchColumnConversion.Float32"/> and
    /// <see cref="BatchColumnConversion.BinaryTarget"/> columns (for a binary target, the rate of
    /// positives); null for class indices; NaN when there are no rows.
    /// </summary>
    public IReadOnlyList<double>? Mean => _mean;

    /// <summary>
    /// Per-value population standard deviation (divided by the row count, as feature standardisation
    /// uses), alongside <see cref="Mean"/>.
    /// </summary>
    public IReadOnlyList<double>? StandardDeviation => _standardDeviation;

    /// <summary>
    /// Occurrences of each class for class-index columns (index = 0-based class, length = key count,
    /// or 2 for Boolean) and binary targets ([negatives, positives]); counted over every value of a
    /// vector column. Null for numeric columns and for keys with more than
    /// <see cref="DataViewStatistics.MaximumCountedClasses"/> classes.
    /// </summary>
    public IReadOnlyList<long>? ClassCounts { get; }

    /// <summary>The number of classes (the key count, or 2), when <see cref="ClassCounts"/> is present.</summary>
    public int? ClassCount => ClassCounts?.Count;

    /// <summary>The class names from the key column's KeyValues annotation, in class-index order, when present.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>How many classes occur at least once; below 2 a classifier cannot be trained.</summary>
    public int ObservedClassCount { get; }

    /// <summary>The means as <c>float</c>, for example for a standardisation layer.</summary>
    /// <exception cref="InvalidOperationException">The column has no means (it is a class-index column).</exception>
    public float[] GetMeanAsSingle() => ToSingle(_mean, nameof(Mean));

    /// <summary>The standard deviations as <c>float</c>, for example for a standardisation layer.</summary>
    /// <exception cref="InvalidOperationException">The column has no standard deviations (it is a class-index column).</exception>
    public float[] GetStandardDeviationAsSingle() => ToSingle(_standardDeviation, nameof(StandardDeviation));

    private float[] ToSingle(double[]? values, string what) =>
        values?.Select(v => (float)v).ToArray()
        ?? throw new InvalidOperationException($"Column '{Column.ColumnName}' (role '{Column.Role}') is converted with {Column.Conversion} and has no {what}.");
}
