using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Cli.Output;

/// <summary>
/// Reads the chosen columns of a scored row and writes them as flat cells: a key with class names
/// as its name, a vector as one field per slot (<c>Score.{class}</c> when the vector has slot names,
/// <c>Name.{i}</c> otherwise).
/// </summary>
internal abstract class OutputColumn
{
    public abstract IReadOnlyList<OutputField> Fields { get; }

    public abstract void Write(TableWriter writer);

    private static readonly string[] ConventionalColumns = ["PredictedLabel", "Score", "Probability"];

    /// <summary>The default output: the conventional scorer columns the model has.</summary>
    public static List<string> DefaultNames(DataViewSchema scored) =>
        ConventionalColumns.Where(n => scored.GetColumnOrNull(n) is { IsHidden: false }).ToList();

    public static List<OutputColumn> Create(DataViewRowCursor cursor, IEnumerable<string> names)
    {
        var columns = new List<OutputColumn>();
        foreach (var name in names)
        {
            var column = cursor.Schema.GetColumnOrNull(name)
                ?? throw CliException.Input($"There is no column '{name}' to write. The scored data has: {string.Join(", ", cursor.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
            columns.Add(Create(cursor, column));
        }

        var duplicate = columns.SelectMany(c => c.Fields).GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw CliException.Input($"Two output columns would both be named '{duplicate.Key}'; choose other --columns or --keep.");
        }

        return columns;
    }

    public static IEnumerable<DataViewSchema.Column> Needed(DataViewSchema schema, IEnumerable<string> names) =>
        names.Select(n => schema.GetColumnOrNull(n)).Where(c => c is not null).Select(c => c!.Value);

    private static OutputColumn Create(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var type = column.Type;
        if (type is KeyDataViewType key)
        {
            var names = KeyNames(column);
            return new Scalar<uint>(cursor, column, names is null ? CellType.Int64 : CellType.Text, (w, v) =>
            {
                if (names is null)
                {
                    w.Int64(v);
                }
                else
                {
                    w.Text(v == 0 || v > names.Length ? "" : names[v - 1]);
                }
            });
        }

        if (type is VectorDataViewType vector && vector.IsKnownSize)
        {
            var slots = SlotNames(column, vector.Size);
            var raw = vector.ItemType.RawType;
            if (raw == typeof(float))
            {
                return new Vector<float>(cursor, column, slots, CellType.Single, (w, v) => w.Single(v));
            }

            if (raw == typeof(double))
            {
                return new Vector<double>(cursor, column, slots, CellType.Double, (w, v) => w.Double(v));
            }

            if (raw == typeof(ReadOnlyMemory<char>))
            {
                return new Vector<ReadOnlyMemory<char>>(cursor, column, slots, CellType.Text, (w, v) => w.Text(v.ToString()));
            }
        }

        return type.RawType switch
        {
            var t when t == typeof(float) => new Scalar<float>(cursor, column, CellType.Single, (w, v) => w.Single(v)),
            var t when t == typeof(double) => new Scalar<double>(cursor, column, CellType.Double, (w, v) => w.Double(v)),
            var t when t == typeof(bool) => new Scalar<bool>(cursor, column, CellType.Boolean, (w, v) => w.Boolean(v)),
            var t when t == typeof(int) => new Scalar<int>(cursor, column, CellType.Int64, (w, v) => w.Int64(v)),
            var t when t == typeof(long) => new Scalar<long>(cursor, column, CellType.Int64, (w, v) => w.Int64(v)),
            var t when t == typeof(uint) => new Scalar<uint>(cursor, column, CellType.Int64, (w, v) => w.Int64(v)),
            var t when t == typeof(ReadOnlyMemory<char>) => new Scalar<ReadOnlyMemory<char>>(cursor, column, CellType.Text, (w, v) => w.Text(v.ToString())),
            _ => throw CliException.Input($"Column '{column.Name}' has type {type}, which cannot be written to a file."),
        };
    }

    private static string[]? KeyNames(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is not VectorDataViewType { ItemType: TextDataViewType })
        {
            return null;
        }

        VBuffer<ReadOnlyMemory<char>> values = default;
        column.Annotations.GetValue("KeyValues", ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    private static string[] SlotNames(DataViewSchema.Column column, int size)
    {
        var names = Enumerable.Range(0, size).Select(i => $"{column.Name}.{i}").ToArray();
        if (column.Annotations.Schema.GetColumnOrNull("SlotNames")?.Type is VectorDataViewType { ItemType: TextDataViewType, Size: var n } && n == size)
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            column.Annotations.GetValue("SlotNames", ref values);
            var slots = values.DenseValues().Select(v => v.ToString()).ToArray();
            if (slots.All(s => s.Length > 0) && slots.Distinct().Count() == size)
            {
                names = slots.Select(s => $"{column.Name}.{s}").ToArray();
            }
        }

        return names;
    }

    private sealed class Scalar<T>(DataViewRowCursor cursor, DataViewSchema.Column column, CellType type, Action<TableWriter, T> write) : OutputColumn
    {
        private readonly ValueGetter<T> _getter = cursor.GetGetter<T>(column);
        private T _value = default!;

        public override IReadOnlyList<OutputField> Fields { get; } = [new OutputField(column.Name, type)];

        public override void Write(TableWriter writer)
        {
            _getter(ref _value);
            write(writer, _value);
        }
    }

    private sealed class Vector<T>(DataViewRowCursor cursor, DataViewSchema.Column column, string[] slots, CellType type, Action<TableWriter, T> write) : OutputColumn
    {
        private readonly ValueGetter<VBuffer<T>> _getter = cursor.GetGetter<VBuffer<T>>(column);
        private VBuffer<T> _value;

        public override IReadOnlyList<OutputField> Fields { get; } = slots.Select(s => new OutputField(s, type)).ToArray();

        public override void Write(TableWriter writer)
        {
            _getter(ref _value);
            if (_value.IsDense)
            {
                foreach (var v in _value.GetValues())
                {
                    write(writer, v);
                }
            }
            else
            {
                foreach (var v in _value.DenseValues())
                {
                    write(writer, v);
                }
            }
        }
    }
}
