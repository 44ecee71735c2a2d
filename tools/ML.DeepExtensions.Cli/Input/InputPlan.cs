using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Cli.Input;

/// <summary>How a value of a planned column is read from a record.</summary>
internal enum ValueKind
{
    Single,
    Double,
    Boolean,
    Text,
    SingleVector,
    DoubleVector,
}

/// <summary>A column of the data view read from the file: its type and the file fields it comes from.</summary>
internal sealed record PlannedColumn(string Name, DataViewType Type, ValueKind Kind, int[] Fields);

/// <summary>
/// Maps a model's input schema onto a file's columns. A scalar model column is read from the file
/// column of the same name; a vector column of size F from the F columns <c>Name.0</c> ...
/// <c>Name.{F-1}</c> (the names <c>score</c> writes for vectors, too). Only the columns the model
/// needs are read, plus the ones asked to be kept (as text).
/// </summary>
internal static class InputPlan
{
    public static List<PlannedColumn> Create(ITransformer model, DataViewSchema modelInput, RecordReader reader, string path, IReadOnlyList<string> keep)
    {
        var index = reader.Columns.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var plan = new List<PlannedColumn>();
        foreach (var column in RequiredColumns(model, modelInput))
        {
            plan.Add(Plan(column, index, reader, path));
        }

        foreach (var name in keep)
        {
            if (plan.Any(p => p.Name == name))
            {
                continue;
            }

            if (!index.TryGetValue(name, out int field))
            {
                throw CliException.Input($"--keep names column '{name}', which '{path}' does not have. Its columns: {Preview(reader.Columns)}.");
            }

            plan.Add(new PlannedColumn(name, TextDataViewType.Instance, ValueKind.Text, [field]));
        }

        if (reader is ParquetRecordReader parquet)
        {
            foreach (int field in plan.SelectMany(p => p.Fields))
            {
                parquet.Want(field);
            }
        }

        return plan;
    }

    /// <summary>The model's input columns it cannot do without: dropping one from the schema makes the model's schema check fail.</summary>
    public static List<DataViewSchema.Column> RequiredColumns(ITransformer model, DataViewSchema modelInput)
    {
        var required = new List<DataViewSchema.Column>();
        foreach (var column in modelInput.Where(c => !c.IsHidden))
        {
            var builder = new DataViewSchema.Builder();
            foreach (var other in modelInput.Where(c => !c.IsHidden && c.Index != column.Index))
            {
                builder.AddColumn(other.Name, other.Type, other.Annotations);
            }

            try
            {
                model.GetOutputSchema(builder.ToSchema());
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                required.Add(column);
            }
        }

        return required;
    }

    private static PlannedColumn Plan(DataViewSchema.Column column, Dictionary<string, int> index, RecordReader reader, string path)
    {
        var type = column.Type;
        if (type is VectorDataViewType vector)
        {
            var kind = vector.ItemType == NumberDataViewType.Single ? ValueKind.SingleVector
                : vector.ItemType == NumberDataViewType.Double ? ValueKind.DoubleVector
                : throw Unreadable(column);
            if (!vector.IsKnownSize)
            {
                throw Unreadable(column);
            }

            var fields = new int[vector.Size];
            for (int i = 0; i < fields.Length; i++)
            {
                if (!index.TryGetValue($"{column.Name}.{i}", out fields[i]))
                {
                    if (vector.Size == 1 && index.TryGetValue(column.Name, out int single))
                    {
                        return Checked(new PlannedColumn(column.Name, type, kind, [single]), reader);
                    }

                    throw CliException.Input(
                        $"The model needs column '{column.Name}' ({type}): {vector.Size} values in file columns '{column.Name}.0' to '{column.Name}.{vector.Size - 1}', "
                        + $"but '{path}' has no column '{column.Name}.{i}'. Its columns: {Preview(reader.Columns)}.");
                }
            }

            return Checked(new PlannedColumn(column.Name, type, kind, fields), reader);
        }

        var scalar = type == NumberDataViewType.Single ? ValueKind.Single
            : type == NumberDataViewType.Double ? ValueKind.Double
            : type == BooleanDataViewType.Instance ? ValueKind.Boolean
            : type is TextDataViewType ? ValueKind.Text
            : throw Unreadable(column);
        if (!index.TryGetValue(column.Name, out int field))
        {
            throw CliException.Input($"The model needs column '{column.Name}' ({type}), but '{path}' has no column of that name. Its columns: {Preview(reader.Columns)}.");
        }

        return Checked(new PlannedColumn(column.Name, type, scalar, [field]), reader);
    }

    /// <summary>Parquet columns carry types: a column of the wrong type is refused before any row is read.</summary>
    private static PlannedColumn Checked(PlannedColumn column, RecordReader reader)
    {
        if (reader is ParquetRecordReader parquet)
        {
            foreach (int field in column.Fields)
            {
                var clr = parquet.ClrType(field);
                bool numeric = clr == typeof(float) || clr == typeof(double) || clr == typeof(int) || clr == typeof(long);
                bool fits = column.Kind switch
                {
                    ValueKind.Boolean => clr == typeof(bool),
                    ValueKind.Text => true,
                    _ => numeric,
                };
                if (parquet.IsList(field) || !fits)
                {
                    throw CliException.Input(
                        $"Parquet column '{reader.Columns[field]}' has type {(parquet.IsList(field) ? "list of " : "")}{ParquetRecordReader.TypeName(clr)}, but the model's column '{column.Name}' needs {column.Type}.");
                }
            }
        }

        return column;
    }

    private static CliException Unreadable(DataViewSchema.Column column) =>
        CliException.Input($"The model's input column '{column.Name}' has type {column.Type}, which cannot be read from a file (supported: Single, Double, Boolean, String and known-size vectors of Single or Double).");

    internal static string Preview(IReadOnlyList<string> columns) =>
        columns.Count <= 12 ? string.Join(", ", columns) : string.Join(", ", columns.Take(12)) + $", ... ({columns.Count} in all)";
}
