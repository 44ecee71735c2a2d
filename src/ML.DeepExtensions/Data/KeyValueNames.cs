using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Data;

/// <summary>Reads the values behind a key column's indices (its KeyValues annotation) as text.</summary>
internal static class KeyValueNames
{
    /// <summary>ML.NET's annotation kind for the values behind key indices (its constant is not public).</summary>
    public const string AnnotationKind = "KeyValues";

    /// <summary>The key values in key order as invariant-culture text, or null when the column has none of a supported type.</summary>
    public static string[]? Read(DataViewSchema.Column column)
    {
        if (column.Type is not KeyDataViewType
            || column.Annotations.Schema.GetColumnOrNull(AnnotationKind)?.Type is not VectorDataViewType { ItemType: { } itemType })
        {
            return null;
        }

        var annotations = column.Annotations;
        return Type.GetTypeCode(itemType.RawType) switch
        {
            _ when itemType is TextDataViewType => Read<ReadOnlyMemory<char>>(annotations, static v => v.ToString()),
            TypeCode.Single => Read<float>(annotations, static v => v.ToString(CultureInfo.InvariantCulture)),
            TypeCode.Double => Read<double>(annotations, static v => v.ToString(CultureInfo.InvariantCulture)),
            TypeCode.Int32 => Read<int>(annotations, static v => v.ToString(CultureInfo.InvariantCulture)),
            TypeCode.Int64 => Read<long>(annotations, static v => v.ToString(CultureInfo.InvariantCulture)),
            TypeCode.UInt32 => Read<uint>(annotations, static v => v.ToString(CultureInfo.InvariantCulture)),
            TypeCode.Boolean => Read<bool>(annotations, static v => v ? "True" : "False"),
            _ => null,
        };
    }

    private static string[] Read<T>(DataViewSchema.Annotations annotations, Func<T, string> format)
    {
        VBuffer<T> values = default;
        annotations.GetValue(AnnotationKind, ref values);
        var names = new string[values.Length];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = format(values.GetItemOrDefault(i)!);
        }

        return names;
    }
}
