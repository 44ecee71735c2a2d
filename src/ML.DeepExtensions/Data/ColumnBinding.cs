using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Data;

/// <summary>Where a binding's values live in a <see cref="RowStore"/>: float32 or int64 arrays.</summary>
internal enum StorageKind
{
    Float32,
    Int64,
}

/// <summary>
/// A <see cref="BatchColumn"/> checked against a schema: the column exists, its type converts, and the
/// declared shape fits. All type errors surface here, before any cursor is opened.
/// </summary>
internal sealed class ColumnBinding
{
    private ColumnBinding(
        BatchColumn column,
        DataViewSchema.Column schemaColumn,
        PrimitiveDataViewType itemType,
        bool isVector,
        int width,
        long[] rowShape,
        StorageKind storage,
        ulong keyCount)
    {
        Column = column;
        SchemaColumn = schemaColumn;
        ItemType = itemType;
        IsVector = isVector;
        Width = width;
        RowShape = rowShape;
        Storage = storage;
        KeyCount = keyCount;
    }

    public BatchColumn Column { get; }

    public string Role => Column.Role;

    public string ColumnName => Column.ColumnName;

    public DataViewSchema.Column SchemaColumn { get; }

    /// <summary>The scalar type, or the item type of a vector column.</summary>
    public PrimitiveDataViewType ItemType { get; }

    public bool IsVector { get; }

    /// <summary>Values per row.</summary>
    public int Width { get; }

    /// <summary>Shape of one row's values, without the batch dimension (empty for a plain scalar).</summary>
    public long[] RowShape { get; }

    public StorageKind Storage { get; }

    /// <summary>Index among the bindings of the same <see cref="Storage"/> kind.</summary>
    public int StorageIndex { get; set; }

    /// <summary>The key count of a key column, otherwise 0.</summary>
    public ulong KeyCount { get; }

    public int BytesPerRow => Width * (Storage == StorageKind.Float32 ? sizeof(float) : sizeof(long));

    public string Describe() => $"column '{ColumnName}' (role '{Role}')";

    /// <summary>Resolves every column and assigns storage indices; rejects duplicate roles.</summary>
    public static ColumnBinding[] ResolveAll(DataViewSchema schema, IReadOnlyList<BatchColumn> columns, string paramName)
    {
        ArgumentNullException.ThrowIfNull(columns, paramName);
        if (columns.Count == 0)
        {
            throw new ArgumentException("At least one column binding is needed.", paramName);
        }

        var bindings = new ColumnBinding[columns.Count];
        var roles = new HashSet<string>(StringComparer.Ordinal);
        int floats = 0, longs = 0;
        for (int i = 0; i < columns.Count; i++)
        {
            var binding = Resolve(schema, columns[i], paramName);
            if (!roles.Add(binding.Role))
            {
                throw new ArgumentException($"The role '{binding.Role}' is bound twice; each tensor name in a batch must be unique.", paramName);
            }

            binding.StorageIndex = binding.Storage == StorageKind.Float32 ? floats++ : longs++;
            bindings[i] = binding;
        }

        return bindings;
    }

