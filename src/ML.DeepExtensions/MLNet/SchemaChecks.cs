using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.MLNet;

/// <summary>Column look-ups with messages that name the column, and schema-shape plumbing.</summary>
internal static class SchemaChecks
{
    /// <summary>The column, or an ArgumentException naming it and listing the columns there are.</summary>
    public static DataViewSchema.Column Find(DataViewSchema schema, string name, string role)
    {
        var column = schema.GetColumnOrNull(name);
        if (column is null || column.Value.IsHidden)
        {
            throw new ArgumentException(
                $"The {role} column '{name}' is not in the data. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({c.Type})"))}.",
                nameof(name));
        }

        return column.Value;
    }

    /// <summary>Checks a column exists in a schema shape (estimators' GetOutputSchema).</summary>
    public static SchemaShape.Column Find(SchemaShape schema, string name, string role)
    {
        foreach (var column in schema)
        {
            if (column.Name == name)
            {
                return column;
            }
        }

        throw new ArgumentException(
            $"The {role} column '{name}' is not in the input schema. Columns: {string.Join(", ", schema.Select(c => c.Name))}.", nameof(name));
    }

    /// <summary>
    /// The features column as a known-size vector of Single, as ML.NET's own trainers require, or an
    /// ArgumentException naming the column, its type and <paramref name="hint"/> (how to get there).
    /// </summary>
    public static VectorDataViewType SingleVector(DataViewSchema schema, string name, string hint)
    {
        var column = Find(schema, name, "features");
        if (column.Type is VectorDataViewType { IsKnownSize: true } vector && vector.ItemType == NumberDataViewType.Single)
        {
            return vector;
        }

        throw new ArgumentException(
            $"The features column '{name}' is {column.Type}, but the trainer needs a known-size vector of Single. {hint}", nameof(name));
    }

    /// <summary>The width of a tabular features column (see <see cref="SingleVector"/>).</summary>
    public static int FeatureWidth(DataViewSchema schema, string name) =>
        SingleVector(schema, name,
            "Build it with mlContext.Transforms.Concatenate(...) and, for other numeric types, mlContext.Transforms.Conversion.ConvertType(..., DataKind.Single).").Size;

    /// <summary>The input columns plus the given output columns (which shadow inputs of the same name).</summary>
    public static SchemaShape Append(SchemaShape input, IEnumerable<SchemaShape.Column> outputs)
    {
        var added = outputs.ToList();
        var kept = input.Where(c => !added.Any(a => a.Name == c.Name));
        return new SchemaShape(kept.Concat(added));
    }
}