    public static ColumnBinding Resolve(DataViewSchema schema, BatchColumn column, string paramName)
    {
        if (column is null)
        {
            throw new ArgumentException("A column binding is null.", paramName);
        }

        if (string.IsNullOrWhiteSpace(column.Role))
        {
            throw new ArgumentException($"The binding of column '{column.ColumnName}' has an empty Role; the role becomes the tensor name.", paramName);
        }

        if (string.IsNullOrEmpty(column.ColumnName))
        {
            throw new ArgumentException($"The binding for role '{column.Role}' has an empty ColumnName.", paramName);
        }

        if (!Enum.IsDefined(column.Conversion))
        {
            throw new ArgumentException($"The binding for role '{column.Role}' has an unknown conversion {column.Conversion}.", paramName);
        }

        var schemaColumn = schema.GetColumnOrNull(column.ColumnName)
            ?? throw new ArgumentException(
                $"The data view has no column named '{column.ColumnName}' (bound to role '{column.Role}'). " +
                $"Available columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})"))}.",
                paramName);

        var type = schemaColumn.Type;
        string where = $"Column '{column.ColumnName}' (role '{column.Role}')";
        if (column.Conversion == BatchColumnConversion.TokenIds)
        {
            return ResolveTokens(column, schemaColumn, where, paramName);
        }

        PrimitiveDataViewType? item;
        bool isVector;
        int width;
        if (type is VectorDataViewType vector)
        {
            if (!vector.IsKnownSize)
            {
                throw new ArgumentException(
                    $"{where} is a variable-size vector ({type}), but every row of a batch needs the same number of values. " +
                    "Produce a fixed-size vector instead, for example with mlContext.Transforms.Concatenate over scalar columns, " +
                    "ResizeImages followed by ExtractPixels for images, or a transform that pads or truncates to a fixed length.",
                    paramName);
            }

            item = vector.ItemType;
            isVector = true;
            width = vector.Size;
        }
        else
        {
            item = type as PrimitiveDataViewType;
            isVector = false;
            width = 1;
        }

        var storage = CheckConversion(where, type, item, column.Conversion, paramName);
        ulong keyCount = item is KeyDataViewType key ? key.Count : 0;

        long[] rowShape;
        if (column.Shape is { } shape)
        {
            long product = 1;
            foreach (long dim in shape)
            {
                if (dim <= 0)
                {
                    throw new ArgumentException($"{where}: the declared Shape [{FormatShape(shape)}] has a dimension that is not positive.", paramName);
                }

                product = product > int.MaxValue ? product : product * dim;
            }

            if (product != width)
            {
                throw new ArgumentException(
                    $"{where}: the declared Shape [{FormatShape(shape)}] holds {product.ToString(CultureInfo.InvariantCulture)} values, " +
                    $"but the column has {width.ToString(CultureInfo.InvariantCulture)} value(s) per row ({type}). " +
                    "The product of the shape must equal the number of values per row.",
                    paramName);
            }

            rowShape = (long[])shape.Clone();
        }
        else
        {
            rowShape = isVector ? [width] : [];
        }

        return new ColumnBinding(column, schemaColumn, item!, isVector, width, rowShape, storage, keyCount);
    }

    private static ColumnBinding ResolveTokens(BatchColumn column, DataViewSchema.Column schemaColumn, string where, string paramName)
    {
        if (schemaColumn.Type is not VectorDataViewType { ItemType: KeyDataViewType key })
        {
            throw new ArgumentException(
                $"{where} is {schemaColumn.Type}, but token ids need a key vector. Tokenize and map the text first, e.g. "
                + $"mlContext.Transforms.Text.TokenizeIntoWords(\"{column.ColumnName}\", \"Text\") followed by mlContext.Transforms.Conversion.MapValueToKey(\"{column.ColumnName}\").",
                paramName);
        }

        if (column.Shape is not [> 0 and <= int.MaxValue])
        {
            throw new ArgumentException($"{where}: token ids need Shape [MaxLength] with one positive length; got [{FormatShape(column.Shape ?? [])}].", paramName);
        }

        if (!Enum.IsDefined(column.Truncation))
        {
            throw new ArgumentException($"{where}: unknown truncation {column.Truncation}.", paramName);
        }

        int width = (int)column.Shape[0];
        return new ColumnBinding(column, schemaColumn, key, isVector: true, width, [width], StorageKind.Int64, key.Count);
    }

    internal static string FormatShape(IEnumerable<long> shape) =>
        string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    private static StorageKind CheckConversion(string where, DataViewType type, PrimitiveDataViewType? item, BatchColumnConversion conversion, string paramName)
    {
        bool isKey = item is KeyDataViewType;
        bool isBool = item is BooleanDataViewType;
        bool isNumber = item is NumberDataViewType;
        bool isFloating = isNumber && (item!.RawType == typeof(float) || item.RawType == typeof(double));
        switch (conversion)
        {
            case BatchColumnConversion.Float32:
                if (isNumber || isBool)
                {
                    return StorageKind.Float32;
                }

                if (isKey)
                {
                    throw new ArgumentException(
                        $"{where} is a key column ({type}); a key is a category, not a number. " +
                        "Bind it with BatchColumnConversion.ClassIndex to get class indices, or use " +
                        "mlContext.Transforms.Categorical.OneHotEncoding or MapKeyToValue to make features from it.",
                        paramName);
                }

                throw new ArgumentException(
                    $"{where} has type {type}, which cannot become a float32 tensor. Supported are Single, Double, " +
                    "SByte, Byte, Int16, UInt16, Int32, UInt32, Int64, UInt64 and Boolean scalars or known-size vectors. " +
                    "Convert the column first, for example with mlContext.Transforms.Conversion.ConvertType, " +
                    "Text.FeaturizeText or Categorical.OneHotEncoding for text, and Concatenate to gather several columns.",
                    paramName);

            case BatchColumnConversion.ClassIndex:
                if (isKey || isBool)
                {
                    return StorageKind.Int64;
                }

                throw new ArgumentException(
                    $"{where} has type {type}, but class indices need a key column (or Boolean). " +
                    "Map the labels to a key with mlContext.Transforms.Conversion.MapValueToKey.",
                    paramName);

            default:
                if (isBool || isFloating)
                {
                    return StorageKind.Float32;
                }

                throw new ArgumentException(
                    $"{where} has type {type}, but a binary target needs a Boolean column, or Single/Double holding 0 and 1. " +
                    "Convert it, for example with mlContext.Transforms.Conversion.ConvertType to Boolean, " +
                    "or use a CustomMapping that compares the value with the positive class.",
                    paramName);
        }
    }
}
